//===- Pipelines.h - the pass sequences cleavec runs ----------------------===//
#ifndef CLEAVE_PASSES_PIPELINES_H
#define CLEAVE_PASSES_PIPELINES_H

#include "mlir/Pass/PassManager.h"
#include "mlir/Pass/PassOptions.h"

namespace mlir::cleave {

struct TrainPipelineOptions : public PassPipelineOptions<TrainPipelineOptions> {
  Option<std::string> loss{*this, "loss", llvm::cl::desc("cross_entropy, mse or model"),
                           llvm::cl::init("cross_entropy")};
  Option<std::string> labels{*this, "labels", llvm::cl::desc("Name of the labels input"),
                             llvm::cl::init("")};
  Option<std::string> output{*this, "output", llvm::cl::desc("Model output the loss reads"),
                             llvm::cl::init("")};
  Option<int64_t> ignoreIndex{*this, "ignore-index",
                              llvm::cl::desc("cross_entropy: the label of rows to ignore"),
                              llvm::cl::init(-100)};
  Option<double> labelSmoothing{*this, "label-smoothing",
                                llvm::cl::desc("cross_entropy: label smoothing in [0, 1]"),
                                llvm::cl::init(0.0)};
  Option<bool> eval{*this, "eval",
                    llvm::cl::desc("Also build @eval_loss: the loss of the model in evaluation "
                                   "semantics (cleave-derive-eval)"),
                    llvm::cl::init(false)};
  Option<std::string> optimizer{*this, "optimizer", llvm::cl::desc("sgd or adamw"),
                                llvm::cl::init("adamw")};
  Option<double> beta1{*this, "beta1", llvm::cl::init(0.9)};
  Option<double> beta2{*this, "beta2", llvm::cl::init(0.999)};
  Option<double> eps{*this, "eps", llvm::cl::init(1e-8)};
  Option<double> weightDecay{*this, "weight-decay", llvm::cl::init(0.0)};
  Option<double> momentum{*this, "momentum", llvm::cl::init(0.0)};
  Option<double> clipGradNorm{*this, "clip-grad-norm", llvm::cl::init(0.0)};
};

/// forward -> loss -> gradients -> train_step, then canonicalisation and
/// CSE so that codegen sees the simplest program.
void buildCleaveTrainPipeline(OpPassManager &pm, const TrainPipelineOptions &options);

/// Registers `cleave-train-pipeline` for cleave-opt.
void registerCleavePipelines();

} // namespace mlir::cleave

#endif // CLEAVE_PASSES_PIPELINES_H
