//===- ModelSummary.h - a short readable table of an imported model -------===//
#ifndef CLEAVE_COMPILER_MODELSUMMARY_H
#define CLEAVE_COMPILER_MODELSUMMARY_H

#include "mlir/IR/BuiltinOps.h"
#include "llvm/Support/raw_ostream.h"

namespace mlir::cleave {

/// Prints inputs, outputs, parameter counts and bytes, and ops by type with
/// their FLOPs (from CostOpInterface) for the module's forward function.
void printModelSummary(mlir::ModuleOp module, llvm::raw_ostream &os);

} // namespace mlir::cleave

#endif // CLEAVE_COMPILER_MODELSUMMARY_H
