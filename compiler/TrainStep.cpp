//===- TrainStep.cpp - build the train step of an imported model ----------===//
#include "compiler/TrainStep.h"

#include "passes/Pipelines.h"

#include "mlir/IR/Diagnostics.h"
#include "mlir/Pass/PassManager.h"

using namespace mlir;
using namespace mlir::cleave;

llvm::Error mlir::cleave::buildTrainStep(ModuleOp module, const TrainOptions &options) {
  PassManager pm(module.getContext());
  TrainPipelineOptions pipeline;
#define CLEAVE_LOSS_OPTION(FIELD, TYPE, FLAG, CLI_FLAG, DEFAULT, HELP, CHECK, SHOW_DEFAULT)        \
  pipeline.FIELD = options.FIELD;
#define CLEAVE_OPTIMIZER_OPTION(FIELD, TYPE, FLAG, CLI_FLAG, DEFAULT, HELP, CHECK, SHOW_DEFAULT)   \
  pipeline.FIELD = options.settings.FIELD;
#include "passes/TrainOptions.def"
  pipeline.eval = options.eval;
  buildCleaveTrainPipeline(pm, pipeline);
  std::string diagnostics;
  ScopedDiagnosticHandler handler(module.getContext(), [&](Diagnostic &diagnostic) {
    llvm::raw_string_ostream os(diagnostics);
    os << diagnostic << "\n";
    return success();
  });
  if (failed(pm.run(module)))
    return llvm::createStringError(llvm::inconvertibleErrorCode(),
                                   "building the train step failed: " + diagnostics);
  return llvm::Error::success();
}
