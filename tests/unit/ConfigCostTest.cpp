// The configuration pricing (passes/Planner/ConfigCost.h) on hand-made
// split figures: the schedule's bubble, ZeRO's memory per level, the
// recompute trade, the choice's gain rule, and the spec text.
#include "passes/Planner/ConfigCost.h"
#include "passes/Planner/ConfigSearch.h"
#include "passes/Planner/Configuration.h"
#include "passes/Sharding/SearchIlp.h"

#include "RoundCluster.h"

#include <catch2/catch.hpp>

using namespace mlir::cleave;

namespace {

/// The round cluster with `devices` devices on its one node.
Cluster roundCluster(int64_t devices) {
  Cluster cluster = test::makeRoundCluster();
  cluster.devicesPerNode = devices;
  return cluster;
}

/// `chunks` chunks of forward `f` and backward `b` seconds (global batch,
/// one device), one per stage unless `stages` says fewer.
ChunkFigures uniformChunks(int64_t chunks, int64_t stages, double f, double b) {
  ChunkFigures figures;
  figures.forwardSeconds.assign(chunks, f);
  figures.backwardSeconds.assign(chunks, b);
  figures.updateSeconds.assign(chunks, 0.0);
  figures.activationBytes.assign(chunks, 0);
  figures.cutBytes.assign(chunks - 1, 0);
  figures.stageWeightBytes.assign(stages, 0);
  figures.stageGradientBytes.assign(stages, 0);
  figures.stageOptimizerBytes.assign(stages, 0);
  return figures;
}

PricedConfiguration price(const Configuration &config, const ChunkFigures &chunks,
                          const RecomputeFigures &recompute = {}) {
  llvm::Expected<PricedConfiguration> priced = priceConfiguration(
      config, chunks, SubGridFigures(), recompute, roundCluster(config.devices()));
  if (!priced)
    FAIL(llvm::toString(priced.takeError()));
  return *priced;
}

} // namespace

TEST_CASE("configuration cost: 1F1B's bubble is (S - 1) / (M + S - 1) of the step", "[planner]") {
  // Per micro-batch (M = 4): forward 1 s, backward 2 s per stage.
  ChunkFigures chunks = uniformChunks(2, 2, 4.0, 8.0);
  Configuration config;
  config.pp = 2;
  config.microBatches = 4;
  PricedConfiguration priced = price(config, chunks);
  // (M + S - 1) x (f + b) = 5 x 3 s, plus a microsecond per transfer.
  CHECK(priced.stepSeconds == Approx(15.0).epsilon(1e-5));
  CHECK(priced.computeSeconds == Approx(12.0));
  CHECK(priced.bubbleSeconds == Approx(3.0).epsilon(1e-5));
  // More micro-batches shrink the bubble's share.
  config.microBatches = 8;
  CHECK(price(config, chunks).bubbleSeconds == Approx(1.5).epsilon(1e-5));
  // One stage has none.
  ChunkFigures one = uniformChunks(1, 1, 8.0, 16.0);
  Configuration single;
  single.microBatches = 4;
  CHECK(price(single, one).stepSeconds == Approx(24.0));
  CHECK(price(single, one).bubbleSeconds == Approx(0.0));
}

