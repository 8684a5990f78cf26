//===- ShardStep.cpp - split a train step over a device grid --------------===//
#include "compiler/ShardStep.h"

#include "passes/Pipelines.h"

#include "mlir/IR/Diagnostics.h"
#include "mlir/Pass/PassManager.h"

using namespace mlir;
using namespace mlir::cleave;

static llvm::Error makeError(const std::string &message) {
  return llvm::createStringError(llvm::inconvertibleErrorCode(), message);
}

void ShardOptions::toPipelineOptions(ShardPipelineOptions &pipeline, bool eval) const {
  pipeline.plan = plan == "dp" ? ShardPlan::dataParallel : ShardPlan::automatic;
  pipeline.devices = devices;
  pipeline.grid = grid;
  pipeline.zero = static_cast<ZeroLevel>(zero);
  pipeline.pins = pins;
  pipeline.cluster = cluster;
  pipeline.bucketBytes = bucketBytes;
  pipeline.eval = eval;
}

bool mlir::cleave::wantsSharding(const ShardOptions &options) {
  return !options.grid.empty() || options.devices > 1 || options.zero != 0 || !options.pins.empty();
}

llvm::Error mlir::cleave::shardTrainStep(ModuleOp module, const ShardOptions &options,
                                         std::unique_ptr<Pass> beforePartition) {
  ShardPipelineOptions pipeline;
  options.toPipelineOptions(pipeline, static_cast<bool>(module.lookupSymbol(kEvalFunction)));
  PassManager pm(module.getContext());
  if (llvm::Error error = buildCleaveShardPipeline(pm, pipeline, std::move(beforePartition)))
    return error;
  std::string diagnostics;
  ScopedDiagnosticHandler handler(module.getContext(), [&](Diagnostic &diagnostic) {
    llvm::raw_string_ostream os(diagnostics);
    os << diagnostic << "\n";
    return success();
  });
  if (failed(pm.run(module)))
    return makeError("sharding the train step over " + getShardGrid(pipeline) +
                     " failed: " + diagnostics);
  return llvm::Error::success();
}
