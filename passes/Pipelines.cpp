//===- Pipelines.cpp - the pass sequences cleavec runs --------------------===//
#include "passes/Pipelines.h"

#include "passes/Analysis/Sharding/GridSpec.h"
#include "passes/Passes.h"
#include "passes/Recompute/Passes.h"
#include "passes/Recompute/Recompute.h"

#include "mlir/Pass/PassRegistry.h"
#include "mlir/Transforms/Passes.h"
#include "llvm/ADT/StringExtras.h"

using namespace mlir;
using namespace mlir::cleave;

static llvm::Error makeError(const llvm::Twine &message) {
  return llvm::createStringError(llvm::inconvertibleErrorCode(), message);
}

LossSettings TrainPipelineOptions::getLossSettings() const {
  LossSettings settings;
#define CLEAVE_LOSS_OPTION(FIELD, TYPE, FLAG, CLI_FLAG, DEFAULT, HELP, CHECK, SHOW_DEFAULT)        \
  settings.FIELD = FIELD;
#include "passes/TrainOptions.def"
  return settings;
}

OptimizerSettings TrainPipelineOptions::getOptimizerSettings() const {
  OptimizerSettings settings;
#define CLEAVE_OPTIMIZER_OPTION(FIELD, TYPE, FLAG, CLI_FLAG, DEFAULT, HELP, CHECK, SHOW_DEFAULT)   \
  settings.FIELD = FIELD;
#include "passes/TrainOptions.def"
  settings.phaseTags = phaseTags;
  return settings;
}

void mlir::cleave::buildCleaveTrainPipeline(OpPassManager &pm,
                                            const TrainPipelineOptions &options) {
  // From the forward as imported: dropout is still dropout there.
  if (options.eval)
    pm.addPass(createCleaveDeriveEval());
  pm.addPass(createCleaveLowerDropout());
  // Before autodiff, so that the backward of each q/k/v product is its own
  // and tensor parallelism can split heads (SplitFusedProjections.cpp).
  pm.addPass(createCleaveSplitFusedProjections());
  LossSettings loss = options.getLossSettings();
  pm.addPass(createCleaveAttachLoss(loss));
  if (options.eval)
    pm.addPass(
        createCleaveAttachLoss(loss, CleaveAttachLossOptions{"forward_eval", kEvalFunction.str()}));
  CleaveAutodiffOptions autodiff;
  autodiff.phaseTags = options.phaseTags;
  pm.addPass(createCleaveAutodiff(autodiff));
  pm.addPass(createCleaveOptimizer(options.getOptimizerSettings()));
  pm.addPass(createCanonicalizerPass());
  pm.addPass(createCSEPass());
}

bool mlir::cleave::usesShardingSearch(const ShardPipelineOptions &options) {
  // --devices asks for a plan; --grid, --shard and --zero then constrain
  // the search. Without --devices they are the plan, completed by
  // propagation (as --compare always is).
  return options.plan == ShardPlan::automatic && options.devices > 1;
}

std::string mlir::cleave::getShardGrid(const ShardPipelineOptions &options) {
  if (!options.grid.empty())
    return options.grid;
  return "dp=" + std::to_string(options.devices > 0 ? options.devices : 1);
}

/// The product of the sizes of "dp=2,tp=2", or -1 when malformed (the seed
/// pass then says why).
static int64_t gridDevices(llvm::StringRef grid) {
  llvm::Expected<ParsedGrid> parsed = parseGridSpec(grid);
  if (parsed)
    return parsed->devices();
  llvm::consumeError(parsed.takeError());
  return -1;
}

int64_t mlir::cleave::getGridAxisSize(llvm::StringRef grid, llvm::StringRef axis) {
  llvm::Expected<ParsedGrid> parsed = parseGridSpec(grid);
  if (!parsed) {
    llvm::consumeError(parsed.takeError());
    return 1;
  }
  for (auto [name, size] : llvm::zip(parsed->names, parsed->sizes))
    if (name == axis)
      return size;
  return 1;
}

std::string mlir::cleave::removeGridAxis(llvm::StringRef grid, llvm::StringRef axis) {
  llvm::SmallVector<llvm::StringRef> parts;
  grid.split(parts, ',', -1, false);
  llvm::SmallVector<llvm::StringRef> kept;
  for (llvm::StringRef part : parts)
    if (part.split('=').first.trim() != axis)
      kept.push_back(part);
  return llvm::join(kept, ",");
}

/// The unroll pass, the last of the pipeline-specific passes.
static void addPipelineUnroll(OpPassManager &pm, const ShardPipelineOptions &options) {
  if (!options.unroll)
    return;
  CleavePipelineUnrollOptions unroll;
  unroll.microBatches = options.microBatches;
  pm.addPass(createCleavePipelineUnroll(unroll));
}