TEST_CASE("configuration cost: ZeRO divides optimizer state, gradients, then parameters by dp",
          "[planner]") {
  ChunkFigures chunks = uniformChunks(1, 1, 1.0, 2.0);
  chunks.stageWeightBytes = {400'000};
  chunks.stageGradientBytes = {400'000};
  chunks.stageOptimizerBytes = {800'000};
  Configuration config;
  config.dp = 4;
  std::vector<double> memory, sync;
  for (int zero = 0; zero <= 3; ++zero) {
    config.zero = zero;
    PricedConfiguration priced = price(config, chunks);
    memory.push_back(priced.memoryBytes);
    sync.push_back(priced.dataParallelSeconds);
  }
  CHECK(memory[0] == 1'600'000);
  CHECK(memory[1] == 400'000 + 400'000 + 200'000);
  CHECK(memory[2] == 400'000 + 100'000 + 200'000);
  CHECK(memory[3] == 100'000 + 100'000 + 200'000);
  // 1.6 MB does not fit the 1 MB devices (90% usable); ZeRO-3 does.
  config.zero = 0;
  CHECK_FALSE(price(config, chunks).fits);
  config.zero = 3;
  CHECK(price(config, chunks).fits);
  // ZeRO-1 adds the parameters' all-gather to the gradients' all-reduce;
  // ZeRO-3 gathers them again in every micro-batch's forward and backward.
  CHECK(sync[1] > sync[0]);
  CHECK(sync[3] > sync[2]);
  config.microBatches = 4;
  CHECK(price(config, chunks).dataParallelSeconds > sync[3]);
}

TEST_CASE("configuration cost: recomputation trades activation memory for forward time",
          "[planner]") {
  ChunkFigures chunks = uniformChunks(1, 1, 1.0, 2.0);
  chunks.activationBytes = {400'000};
  Configuration config;
  PricedConfiguration kept = price(config, chunks);
  // The stash plus one micro-batch being worked on.
  CHECK(kept.memoryBytes == 800'000);
  CHECK(kept.stepSeconds == Approx(3.0));
  config.recompute = RecomputeMode::full;
  PricedConfiguration recomputed = price(config, chunks, RecomputeFigures{0.25, 1.0});
  CHECK(recomputed.memoryBytes == 100'000 + 400'000);
  CHECK(recomputed.stepSeconds == Approx(4.0));
  CHECK(recomputed.recomputeSeconds == Approx(1.0));
}

TEST_CASE("configuration cost: the cut's transfer is paid on the link it crosses", "[planner]") {
  ChunkFigures chunks = uniformChunks(2, 2, 0.0, 0.0);
  chunks.cutBytes = {1'000'000}; // 1 ms per micro-batch at 1 GB/s
  Configuration config;
  config.pp = 2;
  Cluster cluster = roundCluster(2);
  cluster.interNode = {1e6, 1e-6}; // 1000 times slower
  llvm::Expected<PricedConfiguration> sameNode =
      priceConfiguration(config, chunks, SubGridFigures(), RecomputeFigures(), cluster);
  cluster.devicesPerNode = 1;
  cluster.nodes = 2;
  llvm::Expected<PricedConfiguration> acrossNodes =
      priceConfiguration(config, chunks, SubGridFigures(), RecomputeFigures(), cluster);
  REQUIRE(static_cast<bool>(sameNode));
  REQUIRE(static_cast<bool>(acrossNodes));
  // Forward and backward each cross once.
  CHECK(sameNode->stepSeconds == Approx(2 * (1e-3 + 1e-6)));
  CHECK(acrossNodes->stepSeconds == Approx(2 * (1.0 + 1e-6)));
}

TEST_CASE("configuration choice: more machinery must gain kMinSearchGain; ZeRO only when needed",
          "[planner]") {
  auto priced = [](const char *spec, double seconds, double bytes, bool fits) {
    PricedConfiguration configuration;
    llvm::Expected<Configuration> parsed = parseConfiguration(spec);
    REQUIRE(static_cast<bool>(parsed));
    configuration.config = *parsed;
    configuration.stepSeconds = seconds;
    configuration.memoryBytes = bytes;
    configuration.fits = fits;
    return configuration;
  };
  auto choose = [](std::vector<PricedConfiguration> all) {
    ConfigSearchResult result;
    chooseConfiguration(std::move(all), result);
    return formatConfiguration(result.best.config);
  };
  double tie = 1.0 - kMinSearchGain / 2, gain = 1.0 - 2 * kMinSearchGain;
  // The pipeline is listed first but has more machinery.
  CHECK(choose({priced("pp=2,dp=2 micro-batches=4", tie, 1, true), priced("dp=4", 1.0, 1, true)}) ==
        "dp=4");
  CHECK(choose({priced("pp=2,dp=2 micro-batches=4", gain, 1, true),
                priced("dp=4", 1.0, 1, true)}) == "pp=2,dp=2 micro-batches=4");
  // ZeRO wins only when nothing without it fits.
  CHECK(choose({priced("dp=4", 1.0, 1, true), priced("dp=4 zero=2", 0.5, 1, true)}) == "dp=4");
  CHECK(choose({priced("dp=4", 1.0, 9, false), priced("dp=4 zero=2", 2.0, 1, true)}) ==
        "dp=4 zero=2");
  // Nothing fits: the least memory.
  CHECK(choose({priced("dp=4", 1.0, 9, false), priced("pp=2,dp=2 micro-batches=2", 2.0, 5,
                                                      false)}) == "pp=2,dp=2 micro-batches=2");
}

TEST_CASE("configuration spec: parse and format round-trip; bad tokens are named", "[planner]") {
  llvm::Expected<Configuration> megatron =
      parseConfiguration("pp=8,tp=8 micro-batches=128 recompute=full");
  REQUIRE(static_cast<bool>(megatron));
  CHECK(megatron->pp == 8);
  CHECK(megatron->dp == 1);
  CHECK(megatron->tp == 8);
  CHECK(megatron->microBatches == 128);
  CHECK(megatron->recompute == RecomputeMode::full);
  CHECK(megatron->devices() == 64);
  CHECK(formatConfiguration(*megatron) == "pp=8,tp=8 micro-batches=128 recompute=full");
  const char *full = "pp=2,dp=2,tp=2 micro-batches=8 schedule=interleaved virtual-stages=2 "
                     "recompute=selective zero=1 sequence-parallel=on";
  llvm::Expected<Configuration> parsed = parseConfiguration(full);
  REQUIRE(static_cast<bool>(parsed));
  CHECK(formatConfiguration(*parsed) == full);
  // The old --compare form.
  llvm::Expected<Configuration> old = parseConfiguration("dp=2,tp=4 zero=3");
  REQUIRE(static_cast<bool>(old));
  CHECK(old->zero == 3);
  auto error = [](const char *spec) {
    llvm::Expected<Configuration> bad = parseConfiguration(spec);
    REQUIRE_FALSE(static_cast<bool>(bad));
    return llvm::toString(bad.takeError());
  };
  CHECK_THAT(error("dp=2 zero=4"), Catch::Contains("zero=4: use 0, 1, 2 or 3"));
  CHECK_THAT(error("data=2"), Catch::Contains("grid axis 'data'"));
  CHECK_THAT(error("dp=2 recompute=some"), Catch::Contains("use none, selective or full"));
  CHECK_THAT(error("pp=2 virtual-stages=2"), Catch::Contains("needs schedule=interleaved"));
  CHECK_THAT(error("dp=0"), Catch::Contains("positive integer"));
  CHECK_THAT(error("dp=2 speed=fast"), Catch::Contains("unknown token 'speed=fast'"));
}

TEST_CASE("configuration cost: the gradient all-reduce hides behind the backward", "[planner]") {
  // dp=4 on the round cluster (1 GB/s, 1 us, MPI's ring): 60 MB of
  // gradients (3 buckets of at most 25 MiB) all-reduced in
  // 2 * 3/4 * 60e6 / 1e9 + 6 us = 90.006 ms; the backward on one device is
  // 2 s / 4 = 0.5 s, forward 0.25 s.
  ChunkFigures chunks = uniformChunks(1, 1, 1.0, 2.0);
  chunks.stageGradientBytes = {60'000'000};
  Configuration config;
  config.dp = 4;
  llvm::Expected<PricedConfiguration> blocking = priceConfiguration(
      config, chunks, SubGridFigures(), RecomputeFigures(), roundCluster(4), /*overlap=*/false);
  REQUIRE(static_cast<bool>(blocking));
  CHECK(blocking->dataParallelSeconds == Approx(90.006e-3));
  CHECK(blocking->exposedDataParallelSeconds == Approx(90.006e-3));
  CHECK(blocking->stepSeconds == Approx(0.75 + 90.006e-3));
  // Overlapped: three buckets of 30.002 ms posted a third of the way
  // through the backward each, the last at its end: only the last is
  // exposed.
  PricedConfiguration overlapped = price(config, chunks);
  CHECK(overlapped.dataParallelSeconds == Approx(90.006e-3));
  CHECK(overlapped.exposedDataParallelSeconds == Approx(90.006e-3 / 3));
  CHECK(overlapped.stepSeconds == Approx(0.75 + 90.006e-3 / 3));
}

TEST_CASE("configuration cost: each micro-batch pays its kernels' fixed cost", "[planner]") {
  // Forward 1 s and backward 2 s for the whole batch in one call of each
  // kernel; 100 and 200 kernels with a fixed 1 ms each per call (docs/benchmarks.md: gpt_small on
  // one CPU rank is slower with 4 micro-batches than with 1).
  ChunkFigures chunks = uniformChunks(1, 1, 1.0, 2.0);
  chunks.forwardKernels = {100};
  chunks.backwardKernels = {200};
  Cluster cluster = roundCluster(1);
  cluster.kernelLaunch = 1e-3;
  Configuration config;
  auto step = [&](int64_t m) {
    config.microBatches = m;
    llvm::Expected<PricedConfiguration> priced =
        priceConfiguration(config, chunks, SubGridFigures(), RecomputeFigures(), cluster);
    REQUIRE(static_cast<bool>(priced));
    return priced->stepSeconds;
  };
  // M = 1: the priced 1 + 2 s hold the kernels' fixed 0.3 s once already.
  CHECK(step(1) == Approx(3.0));
  // M = 4: 4 x ((1 + 2 - 0.3) / 4 + 0.3): the work divides, the 0.3 s per
  // micro-batch does not; 4 x (0.675 + 0.3) = 3.9.
  CHECK(step(4) == Approx(3.9));
  // Two stages of one chunk each, M = 4: per micro-batch and stage
  // (1.5 - 0.15) / 4 + 0.15 = 0.4875 s; 1F1B's makespan (M + S - 1) x it.
  ChunkFigures two = uniformChunks(2, 2, 0.5, 1.0);
  two.forwardKernels = {50, 50};
  two.backwardKernels = {100, 100};
  Cluster pair = roundCluster(2);
  pair.kernelLaunch = 1e-3;
  config.pp = 2;
  config.microBatches = 4;
  llvm::Expected<PricedConfiguration> piped =
      priceConfiguration(config, two, SubGridFigures(), RecomputeFigures(), pair);
  REQUIRE(static_cast<bool>(piped));
  CHECK(piped->stepSeconds == Approx(5 * 0.4875));
  config.pp = 1;
  // Without a fixed cost M changes nothing on one stage.
  cluster.kernelLaunch = 0;
  CHECK(step(4) == Approx(3.0));
}
