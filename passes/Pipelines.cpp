//===- Pipelines.cpp - the pass sequences cleavec runs --------------------===//
#include "passes/Pipelines.h"

#include "passes/Passes.h"

#include "mlir/Pass/PassRegistry.h"
#include "mlir/Transforms/Passes.h"

using namespace mlir;
using namespace mlir::cleave;

void mlir::cleave::buildCleaveTrainPipeline(OpPassManager &pm,
                                            const TrainPipelineOptions &options) {
  // From the forward as imported: dropout is still dropout there.
  if (options.eval)
    pm.addPass(createCleaveDeriveEval());
  pm.addPass(createCleaveLowerDropout());
  // Before autodiff, so that the backward of each q/k/v product is its own
  // and tensor parallelism can split heads (SplitFusedProjections.cpp).
  pm.addPass(createCleaveSplitFusedProjections());
  pm.addPass(createCleaveAttachLoss(CleaveAttachLossOptions{
      options.loss, options.labels, options.output, options.ignoreIndex, options.labelSmoothing}));
  if (options.eval)
    pm.addPass(createCleaveAttachLoss(
        CleaveAttachLossOptions{options.loss, options.labels, options.output, options.ignoreIndex,
                                options.labelSmoothing, "forward_eval", "eval_loss"}));
  pm.addPass(createCleaveAutodiff());
  CleaveOptimizerOptions optimizer;
  optimizer.optimizer = options.optimizer;
  optimizer.beta1 = options.beta1;
  optimizer.beta2 = options.beta2;
  optimizer.eps = options.eps;
  optimizer.weightDecay = options.weightDecay;
  optimizer.momentum = options.momentum;
  optimizer.clipGradNorm = options.clipGradNorm;
  pm.addPass(createCleaveOptimizer(optimizer));
  pm.addPass(createCanonicalizerPass());
  pm.addPass(createCSEPass());
}

void mlir::cleave::registerCleavePipelines() {
  PassPipelineRegistration<TrainPipelineOptions>(
      "cleave-train-pipeline",
      "Build the train step from @forward: dropout masks, loss, autodiff, optimizer",
      buildCleaveTrainPipeline);
}
