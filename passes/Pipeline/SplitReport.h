//===- SplitReport.h - the chosen pipeline split, for people --------------===//
#ifndef CLEAVE_PASSES_PIPELINE_SPLITREPORT_H
#define CLEAVE_PASSES_PIPELINE_SPLITREPORT_H

#include "mlir/IR/BuiltinOps.h"
#include "llvm/Support/raw_ostream.h"

namespace mlir::cleave {

/// Prints the split cleave-pipeline-split recorded on `module` (its
/// cleave.pipeline dictionary and the ops' cleave.stage): per stage and
/// chunk the ONNX nodes its forward spans, its predicted forward and
/// backward seconds, its memory (weights, gradients, optimizer state,
/// activations in flight), the bytes crossing each cut, the bubble and
/// the parameters several chunks share. Prints nothing for a module
/// without a split.
void printPipelineSplit(ModuleOp module, llvm::raw_ostream &os);

} // namespace mlir::cleave

#endif // CLEAVE_PASSES_PIPELINE_SPLITREPORT_H
