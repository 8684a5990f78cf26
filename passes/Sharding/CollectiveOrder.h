//===- CollectiveOrder.h - what orders the step's collectives ------------===//
//
// Every rank runs the same program, and the runtime completes a rank's
// collectives in the order it starts them, so the passes that move
// collectives (cleave-bucket-collectives, cleave-overlap-collectives) agree
// on what may not be crossed: an op that sends messages, or holds or may
// call one, and a sum over the pipeline axis, which the stages' transfers
// are ordered against.
//
//===----------------------------------------------------------------------===//
#ifndef CLEAVE_PASSES_SHARDING_COLLECTIVEORDER_H
#define CLEAVE_PASSES_SHARDING_COLLECTIVEORDER_H

#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/Operation.h"

namespace mlir::cleave {

/// cleave.all_reduce_start, reduce_scatter_start or all_gather_start.
bool isCollectiveStart(Operation *op);

/// A shard collective or a started one. shard.all_slice keeps this rank's
/// block of a replicated value: it sends no message, so it neither orders
/// nor is ordered by the collectives.
bool sendsMessages(Operation *op);

/// Whether `op` is, holds, or may call (a call) a collective that sends
/// messages.
bool isCollectiveBarrier(Operation *op);

/// The index of grid axis "pp" in `grid` (looked up from `op`), or -1.
int64_t getPipelineAxisIndex(Operation *op, FlatSymbolRefAttr grid);

/// Whether collective `op` runs over the pipeline axis (its `grid_axes`
/// hold "pp"); true when it has no grid or axes to tell.
bool isOverPipelineAxis(Operation *op);

} // namespace mlir::cleave

#endif // CLEAVE_PASSES_SHARDING_COLLECTIVEORDER_H
