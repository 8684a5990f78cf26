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
  pipeline.precision = precision;
  pipeline.bucketBytes = bucketBytes;
  pipeline.eval = eval;
  pipeline.microBatches = microBatches;
  pipeline.schedule = schedule;
  pipeline.virtualStages = virtualStages;
  pipeline.cuts = pipelineCuts;
  pipeline.recompute = recompute.empty() ? "none" : recompute;
  pipeline.sequenceParallel = sequenceParallel;
  pipeline.unroll = unrollPipeline;
  pipeline.overlap = overlapCommunication;
}

bool mlir::cleave::wantsSharding(const ShardOptions &options) {
  return !options.grid.empty() || options.devices > 1 || options.zero != 0 || !options.pins.empty();
}

int64_t mlir::cleave::getPipelineStages(const ShardOptions &options) {
  return getGridAxisSize(options.grid, kPipelineAxis);
}

bool mlir::cleave::wantsPipeline(const ShardOptions &options) {
  return options.microBatches > 1 || getPipelineStages(options) > 1 || wantsRecompute(options);
}

bool mlir::cleave::wantsRecompute(const ShardOptions &options) {
  return !options.recompute.empty() && options.recompute != "none";
}

llvm::Error mlir::cleave::shardTrainStep(ModuleOp module, const ShardOptions &options,
                                         std::unique_ptr<Pass> beforePartition) {
  ShardPipelineOptions pipeline;
  options.toPipelineOptions(pipeline, static_cast<bool>(module.lookupSymbol(kEvalFunction)));
  PassManager pm(module.getContext());
  if (!wantsSharding(options)) {
    // Micro-batches or recomputation on one device: nothing to shard.
    if (llvm::Error error = buildCleaveMicroBatchPipeline(pm, pipeline, std::move(beforePartition)))
      return error;
    return runPasses(pm, module, "splitting the train step into micro-batches failed");
  }
  if (llvm::Error error = buildCleaveShardPipeline(pm, pipeline, std::move(beforePartition)))
    return error;
  return runPasses(pm, module,
                   "sharding the train step over " + getShardGrid(pipeline) + " failed");
}
