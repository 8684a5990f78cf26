//===- StageUnroll.h - one function per pipeline stage --------------------===//
//
// With S > 1 stages, cleave-pipeline-unroll replaces @train_step by
// @train_step_stage<p> (p = 0..S-1), each with @train_step's signature:
// the forward and backward ops of the stage's chunks in the order of its
// schedule (passes/Analysis/Pipeline/Schedule.h), one copy per micro-batch;
// point-to-point transfers where a value crosses to another stage; then the
// update of the parameters the stage owns, and the loss all-reduced over
// "pp". The pp axis becomes the grid's first axis.
//
//===----------------------------------------------------------------------===//
#ifndef CLEAVE_PASSES_PIPELINE_STAGEUNROLL_H
#define CLEAVE_PASSES_PIPELINE_STAGEUNROLL_H

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/BuiltinOps.h"

namespace mlir::cleave {

/// Unrolls `function` (the per-device @train_step, tagged by
/// cleave-pipeline-split) into the stage functions of the module's
/// `cleave.pipeline`; fails with a diagnostic where the step cannot be
/// pipelined (an op without a chunk, a schedule whose transfers NCCL would
/// match out of order, a tag past 32767, clipping, ...).
LogicalResult unrollStages(ModuleOp module, func::FuncOp function);

} // namespace mlir::cleave

#endif // CLEAVE_PASSES_PIPELINE_STAGEUNROLL_H