/// cleave-pipeline-split with the shard pipeline's options; `stageGrid` is
/// the grid one stage's plan is made on (its dp and tp sizes price a chunk).
static void addPipelineSplit(OpPassManager &pm, const ShardPipelineOptions &options, int64_t stages,
                             llvm::StringRef stageGrid) {
  CleavePipelineSplitOptions split;
  split.stages = stages;
  split.virtualStages = options.virtualStages;
  split.microBatches = options.microBatches;
  split.schedule = options.schedule;
  split.cuts.assign(options.cuts.begin(), options.cuts.end());
  split.clusterName = options.cluster;
  split.dataParallel = getGridAxisSize(stageGrid, "dp");
  split.tensorParallel = getGridAxisSize(stageGrid, "tp");
  split.precision = options.precision;
  pm.addPass(createCleavePipelineSplit(split));
}

/// The pipeline options that contradict each other or the rest, or success.
static llvm::Error checkPipelineOptions(const ShardPipelineOptions &options, int64_t stages) {
  if (options.microBatches < 1)
    return makeError("--micro-batches " + std::to_string(options.microBatches) +
                     " must be at least 1");
  if (options.schedule != "gpipe" && options.schedule != "1f1b" &&
      options.schedule != "interleaved")
    return makeError("--schedule " + options.schedule +
                     " is not a pipeline schedule: use gpipe, "
                     "1f1b or interleaved");
  if (options.virtualStages < 1)
    return makeError("--virtual-stages " + std::to_string(options.virtualStages) +
                     " must be at least 1");
  if (options.virtualStages > 1 && options.schedule != "interleaved")
    return makeError("--virtual-stages " + std::to_string(options.virtualStages) +
                     " needs --schedule interleaved");
  if (stages > 1 && options.eval)
    return makeError("the evaluation function is not supported with pipeline stages (--grid "
                     "pp=" +
                     std::to_string(stages) + ") yet: build without it (cleavec --no-eval)");
  if (stages == 1 && (!options.cuts.empty() || options.virtualStages > 1))
    return makeError("--pipeline-cuts and --virtual-stages need pipeline stages: add pp=S to "
                     "--grid");
  return llvm::Error::success();
}

/// cleave-recompute, first of all (it needs the global step with phase tags
/// and no chunks yet), unless recompute is none.
static llvm::Error addRecompute(OpPassManager &pm, const ShardPipelineOptions &options) {
  std::optional<RecomputeMode> mode = parseRecomputeMode(options.recompute);
  if (!mode)
    return makeError("--recompute " + options.recompute + " is not none, selective or full");
  if (*mode == RecomputeMode::none)
    return llvm::Error::success();
  CleaveRecomputeOptions recompute;
  recompute.mode = options.recompute;
  pm.addPass(createCleaveRecompute(recompute));
  return llvm::Error::success();
}

llvm::Error mlir::cleave::buildCleaveMicroBatchPipeline(OpPassManager &pm,
                                                        const ShardPipelineOptions &options,
                                                        std::unique_ptr<Pass> beforeUnroll) {
  if (llvm::Error error = checkPipelineOptions(options, 1))
    return error;
  if (llvm::Error error = addRecompute(pm, options))
    return error;
  // Recomputation alone: nothing to unroll.
  if (options.microBatches == 1) {
    if (beforeUnroll)
      pm.addPass(std::move(beforeUnroll));
    return llvm::Error::success();
  }
  addPipelineSplit(pm, options, 1, "");
  if (beforeUnroll)
    pm.addPass(std::move(beforeUnroll));
  addPipelineUnroll(pm, options);
  return llvm::Error::success();
}

