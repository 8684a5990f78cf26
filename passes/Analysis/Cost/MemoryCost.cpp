//===- MemoryCost.cpp - what one device must hold -------------------------===//
#include "passes/Analysis/Cost/MemoryCost.h"

#include "llvm/Support/MathExtras.h"

#include <algorithm>

using namespace mlir;
using namespace mlir::cleave;

// The fp32 copy a 16-bit parameter's optimizer keeps to update exactly.
static constexpr int64_t kMasterCopyBytes = 4;
static constexpr int64_t kMomentBytes = 4; // one fp32 moment per element

std::optional<OptimizerKind> cleave::parseOptimizerKind(llvm::StringRef name, double momentum) {
  if (name == "adamw")
    return OptimizerKind::adamw;
  if (name == "sgd")
    return momentum != 0 ? OptimizerKind::sgdMomentum : OptimizerKind::sgd;
  return std::nullopt;
}

ParameterBytes cleave::getParameterBytes(OptimizerKind optimizer, int64_t valueBytes) {
  int64_t moments = optimizer == OptimizerKind::adamw         ? 2
                    : optimizer == OptimizerKind::sgdMomentum ? 1
                                                              : 0;
  ParameterBytes bytes;
  bytes.value = valueBytes;
  bytes.gradient = valueBytes;
  bytes.optimizerState = moments * kMomentBytes + (valueBytes < 4 ? kMasterCopyBytes : 0);
  return bytes;
}

ShardFactors cleave::getZeroShardFactors(int stage, int64_t dataParallel) {
  int64_t n = std::max<int64_t>(1, dataParallel);
  ShardFactors shards;
  if (stage >= 1)
    shards.optimizerState = n;
  if (stage >= 2)
    shards.gradient = n;
  if (stage >= 3)
    shards.value = n;
  return shards;
}

DeviceMemory &DeviceMemory::operator+=(const DeviceMemory &other) {
  parameters += other.parameters;
  gradients += other.gradients;
  optimizerState += other.optimizerState;
  activations += other.activations;
  return *this;
}

/// Elements one device holds of `elements` split `ways` ways.
static int64_t shardElements(int64_t elements, int64_t ways) {
  return llvm::divideCeil(elements, std::max<int64_t>(1, ways));
}

DeviceMemory cleave::getParameterMemory(int64_t elements, const ParameterBytes &bytes,
                                        const ShardFactors &shards) {
  DeviceMemory memory;
  memory.parameters = shardElements(elements, shards.value) * bytes.value;
  memory.gradients = shardElements(elements, shards.gradient) * bytes.gradient;
  memory.optimizerState = shardElements(elements, shards.optimizerState) * bytes.optimizerState;
  return memory;
}

int64_t cleave::getMemoryOverflow(const DeviceMemory &memory, const Cluster &cluster) {
  return std::max<int64_t>(0, memory.total() - cluster.memoryCapacity);
}
