//===- PlanReport.h - what a sharding plan costs, for people and tools ----===//
//
// A plan report prices a partitioned train step (cleave-partition's output:
// per-device types and explicit shard collectives) on one cluster:
//
//   - every tensor a device holds between steps (parameters, optimizer
//     state, batch inputs) and the largest intermediates: global shape,
//     sharding (the grid axes of each dimension), bytes per device;
//   - every collective: kind, grid axes, bytes per device, predicted time
//     (the alpha-beta model of passes/Analysis/Cost/CollectiveCost.h), identical
//     ones grouped;
//   - compute time per op (the roofline of passes/Analysis/Cost/ComputeCost.h on
//     the per-device op: its types already carry the split);
//   - per-device memory: the persistent tensors plus the codegen memory
//     plan's workspace peak (gradients and activations, from liveness);
//   - the step time: compute + communication. Nothing overlaps yet, so all
//     communication is exposed; the report says so.
//
// cleave-plan and `cleavec --emit=plan` print it (PlanPrint.cpp, as a
// table, JSON or Graphviz dot); cleavec refuses a plan that does not fit.
//
//===----------------------------------------------------------------------===//
#ifndef CLEAVE_COMPILER_PLAN_PLANREPORT_H
#define CLEAVE_COMPILER_PLAN_PLANREPORT_H

#include "compiler/ShardStep.h"
#include "passes/Analysis/Cluster/Cluster.h"
#include "passes/Analysis/Cost/ComputeCost.h"
#include "passes/Analysis/Cost/Precision.h"

#include "mlir/IR/BuiltinOps.h"
#include "llvm/Support/Error.h"
#include "llvm/Support/JSON.h"
#include "llvm/Support/raw_ostream.h"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace mlir::cleave {

/// One tensor of the plan.
struct PlanTensor {
  /// Parameter or optimizer-state name, input name, or for an activation
  /// the op that makes it ("cleave.matmul at fc1/MatMul").
  std::string name;
  std::vector<int64_t> globalShape;
  std::string elementType;
  /// Grid axes per dimension, "[dp, -]"; " partial(tp)" when devices hold
  /// partial sums.
  std::string sharding;
  int64_t bytesPerDevice = 0;
};

/// Collectives with the same kind, axes and size, counted together.
struct PlanCollective {
  std::string kind;      // all_reduce, reduce_scatter, all_gather, all_slice, ...
  std::string axes;      // grid axis names, "dp" or "dp*tp"
  int64_t bytes = 0;     // per device (the model's S: see CollectiveCost.h)
  double seconds = 0;    // one of them
  std::string algorithm; // what the library runs: "nccl ring", "mpi", ... ("-": nothing moves)
  int64_t count = 0;
  /// Of seconds * count, what the schedule cannot hide (PlanOverlap.cpp).
  double exposedSeconds = 0;
  /// How the schedule runs them: "blocking", "overlapped" (a gradient
  /// collective posted when its bucket is ready, waited for where the
  /// optimizer reads it) or "prefetched" (a ZeRO-3 parameter gather posted
  /// one layer ahead).
  std::string schedule = "blocking";
};

/// Compute of all ops of one kind.
struct PlanOpTime {
  std::string op;
  int64_t count = 0;
  double seconds = 0;
};

/// Bytes one device holds.
struct PlanMemory {
  int64_t parameters = 0;
  int64_t optimizerState = 0;
  int64_t inputs = 0;
  /// The codegen memory plan's peak: gradients, activations, collective
  /// buffers and updated tensors that cannot be written in place.
  int64_t workspace = 0;
  /// Of the workspace: the trainable parameters' gradients, estimated as
  /// those parameters' bytes on this device (what ZeRO-3 can shard); the
  /// rest of the workspace is activations and scratch.
  int64_t gradients = 0;
  /// Of the workspace: the forward values the backward reads (ops up to
  /// the loss, or tagged forward, with a later user), at most the workspace
  /// less the gradients: what recomputation can drop.
  int64_t activations = 0;
  /// Empty when `workspace` is the memory plan's; otherwise why the
  /// planner could not run and `workspace` is the sum of every
  /// intermediate (an upper bound).
  std::string workspaceNote;
  int64_t total() const { return parameters + optimizerState + inputs + workspace; }
};

