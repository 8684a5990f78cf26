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
  /// The arithmetic the products (cleave.matmul and the convolutions,
  /// forward and backward) run in when their operands are rounded
  /// (--precision bf16: the IR keeps f32, the kernel uses bf16 units);
  /// nullopt: what the IR's types say.
  std::optional<DType> matmulType;
  /// Price every op's memory traffic with its f32 tensors as bf16 (the
  /// activations of a mixed-precision run, Precision.h), except the
  /// optimizer update, which reads and writes fp32 master weights and
  /// state: ops tagged cleave.update_of or reading a cleave.opt_state
  /// argument.
  bool bf16Activations = false;
};

/// Seconds for `flops` FLOPs touching `bytes` bytes in `type` arithmetic on
/// one device of `cluster` (the roofline above).
double rooflineTime(double flops, double bytes, DType type, const Cluster &cluster);

/// The arithmetic `op` runs in: options.matmulType for a product when set;
/// else the narrowest floating-point element type among its tensor operands
/// (a bf16 x bf16 matmul with an f32 result runs on bf16 units), else among
/// its results; f32 when it has none (integer and index ops, f64).
DType getComputeDType(Operation *op, const ComputeOptions &options = {});

/// Seconds `op` takes on one device when it is split evenly `shardFactor`
/// ways (1: unsplit). 0 for ops without CostOpInterface (func.return,
/// shard ops: the collective model prices those) and for shardFactor < 1.
double computeTime(Operation *op, const Cluster &cluster, int64_t shardFactor = 1,
                   const ComputeOptions &options = {});

/// The bytes `op` accesses as options.bf16Activations prices them: its
/// CostOpInterface count, scaled by its tensors' bytes with f32 read as
/// bf16 over their IR bytes (1 for the update's ops and without the option).
double getPricedBytesAccessed(Operation *op, const ComputeOptions &options);

} // namespace mlir::cleave

#endif // CLEAVE_PASSES_ANALYSIS_COST_COMPUTECOST_H
