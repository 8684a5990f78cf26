// How cleave-pipeline-split prices what crosses between stages
// (passes/Pipeline/SplitFigures.h): a message is the collective model's
// send-recv on the link between the stages' first ranks, and a shared
// parameter's partial gradients wait in line on their link before the
// owner's backward. Figures worked out by hand below.
#include "passes/Pipeline/SplitFigures.h"

#include <catch2/catch.hpp>

using namespace mlir::cleave;

namespace {
/// 2 nodes x 2 devices: 1 GB/s and 1 us inside a node, 100 MB/s and 10 us
/// between nodes, collectives at half the bandwidth.
Cluster makeTwoNodeCluster() {
  Cluster cluster;
  cluster.name = "two-nodes";
  cluster.nodes = 2;
  cluster.devicesPerNode = 2;
  cluster.peakFlops = {1e12, 1e12, 1e12};
  cluster.memoryBandwidth = 1e11;
  cluster.memoryCapacity = 1'000'000;
  cluster.intraNode = {1e9, 1e-6};
  cluster.interNode = {1e8, 1e-5};
  cluster.collectiveEfficiency = 0.5;
  return cluster;
}
} // namespace

TEST_CASE("stageTransferSeconds prices the link between the stages' ranks", "[pipeline-split]") {
  Cluster cluster = makeTwoNodeCluster();
  // 2 devices per stage: stage 1 is ranks 2, 3 (node 1): 10 us + 1000 B at 50 MB/s.
  CHECK(stageTransferSeconds(cluster, 2, 0, 1, 1000) == Approx(1e-5 + 2e-5));
  CHECK(stageTransferSeconds(cluster, 2, 1, 0, 1000) == Approx(1e-5 + 2e-5));
  // 1 device per stage: stages 0 and 1 share node 0 (1 us + 1000 B at
  // 500 MB/s), stages 1 and 2 do not.
  CHECK(stageTransferSeconds(cluster, 1, 0, 1, 1000) == Approx(1e-6 + 2e-6));
  CHECK(stageTransferSeconds(cluster, 1, 1, 2, 1000) == Approx(1e-5 + 2e-5));
  CHECK(stageTransferSeconds(cluster, 1, 2, 3, 0) == Approx(1e-6));
}

TEST_CASE("priceSharedTransfers queues partial gradients before the owner's backward",
          "[pipeline-split]") {
  // One node of 4, 1000 B/s and 0.1 s per message: a message of B bytes
  // takes 0.1 + B / 1000 seconds.
  Cluster cluster = makeTwoNodeCluster();
  cluster.nodes = 1;
  cluster.devicesPerNode = 4;
  cluster.intraNode = {1000, 0.1};
  cluster.collectiveEfficiency = 1;
  llvm::Expected<pipeline::PipelineSchedule> schedule =
      pipeline::buildSchedule(pipeline::ScheduleKind::oneFOneB, 2, 2, 1);
  REQUIRE(static_cast<bool>(schedule));
  // Forward 1 s, backward 2 s, the cut 0.5 s each way. Stage 0 runs F0.0
  // 0-1, F0.1 1-2, B0.0 5-7, B0.1 8-10; stage 1 F1.0 1.5-2.5, B1.0 2.5-4.5,
  // F1.1 4.5-5.5, B1.1 5.5-7.5.
  llvm::Expected<pipeline::Simulation> simulation =
      pipeline::simulate(*schedule, {1.0, 1.0}, {2.0, 2.0}, {0.5});
  REQUIRE(static_cast<bool>(simulation));
  REQUIRE(simulation->makespan == Approx(10.0));
  std::vector<int64_t> cutBytes = {500};

  SECTION("each partial gradient alone") {
    // 1000 B + the cut's 500 B leave at 4.5 and 7.5 and take 1.6 s; B0.0
    // and B0.1 start at 5 and 8: each waits 1.1 s. The new value goes back
    // in 1.1 s.
    SharedTraffic traffic =
        priceSharedTransfers(*schedule, *simulation, {{1, 0, 1000}}, cutBytes, 1, cluster, 1);
    CHECK(traffic.delaySeconds == Approx(1.1));
    REQUIRE(traffic.sendBackSeconds.size() == 2);
    CHECK(traffic.sendBackSeconds[0] == Approx(1.1));
    CHECK(traffic.sendBackSeconds[1] == 0.0);
  }
  SECTION("a partial gradient waits for the one before it") {
    // 4000 B + 500 B take 4.6 s: the first arrives at 9.1 (B0.0 waits 4.1
    // s) and holds the link until 9.0, so the second leaves at 9.0, not
    // 7.5, and arrives at 13.6 (B0.1 waits 5.6 s).
    SharedTraffic traffic =
        priceSharedTransfers(*schedule, *simulation, {{1, 0, 4000}}, cutBytes, 1, cluster, 1);
    CHECK(traffic.delaySeconds == Approx(5.6));
  }
  SECTION("tp splits the parameter") {
    // 2 tp devices: each sends 2000 B of a 4000 B parameter, plus the cut.
    SharedTraffic traffic =
        priceSharedTransfers(*schedule, *simulation, {{1, 0, 4000}}, cutBytes, 2, cluster, 2);
    CHECK(traffic.delaySeconds == Approx(0.1 + 2.5 - 0.5));
    CHECK(traffic.sendBackSeconds[0] == Approx(2.1));
  }
}