/// A device's memory as disjoint parts that sum to its total: the stacked
/// bars of the HTML page and JSON's memory_per_device.parts. `workspace`
/// here is the rest of the workspace peak (collective buffers, backward
/// temporaries, updated tensors not written in place).
struct PlanMemoryParts {
  int64_t parameters = 0, gradients = 0, optimizerState = 0, activations = 0, workspace = 0,
          inputs = 0;
  int64_t total() const {
    return parameters + gradients + optimizerState + activations + workspace + inputs;
  }
};
PlanMemoryParts memoryParts(const PlanMemory &memory);

/// One chunk (virtual stage) of a pipeline: what cleave-pipeline-split
/// recorded for it, per micro-batch on one device of its stage. Figures the
/// module's cleave.pipeline lacks are empty.
struct PlanChunk {
  int64_t chunk = 0;
  /// Its rank stage: chunk % stages (Megatron's interleaved assignment).
  int64_t stage = 0;
  /// The ONNX nodes its forward spans, in forward order ("" when no op of
  /// the chunk names one).
  std::string firstNode, lastNode;
  std::optional<double> forwardSeconds, backwardSeconds;
  std::optional<int64_t> parameterBytes, activationBytes;
};

/// One rank stage: per step, on one of its devices.
struct PlanStage {
  int64_t stage = 0;
  std::vector<int64_t> chunks;
  /// Busy time: every micro-batch's forward and backward of its chunks,
  /// plus its optimizer update (cost model, like the plan's compute).
  std::optional<double> seconds;
  /// Weights + gradients + optimizer state + activations in flight.
  std::optional<int64_t> memoryBytes;
  std::optional<int64_t> weightBytes, gradientBytes, optimizerBytes, activationBytes;
  /// Micro-batches whose activations the stage holds at once.
  std::optional<int64_t> inFlight;
};

/// One bar of the pipeline's timeline: Schedule.h's simulate replayed with
/// the split's chunk times and cut latencies, as the split priced the step.
struct PlanTimelineEntry {
  int64_t stage = 0;
  /// -1 for the optimizer update (after the pipeline drains).
  int64_t microBatch = -1;
  int64_t chunk = -1;
  /// forward, backward, weight (ZB-H1's weight-gradient pass), send, recv
  /// (a cut's activations or their gradients, on the sending and the
  /// receiving stage; they do not occupy the stage), update.
  std::string kind;
  double start = 0, end = 0;
};

struct PlanSharedParameter {
  std::string name;
  /// Every chunk whose forward reads it, the owner (which updates it) first.
  std::vector<int64_t> chunks;
};

/// The module's cleave.pipeline dictionary (docs/pipeline.md) as the plan
/// shows it, with the chunks' ONNX nodes read from the ops' cleave.stage.
struct PlanPipeline {
  std::optional<int64_t> stages, virtualStages, microBatches;
  std::string schedule;
  /// ONNX nodes that end each chunk but the last, and the activation
  /// bytes per micro-batch crossing each.
  std::vector<std::string> cuts;
  std::vector<int64_t> cutBytes;
  /// The latency the split's simulation gave each cut (p2p_seconds).
  std::vector<double> cutSeconds;
  std::vector<PlanChunk> chunks;
  std::vector<PlanStage> stageList;
  std::optional<double> predictedStepSeconds, bubble;
  std::vector<PlanSharedParameter> sharedParameters;
  /// Keys of the dictionary that are absent or not of the expected type
  /// ("cut_bytes"), in the order the contract lists them.
  std::vector<std::string> missingKeys;
  /// The simulated step (empty with its reason in timelineNote when the
  /// settings or chunk times are unknown); stageOrder[p]: stage p's
  /// actions in order, "F0.1" (forward of chunk 0 on micro-batch 1), "B",
  /// "W"; stageBusy[p]: the seconds stage p computes; timelineSeconds: when
  /// the last backward ends (the updates follow).
  std::vector<PlanTimelineEntry> timeline;
  std::vector<std::vector<std::string>> stageOrder;
  std::vector<double> stageBusy;
  double timelineSeconds = 0;
  /// timelineSeconds plus the longest update: the split's predicted step
  /// when the module's figures are its own.
  double timelineStepSeconds = 0;
  std::string timelineNote;

