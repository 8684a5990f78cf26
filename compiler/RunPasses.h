//===- RunPasses.h - a pass manager's run as an llvm::Error ---------------===//
//
// The tools report a failed pipeline as one error message; the passes'
// diagnostics become its text instead of going to stderr on their own.
//
//===----------------------------------------------------------------------===//
#ifndef CLEAVE_COMPILER_RUNPASSES_H
#define CLEAVE_COMPILER_RUNPASSES_H

#include "mlir/IR/BuiltinOps.h"
#include "mlir/Pass/PassManager.h"
#include "llvm/Support/Error.h"

#include <string>

namespace mlir::cleave {

/// Runs `pm` on `module`; on failure, the error is `what` + ": " + every
/// diagnostic emitted during the run, one per line.
llvm::Error runPasses(PassManager &pm, ModuleOp module, const std::string &what);

} // namespace mlir::cleave

#endif // CLEAVE_COMPILER_RUNPASSES_H
