//===- ShardStep.h - split a train step over a device grid ----------------===//
//
// What cleavec runs after the train pipeline when the user asks for more
// than one device: cleave-shard-pipeline (passes/Pipelines.h) with the
// tools' options, its diagnostics returned as an error.
//
//===----------------------------------------------------------------------===//
#ifndef CLEAVE_COMPILER_SHARDSTEP_H
#define CLEAVE_COMPILER_SHARDSTEP_H

#include "compiler/TrainStep.h"

#include "mlir/IR/BuiltinOps.h"
#include "mlir/Pass/Pass.h"
#include "llvm/Support/Error.h"

#include <memory>
#include <string>
#include <vector>

namespace mlir::cleave {

struct ShardPipelineOptions;

/// cleave-shard-pipeline's options as plain values (copyable: cleave-plan
/// plans several variants); see ShardPipelineOptions for their meaning.
struct ShardOptions {
  /// "dp=2,tp=2"; empty: `devices` ranks of data parallelism.
  std::string grid;
  /// Ranks the program runs on (0: the grid's product).
  int devices = 0;
  /// ZeRO level over dp: 0, 1 (optimizer state), 2 (and gradients,
  /// reduce-scattered) or 3 (and parameters); with `devices` (plan auto)
  /// applied over the searched plan's dp axis.
  int zero = 0;
  /// Parameter pins, "NAME=SPEC" each (SPEC: one grid axis, a*b or - per dimension).
  std::vector<std::string> pins;
  /// "auto": with only a device count, the cost-driven search
  /// (cleave-search-sharding) picks the grid and every sharding; "dp": plain
  /// data parallelism over the devices. --grid, --zero and --shard pins
  /// constrain the search; without `devices` they are the plan, completed
  /// by propagation.
  std::string plan = "auto";
  /// Cluster profile (name or JSON file) the search prices plans on.
  std::string cluster = "cpu";
  /// "fp32" or "bf16" (--precision): what the search and the split price.
  std::string precision = "fp32";
  /// Largest merged gradient message in bytes (cleave-bucket-collectives,
  /// 25 MiB like PyTorch DDP); 0 sends one message per collective.
  int64_t bucketBytes = 25 << 20;
  /// Pipelines (docs/pipeline.md): micro-batches per step, and with a "pp"
  /// axis in `grid` the schedule, the chunks per rank stage and the ONNX
  /// nodes that end a chunk.
  int microBatches = 1;
  std::string schedule = "1f1b";
  int virtualStages = 1;
  std::vector<std::string> pipelineCuts;
  /// Activation recomputation: "none", "selective" or "full"; "" (the
  /// default) lets the configuration search decide where it runs, else none.
  std::string recompute;
  /// Megatron-SP, norms' rows split over tp: "auto" (the search decides;
  /// pinned plans keep norms whole), "on", "off".
  std::string sequenceParallel = "auto";
  /// Which of the flags above the user gave (the configuration search
  /// keeps them; docs/planner.md).
  bool microBatchesPinned = false, schedulePinned = false, zeroPinned = false;
  /// Gradient buckets and ZeRO-3 parameter gathers started early and
  /// waited for late (cleave-overlap-collectives); off (--no-overlap): the
  /// blocking schedule.
  bool overlapCommunication = true;
  /// Off: a pipeline stops after its split and one stage's plan (a plan
  /// report of a pipeline too large to unroll; never for code).
  bool unrollPipeline = true;

  /// The pipeline's options; `eval` partitions @eval_loss too.
  void toPipelineOptions(ShardPipelineOptions &pipeline, bool eval) const;
};

/// Whether `options` asks for more than one device.
bool wantsSharding(const ShardOptions &options);

/// The size of the grid's "pp" axis (1 without one or for a malformed grid).
int64_t getPipelineStages(const ShardOptions &options);

/// Whether `options` asks for micro-batches or pipeline stages (the shard
/// pipeline then unrolls the step) or recomputation: the train step then
/// carries phase tags.
bool wantsPipeline(const ShardOptions &options);

/// Whether `options` recomputes activations (recompute neither "" nor
/// "none"): the train step then carries phase tags and shardTrainStep runs
/// cleave-recompute even on one device.
bool wantsRecompute(const ShardOptions &options);

/// Partitions @train_step of `module` in place (and unrolls it into
/// micro-batches and stages where wantsPipeline; without a grid that is all
/// it does) (and @eval_loss, where the
/// module has one, with the train step's argument layouts). The error carries the
/// passes' diagnostics (a grid that does not divide a dimension, ...).
/// `beforePartition` runs once every op has its sharding and before the
/// partitioner rewrites the step to per-device types (plan reports read
/// global shapes and layouts there).
llvm::Error shardTrainStep(ModuleOp module, const ShardOptions &options,
                           std::unique_ptr<Pass> beforePartition = nullptr);

} // namespace mlir::cleave

#endif // CLEAVE_COMPILER_SHARDSTEP_H