  /// The textbook bubble: (S-1)/(M+S-1), divided by V when interleaved;
  /// empty without S and M.
  std::optional<double> formulaBubble() const;
  /// The first stage whose memory exceeds `capacity`, or -1.
  int64_t firstStageOver(int64_t capacity) const;
};

/// One rank stage's own per-device function (@train_step_stage<p>, once
/// cleave-pipeline-unroll has run), priced like a whole step.
struct PlanStageProgram {
  int64_t stage = 0;
  double computeSeconds = 0;
  double communicationSeconds = 0;
  /// The arguments the stage uses (it returns the others unchanged) and
  /// its workspace peak.
  PlanMemory memory;
};

/// The per-stage functions of an unrolled pipeline: "train_step_stage0", ...
inline constexpr llvm::StringLiteral kStageFunctionPrefix = "train_step_stage";
/// What the pp axis of a pipeline does, as the plan's headline says it.
inline constexpr llvm::StringLiteral kStageAxisRole =
    "pipeline stages (each device holds its stage's chunks)";

/// The configuration the plan carries out (docs/planner.md): chosen by the
/// configuration search, or given whole by the user's flags.
struct PlanConfiguration {
  std::string spec;
  int64_t pp = 1, dp = 1, tp = 1, microBatches = 1, virtualStages = 1;
  std::string schedule = "1f1b", recompute = "none", precision = "fp32";
  int zero = 0;
  bool sequenceParallel = false;
  /// "search" or "pins" (every decision given).
  std::string chosenBy = "search";
  double searchSeconds = 0, predictedStepSeconds = 0, memoryBytes = 0;
  int64_t configurationsPriced = 0;
  bool fits = true;
  struct Alternative {
    std::string spec;
    double stepSeconds = 0, memoryBytes = 0;
    bool fits = true;
  };
  /// The best others the search priced, by step time (those that fit
  /// first).
  std::vector<Alternative> alternatives;
};

struct PlanReport {
  /// Set when the configuration search ran.
  std::optional<PlanConfiguration> configuration;
  /// Set when the pipeline has too many micro-batches x ops to unroll and
  /// price op by op: why the figures are the split's and one stage's.
  std::string notUnrolled;
  /// "dp=2,tp=2" ("single device" without a grid), ZeRO level.
  std::string grid;
  std::vector<std::string> axisNames;
  std::vector<int64_t> gridShape;
  /// Grid axes no tensor and no op is split over: their devices repeat
  /// each other's work (propagation found nothing to split there).
  std::vector<std::string> idleAxes;
  /// Per grid axis (axisNames order), what the plan splits over it, as
  /// the headline says it: "data parallel (splits the batch)", "tensor
  /// parallel (splits weights, not the batch)", ... An axis's name is the
  /// user's or the search's label; this is what it does.
  std::vector<std::string> axisRoles;
  /// Per grid axis: norms' rows split over it while it splits weights
  /// (Megatron-SP).
  std::vector<bool> axisSequenceParallel;
  int zero = 0;
  Cluster cluster;

  std::vector<PlanTensor> parameters;
  std::vector<PlanTensor> optimizerState;
  std::vector<PlanTensor> inputs;
  /// The largest intermediates, by bytes per device.
  std::vector<PlanTensor> activations;

  std::vector<PlanCollective> collectives; // by total time, largest first
  std::vector<PlanOpTime> compute;         // by op kind, by time, largest first
  /// The slowest single ops (count 1 each; PlanOptions::topOps of them).
  std::vector<PlanOpTime> slowestOps;
  PlanMemory memory;

