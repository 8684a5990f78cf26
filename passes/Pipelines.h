//===- Pipelines.h - the pass sequences cleavec runs ----------------------===//
//
// Two registered pipelines, built by the same functions in cleave-opt and in
// the tools (compiler/TrainStep.cpp, compiler/ShardStep.cpp), so that
//
//   cleave-opt --cleave-train-pipeline="..." --cleave-shard-pipeline="..."
//
// reproduces what `cleavec --emit=train-mlir` prints for the same options.
//
//===----------------------------------------------------------------------===//
#ifndef CLEAVE_PASSES_PIPELINES_H
#define CLEAVE_PASSES_PIPELINES_H

#include "passes/TrainOptions.h"

#include "mlir/Pass/Pass.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Pass/PassOptions.h"
#include "llvm/Support/Error.h"

#include <memory>

namespace mlir::cleave {

struct TrainPipelineOptions : public PassPipelineOptions<TrainPipelineOptions> {
  // The loss and optimizer options (names, defaults, help) come from
  // passes/TrainOptions.def, as do cleavec's flags and the passes' options.
  // FIELD names the member it declares: it cannot be parenthesised.
  // NOLINTBEGIN(bugprone-macro-parentheses)
#define CLEAVE_LOSS_OPTION(FIELD, TYPE, FLAG, CLI_FLAG, DEFAULT, HELP, CHECK, SHOW_DEFAULT)        \
  Option<TYPE> FIELD{*this, FLAG, llvm::cl::desc(HELP), llvm::cl::init(DEFAULT)};
#define CLEAVE_OPTIMIZER_OPTION(FIELD, TYPE, FLAG, CLI_FLAG, DEFAULT, HELP, CHECK, SHOW_DEFAULT)   \
  Option<TYPE> FIELD{*this, FLAG, llvm::cl::desc(HELP), llvm::cl::init(DEFAULT)};
#include "passes/TrainOptions.def"
  // NOLINTEND(bugprone-macro-parentheses)
  Option<bool> eval{*this, "eval",
                    llvm::cl::desc("Also build @eval_loss: the loss of the model in evaluation "
                                   "semantics (cleave-derive-eval)"),
                    llvm::cl::init(false)};
  Option<bool> phaseTags{
      *this, "phase-tags",
      llvm::cl::desc("Tag forward, backward and update ops (cleave.fwd_id, cleave.bwd_of, "
                     "cleave.update_of) for pipelines and micro-batches"),
      llvm::cl::init(false)};

