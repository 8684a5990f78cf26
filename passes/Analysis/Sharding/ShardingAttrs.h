//===- ShardingAttrs.h - a sharding plan as IR attributes -----------------===//
//
// The passes hand a plan to each other, and to codegen and the plan report,
// in attributes whose names the dialect defines (CleaveBase.td):
//   - on the module, one `shard.grid`, its axis names in
//     `cleave.axis_names` (e.g. ["dp", "tp"]);
//   - on each split op, `cleave.factor_axes`: a #shard.axes-array style
//     list with the grid axes of each of the op's factors (FactorRule.h);
//   - on function arguments and results, `cleave.sharding`: the axes of
//     each dimension;
//   - on the searched function, `cleave.predicted_step_seconds`.
// These accessors read and write them typed.
//
//===----------------------------------------------------------------------===//
#ifndef CLEAVE_PASSES_ANALYSIS_SHARDING_SHARDINGATTRS_H
#define CLEAVE_PASSES_ANALYSIS_SHARDING_SHARDINGATTRS_H

#include "dialects/Cleave/Interfaces/FactorRule.h"
#include "passes/Analysis/Sharding/TensorSharding.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"

#include <optional>

namespace mlir::cleave {

/// Attribute form (one axis list per dimension or factor) and back.
shard::GridAxesArrayAttr toAttr(MLIRContext *context, llvm::ArrayRef<AxisList> dims);
llvm::SmallVector<AxisList, 4> fromAttr(shard::GridAxesArrayAttr attr);

/// `op`'s cleave.factor_axes, or null when it has none (nothing split).
shard::GridAxesArrayAttr getFactorAxesAttr(Operation *op);
/// Sets `op`'s cleave.factor_axes to `axes`, or removes it when no factor
/// is split.
void setFactorAxes(Operation *op, llvm::ArrayRef<AxisList> axes);

/// The cleave.sharding of argument (result) `index` of `function`: the axes
/// of each dimension; std::nullopt when it has none (whole).
std::optional<llvm::SmallVector<AxisList, 4>> getArgSharding(func::FuncOp function, unsigned index);
std::optional<llvm::SmallVector<AxisList, 4>> getResultSharding(func::FuncOp function,
                                                                unsigned index);
void setArgSharding(func::FuncOp function, unsigned index, llvm::ArrayRef<AxisList> dims);
void setResultSharding(func::FuncOp function, unsigned index, llvm::ArrayRef<AxisList> dims);

/// Names `grid`'s axes (cleave.axis_names).
void setAxisNames(shard::GridOp grid, llvm::ArrayRef<std::string> names);

/// Records the step time the search predicted for `function`.
void setPredictedStepSeconds(func::FuncOp function, double seconds);

} // namespace mlir::cleave

#endif // CLEAVE_PASSES_ANALYSIS_SHARDING_SHARDINGATTRS_H