  double computeSeconds = 0;
  double communicationSeconds = 0;
  /// Communication not hidden behind compute (PlanOverlap.cpp); all of it
  /// when overlapModelled is false.
  double exposedSeconds = 0;
  /// Whether the figures model the overlapped schedule (PlanOptions::overlap).
  bool overlapModelled = false;
  /// The part of computeSeconds that is kernels' launch floor
  /// (device.kernel_launch_us; PlanKernels.cpp).
  double launchSeconds = 0;
  /// Kernels the step launches (heavy ops and fused elementwise loops).
  int64_t kernels = 0;
  /// What the figures price (PlanOptions::precision): "fp32" or "bf16".
  std::string precision = "fp32";
  /// Under bf16, one line on where the executable cleavec builds differs
  /// from the mixed-precision run the figures describe; empty under fp32.
  std::string precisionNote;
  /// Under bf16, what that executable needs per device (its fp32 buffers:
  /// `memory` counted at fp32, the largest stage's for a pipeline).
  std::optional<int64_t> executableBytes;
  /// Set when the module is a pipeline (it carries cleave.pipeline).
  std::optional<PlanPipeline> pipeline;
  /// Each stage's function when the step is unrolled into stages; the
  /// figures above are then the busiest stage's (time) and the largest
  /// stage's (memory).
  std::vector<PlanStageProgram> stagePrograms;
  /// compute + exposed communication; for a pipeline the split's predicted
  /// step (its stages' compute with the bubble) replaces compute.
  double stepSeconds() const;

  int64_t devices() const;
  /// For a pipeline whose stages' memory is known: every stage fits, and
  /// so does `memory` where it is one stage's (programIsOneStage).
  bool fits() const;
  /// Whether `memory` and the times are one stage's program: the stages'
  /// own functions, or the step of a one-stage pipeline (micro-batches
  /// only); not a step not yet split into stages.
  bool programIsOneStage() const;
};

struct PlanOptions {
  /// How many intermediates the report lists.
  int topActivations = 10;
  /// How many of the slowest ops the report lists.
  int topOps = 10;
  ComputeOptions compute;
  /// bf16: memory, compute and messages are a mixed-precision run's
  /// (Precision.h); `compute` should then be getComputeOptions(bf16).
  Precision precision = Precision::fp32;
  /// Leave `plan.sharding` on every op of the partitioned step (the
  /// dot picture colours nodes by it); cleavec does not want it in its IR.
  bool keepOpShardings = false;
  /// Price the overlapped schedule cleave-overlap-collectives builds
  /// (gradient collectives behind the backward, ZeRO-3 gathers one layer
  /// ahead); false prices the blocking one (`--no-overlap`), where all
  /// communication is exposed.
  bool overlap = true;
};

inline constexpr llvm::StringLiteral kPlanShardingAttr = "plan.sharding";

/// Reads the global view of a sharded but not yet partitioned module
/// (after cleave-propagate-sharding): the tensors of `report` and, with
/// `annotate`, each op's result sharding as kPlanShardingAttr.
llvm::Error collectPlanTensors(ModuleOp module, const PlanOptions &options, PlanReport &report,
                               bool annotate);

/// collectPlanTensors as a pass, for cleave-shard-pipeline's slot between
/// the plan and the partition (shardTrainStep's `beforePartition`): it fills
/// `report`'s tensors, which must outlive the pass manager.
std::unique_ptr<Pass> createCollectPlanTensorsPass(const PlanOptions &options, PlanReport &report);

/// Prices the partitioned @train_step of `module` on report.cluster:
/// collectives, compute, memory and step time. Runs the codegen memory
/// planner on a clone; `module` is left unchanged.
llvm::Error evaluatePartitioned(ModuleOp module, const PlanOptions &options, PlanReport &report);

/// The most ops an unrolled pipeline may have for the plan report to
/// unroll it (micro-batches x the step's ops).
inline constexpr int64_t kMaxUnrolledOps = 400000;

