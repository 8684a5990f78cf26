//===- RunPasses.cpp - a pass manager's run as an llvm::Error -------------===//
#include "compiler/RunPasses.h"

#include "mlir/IR/Diagnostics.h"

using namespace mlir;

llvm::Error mlir::cleave::runPasses(PassManager &pm, ModuleOp module, const std::string &what) {
  std::string diagnostics;
  ScopedDiagnosticHandler handler(module.getContext(), [&](Diagnostic &diagnostic) {
    llvm::raw_string_ostream os(diagnostics);
    os << diagnostic << "\n";
    return success();
  });
  if (failed(pm.run(module)))
    return llvm::createStringError(llvm::inconvertibleErrorCode(), what + ": " + diagnostics);
  return llvm::Error::success();
}