  LossSettings getLossSettings() const;
  OptimizerSettings getOptimizerSettings() const;
};

/// The evaluation function the train pipeline adds with `eval`.
inline constexpr llvm::StringLiteral kEvalFunction = "eval_loss";

/// forward -> loss -> gradients -> train_step, then canonicalisation and
/// CSE so that codegen sees the simplest program.
void buildCleaveTrainPipeline(OpPassManager &pm, const TrainPipelineOptions &options);

/// How the shard pipeline plans (see ShardPipelineOptions::plan).
enum class ShardPlan { automatic, dataParallel };

/// ZeRO levels over the dp axis (docs/sharding.md): 1 shards optimizer
/// state, 2 gradients too (reduce-scattered), 3 parameters too.
enum class ZeroLevel { none = 0, stage1 = 1, stage2 = 2, stage3 = 3 };

struct ShardPipelineOptions : public PassPipelineOptions<ShardPipelineOptions> {
  Option<ShardPlan> plan{
      *this, "plan",
      llvm::cl::desc("auto: with devices > 1, cleave-search-sharding picks the grid and every "
                     "sharding (ZeRO applied over its dp axis); otherwise the grid and pins are "
                     "the plan, completed by propagation"),
      llvm::cl::init(ShardPlan::automatic),
      llvm::cl::values(
          clEnumValN(ShardPlan::automatic, "auto", "the cost-driven search"),
          clEnumValN(ShardPlan::dataParallel, "dp", "plain data parallelism over `devices`"))};
  Option<int> devices{*this, "devices",
                      llvm::cl::desc("Ranks the program runs on (0: the grid's product)"),
                      llvm::cl::init(0)};
  Option<std::string> grid{
      *this, "grid",
      llvm::cl::desc("Device grid of named axes, e.g. dp=2,tp=2 (empty: dp=`devices`)"),
      llvm::cl::init("")};
  Option<ZeroLevel> zero{*this, "zero", llvm::cl::desc("ZeRO level over the dp axis"),
                         llvm::cl::init(ZeroLevel::none),
                         llvm::cl::values(clEnumValN(ZeroLevel::none, "0", "none"),
                                          clEnumValN(ZeroLevel::stage1, "1", "optimizer state"),
                                          clEnumValN(ZeroLevel::stage2, "2", "gradients too"),
                                          clEnumValN(ZeroLevel::stage3, "3", "parameters too"))};
  ListOption<std::string> pins{
      *this, "shard",
      llvm::cl::desc("Pinned parameter shardings, NAME=SPEC each (SPEC: one grid axis, a*b or "
                     "- per dimension; put a SPEC with commas in braces: {fc1.weight=tp,-})")};
  Option<std::string> cluster{
      *this, "cluster",
      llvm::cl::desc("Cluster profile (name or JSON file) the search prices plans on"),
      llvm::cl::init("cpu")};
  Option<std::string> precision{
      *this, "precision",
      llvm::cl::desc("fp32, or bf16: the search and the split price a mixed-precision run"),
      llvm::cl::init("fp32")};
  Option<int64_t> bucketBytes{
      *this, "bucket-bytes",
      llvm::cl::desc("Largest merged gradient message in bytes (cleave-bucket-collectives)"),
      llvm::cl::init(25 << 20)};
  Option<bool> eval{*this, "eval",
                    llvm::cl::desc("Also partition @eval_loss, on the train step's argument "
                                   "layouts (the train pipeline's `eval`)"),
                    llvm::cl::init(false)};
  // Pipelines (docs/pipeline.md); the stages are the grid's "pp" axis.
  Option<int> microBatches{
      *this, "micro-batches",
      llvm::cl::desc("Micro-batches per step: each data-parallel rank's batch runs as this many "
                     "equal parts and one optimizer update (gradient accumulation)"),
      llvm::cl::init(1)};
  Option<std::string> schedule{*this, "schedule",
                               llvm::cl::desc("Pipeline schedule: gpipe, 1f1b or interleaved"),
                               llvm::cl::init("1f1b")};
  Option<int> virtualStages{*this, "virtual-stages",
                            llvm::cl::desc("Chunks per rank stage (interleaved schedule)"),
                            llvm::cl::init(1)};
  ListOption<std::string> cuts{
      *this, "cuts", llvm::cl::desc("ONNX node names that end a chunk (empty: balanced split)")};
  // Activation recomputation (passes/Recompute/Recompute.h); needs the
  // train step's phase tags.
  Option<std::string> recompute{
      *this, "recompute",
      llvm::cl::desc("Recompute activations in the backward: none, selective or full"),
      llvm::cl::init("none")};
  Option<std::string> sequenceParallel{
      *this, "sequence-parallel",
      llvm::cl::desc("Norms' and elementwise ops' rows split over tp between tensor-parallel "
                     "blocks (Megatron-SP): auto (the search decides; a pinned plan keeps them "
                     "whole), on, off"),
      llvm::cl::init("auto")};
  Option<bool> overlap{
      *this, "overlap",
      llvm::cl::desc("Start gradient buckets and ZeRO-3 parameter gathers early and wait for "
                     "them where their result is needed (cleave-overlap-collectives); off: "
                     "the blocking schedule"),
      llvm::cl::init(true)};
  Option<bool> unroll{*this, "unroll",
                      llvm::cl::desc("Unroll the micro-batches and stages (off: stop after the "
                                     "split and one stage's plan, for a plan report of a "
                                     "pipeline too large to unroll)"),
                      llvm::cl::init(true)};
};

/// The grid axis of pipeline stages.
inline constexpr llvm::StringLiteral kPipelineAxis = "pp";

/// The size of `axis` in the grid spec "pp=2,dp=2" (1 when it has no such
/// axis or does not parse).
int64_t getGridAxisSize(llvm::StringRef grid, llvm::StringRef axis);

/// The grid spec without `axis` ("pp=2,dp=2" -> "dp=2"; "" when nothing is
/// left).
std::string removeGridAxis(llvm::StringRef grid, llvm::StringRef axis);

/// Only micro-batches or recomputation, on one device: cleave-recompute
/// (unless recompute is none), then with micro-batches phases (cleave-pipeline-split), then
/// `beforeUnroll` (plan reports), then cleave-pipeline-unroll.
llvm::Error buildCleaveMicroBatchPipeline(OpPassManager &pm, const ShardPipelineOptions &options,
                                          std::unique_ptr<Pass> beforeUnroll = nullptr);

/// Whether the cost-driven search plans (rather than seed + propagate).
bool usesShardingSearch(const ShardPipelineOptions &options);

/// The grid the pipeline lays out: `grid`, else dp over `devices`.
std::string getShardGrid(const ShardPipelineOptions &options);

/// Search (or seed + propagate) the plan of @train_step, then partition it
/// into the per-device program, merge gradient collectives. With
/// micro-batches or a "pp" axis, cleave-pipeline-split runs first, the plan
/// is made on the grid without "pp" and cleave-pipeline-unroll runs after
/// the partition. When given,
/// `beforePartition` runs once every op of @train_step has its sharding and
/// before the partitioner rewrites it to per-device types (the plan report
/// reads global shapes and layouts there). Fails on options that contradict
/// each other (a grid whose size is not `devices`, ...).
llvm::Error buildCleaveShardPipeline(OpPassManager &pm, const ShardPipelineOptions &options,
                                     std::unique_ptr<Pass> beforePartition = nullptr);

/// Registers `cleave-train-pipeline` and `cleave-shard-pipeline` for cleave-opt.
void registerCleavePipelines();

} // namespace mlir::cleave

#endif // CLEAVE_PASSES_PIPELINES_H