/// Shards @train_step of `module` in place with `shard` (any grid; a single
/// device when `shard` asks for none) and reports the plan on `cluster`.
/// The grid must use the cluster's device count.
llvm::Expected<PlanReport> planTrainStep(ModuleOp module, const ShardOptions &shard,
                                         const Cluster &cluster, const PlanOptions &options = {});

/// Fails when the plan needs more memory per device than the cluster has:
/// "needs X GiB per device, the profile has Y GiB", then what dominates
/// (parameters, gradients, optimizer state, activations) and only the
/// remedies that shrink that part: ZeRO for state, tensor parallelism or a
/// smaller micro-batch for activations.
llvm::Error checkPlanFits(const PlanReport &report);

/// checkPlanFits for a pipeline whose stages' memory is known: names the
/// first stage over capacity, its parts, and what shrinks the largest.
llvm::Error checkPipelineFits(const PlanReport &report);

/// The devices `shard` runs on: --devices, else the product of --grid's
/// sizes, else 1; -1 for a malformed grid (sharding then says why).
int64_t getPlanDevices(const ShardOptions &shard);

/// An alternative plan "dp=2,tp=4 zero=3" (grid and `zero=N`, separated by
/// spaces) as ShardOptions; the grid alone ("dp=8") means ZeRO 0.
llvm::Expected<ShardOptions> parsePlanSpec(llvm::StringRef spec);

/// Reads `module`'s cleave.pipeline into report.pipeline (unset when the
/// module has none). Absent or malformed keys are listed, never fatal.
void readPlanPipeline(ModuleOp module, PlanReport &report);

/// A pipeline stage's parts, when the split says what it holds: its weights,
/// gradients, optimizer state and activations in flight; the stage's
/// planned program (once unrolled) adds its batch inputs and, as workspace,
/// whatever else it needs beyond them.
std::optional<PlanMemoryParts> stageMemoryParts(const PlanReport &report, const PlanStage &stage);

/// Fills report.pipeline's timeline (PlanTimeline.cpp); readPlanPipeline
/// calls it. The cut latencies are the split's (p2p_seconds), else priced
/// as the split does on report.cluster.
void buildPlanTimeline(PlanReport &report);
/// Why the timeline's step is not the split's predicted one (a module
/// whose figures were written by hand or by an older split), or none.
std::optional<std::string> timelineMismatch(const PlanPipeline &pipeline);

/// Output (PlanPrint.cpp, PlanJSON.cpp, PlanDot.cpp, PlanHtml.cpp).
void printPlanTable(const PlanReport &report, llvm::raw_ostream &os);
llvm::json::Value planToJSON(const PlanReport &report);
/// The partitioned @train_step as a graph: ops coloured by their sharding
/// (kPlanShardingAttr; PlanOptions::keepOpShardings), collectives
/// highlighted and labelled with their predicted time.
void printPlanDot(ModuleOp module, const PlanReport &report, llvm::raw_ostream &os);
void printPlanComparison(const PlanReport &chosen, const PlanReport &alternative,
                         llvm::raw_ostream &os);
llvm::json::Value planComparisonToJSON(const PlanReport &chosen, const PlanReport &alternative);
/// One self-contained HTML page (inline SVG and CSS, nothing loaded from
/// anywhere): the grid, the pipeline's timeline, memory per device or
/// stage, the largest collectives; both plans side by side with
/// `alternative`.
void printPlanHtml(const PlanReport &report, const PlanReport *alternative, llvm::raw_ostream &os);

/// "cleave.binary add (/h.0/attn/Add)": the op, its kind and the ONNX node
/// it came from when its location names one.
std::string describeOp(Operation *op);

/// "1.50 GiB", "27.0 KiB", "12 B".
std::string formatBytes(int64_t bytes);
/// "1.234 ms", "12.3 us", "2.50 s".
std::string formatSeconds(double seconds);

} // namespace mlir::cleave

#endif // CLEAVE_COMPILER_PLAN_PLANREPORT_H
