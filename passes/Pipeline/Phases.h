//===- Phases.h - which ops of a train step run per micro-batch ----------===//
//
// cleave-pipeline-unroll repeats the forward and backward ops of the step
// for each micro-batch and runs the update ops once. The phase comes from
// `cleave.phase` (cleave-pipeline-split), else from the train pipeline's
// phase tags (cleave.fwd_id, cleave.bwd_of, cleave.update_of); ops neither
// tags (the partition's collectives, what canonicalisation made) take it
// from their users.
//
//===----------------------------------------------------------------------===//
#ifndef CLEAVE_PASSES_PIPELINE_PHASES_H
#define CLEAVE_PASSES_PIPELINE_PHASES_H

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "llvm/ADT/DenseMap.h"

namespace mlir::cleave {

enum class StepPart {
  /// Constants: defined once, read by every micro-batch.
  shared,
  /// Forward and backward: once per micro-batch.
  perMicroBatch,
  /// The update: once per step, on the micro-batches' mean.
  once,
};

/// The part of every op of `function`'s body (one block). A sum collective
/// (or a reshape, a slice, ...) whose users all run once moves to the once
/// part: it is linear, so it may reduce the accumulated gradient instead of
/// each micro-batch's. Fails
/// (with a diagnostic) where an op has no phase and no way to infer one.
LogicalResult classifyStepOps(func::FuncOp function, llvm::DenseMap<Operation *, StepPart> &parts);

} // namespace mlir::cleave

#endif // CLEAVE_PASSES_PIPELINE_PHASES_H
