//===- PipelineAxis.h - the grid's "pp" axis, inserted first --------------===//
//
// The sharding plan is made on one stage's grid (dp x tp); the unrolled
// program runs on pp x dp x tp, pp slowest as in Megatron-LM's rank order.
//
//===----------------------------------------------------------------------===//
#ifndef CLEAVE_PASSES_PIPELINE_PIPELINEAXIS_H
#define CLEAVE_PASSES_PIPELINE_PIPELINEAXIS_H

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/BuiltinOps.h"

#include <string>

namespace mlir::cleave {

/// Removes the collectives of `function` over grid axes whose sizes
/// multiply to one device (the stage grid "dp=1" of "--grid pp=S"): each
/// is an identity. Run before anything records `function`'s ops.
void dropSingleDeviceCollectives(ModuleOp module, func::FuncOp function);

/// Makes "pp" of size `stages` the first axis of `module`'s shard.grid and
/// moves every grid axis index in `function` (shard ops' grid_axes,
/// cleave.sharding of arguments and results, any axis array attribute) up
/// by one; `gridName` gets the grid's symbol. Fails without a grid.
LogicalResult insertPipelineAxis(ModuleOp module, func::FuncOp function, int64_t stages,
                                 std::string &gridName);

} // namespace mlir::cleave

#endif // CLEAVE_PASSES_PIPELINE_PIPELINEAXIS_H