llvm::Error mlir::cleave::buildCleaveShardPipeline(OpPassManager &pm,
                                                   const ShardPipelineOptions &options,
                                                   std::unique_ptr<Pass> beforePartition) {
  std::string grid = getShardGrid(options);
  int64_t devices = gridDevices(grid);
  int64_t stages = getGridAxisSize(grid, kPipelineAxis);
  // "--grid pp=S --devices N": S stages, the search plans each on N / S.
  bool stagesOnly =
      stages > 1 && removeGridAxis(grid, kPipelineAxis).empty() && options.devices % stages == 0;
  if (options.devices > 0 && devices > 0 && devices != options.devices && !stagesOnly)
    return makeError("--grid " + grid + " has " + std::to_string(devices) +
                     " devices but --devices is " + std::to_string(options.devices) +
                     ": make them agree (or drop one of the two)");
  if (options.sequenceParallel != "auto" && options.sequenceParallel != "on" &&
      options.sequenceParallel != "off")
    return makeError("sequence-parallel " + options.sequenceParallel +
                     ": expected auto, on or off");
  bool pipelined = stages > 1 || options.microBatches > 1;
  if (pipelined)
    if (llvm::Error error = checkPipelineOptions(options, stages))
      return error;
  // The plan is made for one stage: the grid without its "pp" axis.
  std::string stageGridSpec = options.grid;
  int stageDevices = options.devices;
  if (stages > 1) {
    stageGridSpec = removeGridAxis(options.grid, kPipelineAxis);
    if (stageDevices > 0)
      stageDevices /= static_cast<int>(stages);
    if (stageGridSpec.empty())
      grid = "dp=" + std::to_string(stageDevices > 0 ? stageDevices : 1);
    else
      grid = stageGridSpec;
  }
  for (const std::string &pin : options.pins)
    if (pin.find(';') != std::string::npos)
      return makeError("--shard '" + pin + "' contains ';': give one NAME=SPEC per --shard");
  std::string pins = llvm::join(options.pins, ";");

  if (llvm::Error error = addRecompute(pm, options))
    return error;
  if (pipelined)
    addPipelineSplit(pm, options, stages, grid);

  // 1. The plan of @train_step: every op's `cleave.factor_axes`, every
  //    argument's and result's `cleave.sharding`, the module's grid.
  if (options.plan == ShardPlan::automatic && stageDevices > 1) {
    CleaveSearchShardingOptions search;
    search.devices = stageDevices;
    search.zero = static_cast<int>(options.zero.getValue());
    search.clusterName = options.cluster;
    search.gridSpec = stageGridSpec;
    search.pins = pins;
    search.precision = options.precision;
    search.sequenceParallel = options.sequenceParallel;
    pm.addPass(createCleaveSearchSharding(search));
    // Past its size the search records a fallback for these two to carry
    // out; when it planned, they do nothing.
    CleaveSeedShardingOptions fallbackSeed;
    fallbackSeed.fromSearch = true;
    pm.addPass(createCleaveSeedSharding(fallbackSeed));
    CleavePropagateShardingOptions fallbackPropagate;
    fallbackPropagate.fromSearch = true;
    pm.addPass(createCleavePropagateSharding(fallbackPropagate));
  } else {
    CleaveSeedShardingOptions seed;
    seed.gridSpec = grid;
    seed.zero = static_cast<int>(options.zero.getValue());
    seed.pins = pins;
    pm.addPass(createCleaveSeedSharding(seed));
    CleavePropagateShardingOptions propagate;
    propagate.sequenceParallel = options.sequenceParallel == "on";
    pm.addPass(createCleavePropagateSharding(propagate));
  }
  // The evaluation function sees the train step's parameter and batch
  // blocks, so its plan follows the train step's.
  if (options.eval)
    pm.addPass(createCleaveCopyArgumentSharding());
  if (beforePartition)
    pm.addPass(std::move(beforePartition));
  if (options.eval) {
    CleavePropagateShardingOptions propagate;
    propagate.function = kEvalFunction.str();
    pm.addPass(createCleavePropagateSharding(propagate));
  }

  // 2. The per-device program.
  pm.addPass(createCleavePartition());
  if (options.eval) {
    CleavePartitionOptions partitionEval;
    partitionEval.function = kEvalFunction.str();
    pm.addPass(createCleavePartition(partitionEval));
  }
  // No CSE after the partition: it would merge the backward's re-gather of
  // an activation with the forward's, keeping the gathered copy live
  // across the step (Partition.cpp).
  pm.addPass(createCanonicalizerPass());
  CleaveBucketCollectivesOptions bucket;
  bucket.bucketBytes = options.bucketBytes;
  // Micro-batches on one stage: the buckets are made on one micro-batch's
  // program, then unrolled (the gradient buckets move to the update with
  // their collectives). Made after the unroll, they would merge the
  // micro-batches' forward collectives (the loss's count under dp) and
  // move every backward behind the last forward, keeping all micro-batches'
  // activations alive. Stages are unrolled first: a bucket must not mix
  // two stages' gradients, and the transfers keep the actions in place.
  if (pipelined && stages == 1) {
    pm.addNestedPass<func::FuncOp>(createCleaveBucketCollectives(bucket));
    addPipelineUnroll(pm, options);
  } else {
    if (pipelined)
      addPipelineUnroll(pm, options);
    pm.addNestedPass<func::FuncOp>(createCleaveBucketCollectives(bucket));
  }
  // Last: on the final program (buckets made, micro-batches and stages
  // unrolled), whose collectives are the ones the step runs.
  if (options.overlap)
    pm.addNestedPass<func::FuncOp>(createCleaveOverlapCollectives());
  return llvm::Error::success();
}

void mlir::cleave::registerCleavePipelines() {
  PassPipelineRegistration<TrainPipelineOptions>(
      "cleave-train-pipeline",
      "Build the train step from @forward: dropout masks, loss, autodiff, optimizer",
      buildCleaveTrainPipeline);
  // Registered by hand rather than with PassPipelineRegistration, whose
  // builder cannot fail: contradicting options are reported, not ignored.
  registerPassPipeline(
      "cleave-shard-pipeline",
      "Split @train_step (and @eval_loss with eval) over a device grid: search or seed and "
      "propagate the plan, partition, merge gradient collectives",
      [](OpPassManager &pm, StringRef text,
         function_ref<LogicalResult(const Twine &)> errorHandler) {
        ShardPipelineOptions options;
        if (failed(options.parseFromString(text)))
          return failure();
        if (llvm::Error error = buildCleaveShardPipeline(pm, options))
          return errorHandler(llvm::toString(std::move(error)));
        return success();
      },
      [](function_ref<void(const mlir::detail::PassOptions &)> optionHandler) {
        optionHandler(ShardPipelineOptions());
      });
}
