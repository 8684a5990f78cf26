//===- TrainStep.h - build the train step of an imported model ------------===//
//
// What cleavec runs after importing: cleave-train-pipeline (passes/
// Pipelines.h) with the tools' loss and optimizer settings, its
// diagnostics returned as an error. compiler/ShardStep.h splits the result
// over devices.
//
//===----------------------------------------------------------------------===//
#ifndef CLEAVE_COMPILER_TRAINSTEP_H
#define CLEAVE_COMPILER_TRAINSTEP_H

#include "passes/Pipelines.h"
#include "passes/TrainOptions.h"

#include "mlir/IR/BuiltinOps.h"
#include "llvm/Support/Error.h"

namespace mlir::cleave {

/// The loss (LossSettings' fields), the optimizer and whether to build the
/// evaluation function.
struct TrainOptions : LossSettings {
  bool eval = false; // also build @eval_loss (Pipelines.h)
  /// The update, and the defaults baked into the executable.
  OptimizerSettings settings;
};

/// Runs the train pipeline on an imported module (adds @loss, @gradients,
/// @train_step). The error names the failing pass's diagnostic.
llvm::Error buildTrainStep(ModuleOp module, const TrainOptions &options);

} // namespace mlir::cleave

#endif // CLEAVE_COMPILER_TRAINSTEP_H
