//===- ShardStep.cpp - split a train step over a device grid --------------===//
#include "compiler/ShardStep.h"

#include "compiler/RunPasses.h"
#include "passes/Pipelines.h"

using namespace mlir;
using namespace mlir::cleave;

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
  return runPasses(pm, module,
                   "sharding the train step over " + getShardGrid(pipeline) + " failed");
}
