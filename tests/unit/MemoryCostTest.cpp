// Per-device memory: bytes per parameter by optimizer and precision, and
// the ZeRO figures from the paper (arXiv:1910.02054, shared/ANCHORS.md):
// a 7.5B-parameter model trained with mixed-precision Adam on N_d = 64
// data-parallel GPUs needs 120 GB per GPU unsharded, 31.4 GB with ZeRO-1,
// 16.6 GB with ZeRO-2 and 1.9 GB with ZeRO-3.
#include "passes/Analysis/Cost/MemoryCost.h"

#include <catch2/catch.hpp>

using namespace mlir::cleave;

TEST_CASE("bytes per parameter by optimizer and precision", "[cost][memory]") {
  // fp32: value 4, gradient 4, moments 4 each.
  ParameterBytes adamw = getParameterBytes(OptimizerKind::adamw);
  CHECK(adamw.value == 4);
  CHECK(adamw.gradient == 4);
  CHECK(adamw.optimizerState == 8);
  CHECK(getParameterBytes(OptimizerKind::sgd).optimizerState == 0);
  CHECK(getParameterBytes(OptimizerKind::sgdMomentum).optimizerState == 4);
  // Mixed precision: 16-bit value and gradient; the optimizer keeps an fp32
  // master copy beside its moments: K = 4 + 4 + 4 = 12 for Adam.
  ParameterBytes mixed = getParameterBytes(OptimizerKind::adamw, 2);
  CHECK(mixed.value == 2);
  CHECK(mixed.gradient == 2);
  CHECK(mixed.optimizerState == 12);
  CHECK(getParameterBytes(OptimizerKind::sgdMomentum, 2).optimizerState == 8);

  CHECK(parseOptimizerKind("adamw") == OptimizerKind::adamw);
  CHECK(parseOptimizerKind("sgd") == OptimizerKind::sgd);
  CHECK(parseOptimizerKind("sgd", 0.9) == OptimizerKind::sgdMomentum);
  CHECK_FALSE(parseOptimizerKind("lamb"));
}

TEST_CASE("ZeRO stages reproduce the paper's 7.5B / N_d = 64 figures", "[cost][memory]") {
  const int64_t psi = 7'500'000'000;
  const int64_t nd = 64;
  ParameterBytes mixed = getParameterBytes(OptimizerKind::adamw, 2);
  auto perDevice = [&](int stage) {
    return getParameterMemory(psi, mixed, getZeroShardFactors(stage, nd));
  };
  // Baseline: 16 Psi = 120 GB.
  DeviceMemory baseline = perDevice(0);
  CHECK(baseline.parameters == 15'000'000'000);
  CHECK(baseline.gradients == 15'000'000'000);
  CHECK(baseline.optimizerState == 90'000'000'000);
  CHECK(baseline.total() == 120'000'000'000);
  // ZeRO-1: 4 Psi + 12 Psi / 64 = 30 GB + 1.40625 GB = 31.4 GB.
  CHECK(perDevice(1).total() == 31'406'250'000);
  // ZeRO-2: 2 Psi + 14 Psi / 64 = 15 GB + 1.640625 GB = 16.6 GB.
  CHECK(perDevice(2).total() == 16'640'625'000);
  // ZeRO-3: 16 Psi / 64 = 1.875 GB = 1.9 GB.
  DeviceMemory zero3 = perDevice(3);
  CHECK(zero3.total() == 1'875'000'000);
  CHECK(zero3.parameters == 234'375'000);
  // Stages past 3 shard nothing more.
  CHECK(perDevice(4).total() == zero3.total());
}

TEST_CASE("shard factors compose and round up", "[cost][memory]") {
  ParameterBytes fp32 = getParameterBytes(OptimizerKind::adamw);
  // A 1000x1000 weight split 8 ways by tensor parallelism and its optimizer
  // state another 4 ways by ZeRO-1: 125000 elements, 31250 of state.
  ShardFactors shards{8, 8, 32};
  DeviceMemory weight = getParameterMemory(1'000'000, fp32, shards);
  CHECK(weight.parameters == 125'000 * 4);
  CHECK(weight.gradients == 125'000 * 4);
  CHECK(weight.optimizerState == 31'250 * 8);
  // 10 elements split 4 ways: the largest shard holds 3.
  DeviceMemory odd = getParameterMemory(10, fp32, ShardFactors{4, 4, 4});
  CHECK(odd.parameters == 3 * 4);
  CHECK(odd.optimizerState == 3 * 8);
  // A shard factor below 1 means unsplit.
  CHECK(getParameterMemory(10, fp32, ShardFactors{0, 1, 1}).parameters == 40);
}

TEST_CASE("device memory adds up and reports how much does not fit", "[cost][memory]") {
  Cluster cluster;
  cluster.memoryCapacity = 80'000'000'000;
  DeviceMemory memory = getParameterMemory(
      7'500'000'000, getParameterBytes(OptimizerKind::adamw, 2), getZeroShardFactors(1, 64));
  memory.activations = 60'000'000'000;
  CHECK(memory.total() == 91'406'250'000);
  // 91.4 GB on an 80 GB device: 11.4 GB too much.
  CHECK(getMemoryOverflow(memory, cluster) == 11'406'250'000);
  DeviceMemory sum;
  sum += memory;
  sum += memory;
  CHECK(sum.activations == 120'000'000'000);
  CHECK(getMemoryOverflow(
            getParameterMemory(1000, getParameterBytes(OptimizerKind::sgd), ShardFactors{}),
            cluster) == 0);
}
