//===- ComputeCost.h - how long one op computes on one device -------------===//
//
// The roofline: an op takes as long as the slower of its arithmetic and its
// memory traffic, each at the rate real kernels reach (a measured or
// estimated efficiency times the device's peak):
//
//   time = max(flops / (peak(dtype) * computeEfficiency),
//              bytes / (memoryBandwidth * memoryEfficiency))
//
// FLOPs and bytes come from the op's CostOpInterface, counted on global
// shapes; an op split `shardFactor` ways does 1/shardFactor of both.
//
//===----------------------------------------------------------------------===//
#ifndef CLEAVE_PASSES_ANALYSIS_COST_COMPUTECOST_H
#define CLEAVE_PASSES_ANALYSIS_COST_COMPUTECOST_H

#include "passes/Analysis/Cluster/Cluster.h"

#include "mlir/IR/Operation.h"

#include <optional>

namespace mlir::cleave {

/// How the executable runs what the IR shows.
struct ComputeOptions {
  /// The arithmetic cleave.matmul runs in when codegen rounds its operands
  /// (cleavec --precision bf16: the IR keeps f32, the kernel uses bf16
  /// units); nullopt: what the IR's types say.
  std::optional<DType> matmulType;
};

/// Seconds for `flops` FLOPs touching `bytes` bytes in `type` arithmetic on
/// one device of `cluster` (the roofline above).
double rooflineTime(double flops, double bytes, DType type, const Cluster &cluster);

/// The arithmetic `op` runs in: options.matmulType for a matmul when set;
/// else the narrowest floating-point element type among its tensor operands
/// (a bf16 x bf16 matmul with an f32 result runs on bf16 units), else among
/// its results; f32 when it has none (integer and index ops, f64).
DType getComputeDType(Operation *op, const ComputeOptions &options = {});

/// Seconds `op` takes on one device when it is split evenly `shardFactor`
/// ways (1: unsplit). 0 for ops without CostOpInterface (func.return,
/// shard ops: the collective model prices those) and for shardFactor < 1.
double computeTime(Operation *op, const Cluster &cluster, int64_t shardFactor = 1,
                   const ComputeOptions &options = {});

} // namespace mlir::cleave

#endif // CLEAVE_PASSES_ANALYSIS_COST_COMPUTECOST_H
