//===- TrainStep.cpp - build the train step of an imported model ----------===//
#include "compiler/TrainStep.h"

#include "compiler/RunPasses.h"
#include "passes/Pipelines.h"

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
  pipeline.phaseTags = options.settings.phaseTags;
  buildCleaveTrainPipeline(pm, pipeline);
  return runPasses(pm, module, "building the train step failed");
}
