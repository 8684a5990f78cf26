//===- PlanEvaluate.cpp - price a partitioned train step ------------------===//
#include "compiler/Codegen/Legalize.h"
#include "compiler/Codegen/MemoryPlan.h"
#include "compiler/Codegen/Schedule.h"
#include "compiler/Plan/PlanKernels.h"
#include "compiler/Plan/PlanOverlap.h"
#include "compiler/Plan/PlanReport.h"
#include "dialects/Cleave/IR/CleaveOps.h"
#include "passes/Analysis/Cost/CommOverlap.h"
#include "passes/Analysis/Cost/ReshardCost.h"
#include "passes/Analysis/Sharding/GridSpec.h"
#include "passes/Analysis/Sharding/TensorSharding.h"
#include "passes/TrainStepAttrs.h"

#include "mlir/Dialect/Shard/IR/ShardOps.h"
#include "mlir/IR/Diagnostics.h"
#include "llvm/ADT/StringExtras.h"

#include <algorithm>
#include <map>
#include <tuple>

using namespace mlir;
using namespace mlir::cleave;

static llvm::Error makeError(const llvm::Twine &message) {
  return llvm::createStringError(llvm::inconvertibleErrorCode(), message);
}

int64_t PlanReport::devices() const {
  int64_t product = 1;
  for (int64_t size : gridShape)
    product *= size;
  return product;
}

double PlanReport::stepSeconds() const {
  if (pipeline && pipeline->predictedStepSeconds)
    return *pipeline->predictedStepSeconds + exposedSeconds;
  return computeSeconds + exposedSeconds;
}

/// Whether the pipeline says what any of its stages holds.
static bool knowsStageMemory(const PlanReport &report) {
  return report.pipeline && llvm::any_of(report.pipeline->stageList, [](const PlanStage &stage) {
           return stage.memoryBytes.has_value();
         });
}

bool PlanReport::programIsOneStage() const {
  // A step left whole (notUnrolled) holds every micro-batch at once.
  if (!notUnrolled.empty())
    return false;
  return !stagePrograms.empty() || (pipeline && pipeline->stageList.size() == 1);
}

bool PlanReport::fits() const {
  bool programFits = memory.total() <= cluster.memoryCapacity;
  // A device of a pipeline holds its stage only: a train step not yet
  // unrolled into stages says nothing about it, the stages' own programs
  // (the largest is `memory`) do.
  if (knowsStageMemory(*this))
    return pipeline->firstStageOver(cluster.memoryCapacity) < 0 &&
           (!programIsOneStage() || programFits);
  return programFits;
}

static std::string axesName(ArrayRef<int16_t> axes, const PlanReport &report) {
  if (axes.empty())
    return "-";
  std::string text;
  for (auto [index, axis] : llvm::enumerate(axes)) {
    text += index ? "*" : "";
    text += axis >= 0 && axis < static_cast<int16_t>(report.axisNames.size())
                ? report.axisNames[axis]
                : "axis" + std::to_string(axis);
  }
  return text;
}

/// The codegen memory plan's workspace peak for `function`, planned on a
/// clone of its module (legalization rewrites ops). At bf16 the clone's f32
/// values are retyped to bf16 once scheduled: the same schedule's peak with
/// a mixed-precision run's 2-byte activations and gradients.
static llvm::Expected<int64_t> workspacePeak(ModuleOp module, llvm::StringRef name,
                                             Precision precision) {
  OwningOpRef<ModuleOp> clone = module.clone();
  auto function = clone->lookupSymbol<func::FuncOp>(name);
  std::string diagnostics;
  ScopedDiagnosticHandler handler(module.getContext(), [&](Diagnostic &diagnostic) {
    diagnostics += diagnostic.str() + "\n";
    return success();
  });
  if (failed(codegen::legalizeForCodegen(function)))
    return makeError("planning the workspace failed: " + diagnostics);
  codegen::Schedule schedule = codegen::buildSchedule(function);
  if (precision != Precision::fp32) {
    // Arguments too, so that an update still writes its argument in place.
    for (BlockArgument argument : function.getArguments())
      argument.setType(getTrainingType(argument.getType(), precision));
    function.walk([&](Operation *op) {
      for (Value result : op->getResults())
        result.setType(getTrainingType(result.getType(), precision));
    });
  }
  return codegen::planMemory(function, schedule).workspaceBytes;
}

/// The forward values the backward reads, each counted once: results of
/// the forward ops (tagged forward, else those up to the op that computes
/// the loss) that an op after the forward uses. Reshapes are views.
static int64_t savedActivationBytes(func::FuncOp function, Precision precision) {
  Block &body = function.getBody().front();
  bool tagged =
      llvm::any_of(body, [](Operation &op) { return op.hasAttr(CleaveDialect::kPhaseAttrName); });
  Operation *loss = tagged ? nullptr : findLossOp(function);
  if (!tagged && (!loss || loss->getBlock() != &body))
    return 0;
  llvm::DenseSet<Operation *> forward;
  bool beforeLoss = true;
  for (Operation &op : body.without_terminator()) {
    auto phase = op.getAttrOfType<StringAttr>(CleaveDialect::kPhaseAttrName);
    if (tagged ? phase && phase.getValue() == "forward" : beforeLoss)
      forward.insert(&op);
    if (&op == loss)
      beforeLoss = false;
  }
  int64_t bytes = 0;
  for (Operation *op : forward) {
    if (isa<ReshapeOp>(op))
      continue;
    for (Value result : op->getResults()) {
      if (!isa<RankedTensorType>(result.getType()))
        continue;
      bool read = llvm::any_of(result.getUsers(), [&](Operation *user) {
        Operation *top = body.findAncestorOpInBlock(*user);
        return top && !forward.contains(top) && !isa<func::ReturnOp>(top);
      });
      if (read)
        bytes += getActivationBytes(result.getType(), precision);
    }
  }
  return bytes;
}

PlanMemoryParts mlir::cleave::memoryParts(const PlanMemory &memory) {
  PlanMemoryParts parts;
  parts.parameters = memory.parameters;
  parts.optimizerState = memory.optimizerState;
  parts.inputs = memory.inputs;
  parts.gradients = std::clamp<int64_t>(memory.gradients, 0, memory.workspace);
  parts.activations =
      std::clamp<int64_t>(memory.activations, 0, memory.workspace - parts.gradients);
  parts.workspace = memory.workspace - parts.gradients - parts.activations;
  return parts;
}

std::optional<PlanMemoryParts> mlir::cleave::stageMemoryParts(const PlanReport &report,
                                                              const PlanStage &stage) {
  if (!stage.memoryBytes)
    return std::nullopt;
  PlanMemoryParts parts;
  parts.parameters = stage.weightBytes.value_or(0);
  parts.gradients = stage.gradientBytes.value_or(0);
  parts.optimizerState = stage.optimizerBytes.value_or(0);
  parts.activations = stage.activationBytes.value_or(0);
  for (const PlanStageProgram &program : report.stagePrograms)
    if (program.stage == stage.stage) {
      parts.inputs = program.memory.inputs;
      parts.workspace = std::max<int64_t>(0, program.memory.total() - parts.total());
    }
  return parts;
}

/// The per-device memory of `function` priced at `precision`.
static PlanMemory priceMemory(ModuleOp module, func::FuncOp function, bool stage,
                              Precision precision) {
  PlanMemory memory;
  for (BlockArgument argument : function.getArguments()) {
    if (!isa<RankedTensorType>(argument.getType()))
      continue;
    if (stage && llvm::all_of(argument.getUsers(),
                              [](Operation *user) { return isa<func::ReturnOp>(user); }))
      continue;
    unsigned index = argument.getArgNumber();
    Type type = argument.getType();
    if (auto param = function.getArgAttrOfType<ParamAttr>(index, CleaveDialect::kParamAttrName)) {
      memory.parameters += getParameterBytes(type, precision);
      if (param.getKind() == ParamKind::trainable)
        memory.gradients += getActivationBytes(type, precision);
    } else if (function.getArgAttr(index, CleaveDialect::kOptStateAttrName))
      memory.optimizerState += getOptimizerStateBytes(type, precision);
    else if (function.getArgAttr(index, CleaveDialect::kInputAttrName))
      memory.inputs += getTensorBytes(type);
  }
  llvm::Expected<int64_t> workspace = workspacePeak(module, function.getSymName(), precision);
  if (workspace) {
    memory.workspace = *workspace;
  } else {
    // Codegen cannot plan this step (an op it does not lower yet): count
    // every intermediate as live at once, and say so.
    memory.workspaceNote = llvm::toString(workspace.takeError());
    function.walk([&](Operation *op) {
      if (isa<ReshapeOp>(op))
        return; // a view of its operand
      for (Value result : op->getResults())
        if (isa<RankedTensorType>(result.getType()))
          memory.workspace += getActivationBytes(result.getType(), precision);
    });
  }
  return memory;
}

/// Prices one per-device step function into `report`'s collectives,
/// compute, step time and memory. `stage`: the function is one rank stage
/// of an unrolled pipeline, whose devices hold only the arguments it uses
/// (the others it returns unchanged: another stage updates them).
static void evaluateFunction(ModuleOp module, func::FuncOp function, GridCollectives &grid,
                             const PlanOptions &options, PlanReport &report, bool stage) {
  // Collectives, grouped by (kind, axes, bytes); compute, by op name.
  std::map<std::tuple<std::string, std::string, int64_t>, PlanCollective> collectives;
  std::map<std::string, PlanOpTime> compute;
  std::vector<std::pair<double, Operation *>> opTimes;
  // Per top-level op its compute, and the collectives in program order
  // with their entry: the overlap simulation's input.
  Block &body = function.getBody().front();
  llvm::DenseMap<Operation *, int64_t> topIndex;
  for (Operation &op : body)
    topIndex.try_emplace(&op, static_cast<int64_t>(topIndex.size()));
  std::vector<double> stepCompute(topIndex.size(), 0.0);
  SmallVector<Operation *> collectiveOps;
  std::vector<std::tuple<std::string, std::string, int64_t>> collectiveKeys;
  report.computeSeconds = report.communicationSeconds = 0;
  function.walk([&](Operation *op) {
    if (std::optional<ShardCollective> use = getShardCollective(op)) {
      std::string axes = axesName(use->axes, report);
      // A mixed-precision run sends bf16 activations, gradients and
      // parameter copies where the IR has f32.
      int64_t bytes = use->bytes;
      if (options.precision != Precision::fp32 && op->getNumOperands() > 0) {
        Type type = op->getOperand(0).getType();
        if (int64_t irBytes = getTensorBytes(type))
          bytes = static_cast<int64_t>(
              static_cast<double>(bytes) *
              static_cast<double>(getActivationBytes(type, options.precision)) /
              static_cast<double>(irBytes));
      }
      PlanCollective &entry = collectives[{use->name.str(), axes, bytes}];
      if (entry.count == 0) {
        entry.kind = use->name.str();
        entry.axes = axes;
        entry.bytes = bytes;
        entry.algorithm = "-";
        if (use->kind) {
          CollectiveCost cost = grid.getCost(*use->kind, bytes, use->axes);
          entry.seconds = cost.seconds;
          entry.algorithm = describeCollective(cost);
        }
      }
      ++entry.count;
      report.communicationSeconds += entry.seconds;
      collectiveOps.push_back(op);
      collectiveKeys.push_back({use->name.str(), axes, bytes});
      return;
    }
    if (op->getDialect() && op->getDialect()->getNamespace() == "shard")
      return;
    double seconds = computeTime(op, report.cluster, 1, options.compute);
    if (seconds <= 0 && !isa<CostOpInterface>(op))
      return;
    PlanOpTime &entry = compute[op->getName().getStringRef().str()];
    entry.op = op->getName().getStringRef().str();
    ++entry.count;
    entry.seconds += seconds;
    report.computeSeconds += seconds;
    opTimes.push_back({seconds, op});
    if (Operation *top = body.findAncestorOpInBlock(*op))
      stepCompute[topIndex.lookup(top)] += seconds;
  });
  // The kernels' launch floor (GPU profiles), then the schedule.
  KernelFloor floor = applyLaunchFloor(body, stepCompute, report.cluster.kernelLaunch);
  report.kernels = floor.kernels;
  report.launchSeconds = floor.launchSeconds;
  report.computeSeconds += floor.launchSeconds;
  std::vector<PlannedCollective> planned =
      scheduleCollectives(body, collectiveOps, options.overlap);
  std::vector<ScheduledCollective> scheduled;
  for (auto [index, plan] : llvm::enumerate(planned)) {
    scheduled.push_back({collectives[collectiveKeys[index]].seconds, plan.post, plan.wait});
    // The bucket's unpacking runs after the wait.
    for (int64_t moved : plan.moved)
      if (moved != plan.wait && plan.wait < static_cast<int64_t>(floor.steps.size())) {
        floor.steps[plan.wait] += floor.steps[moved];
        floor.steps[moved] = 0;
      }
  }
  OverlapResult overlap = simulateOverlap(floor.steps, scheduled);
  for (auto [index, plan] : llvm::enumerate(planned)) {
    PlanCollective &entry = collectives[collectiveKeys[index]];
    entry.exposedSeconds += overlap.exposedEach[index];
    // One name per entry: the first of its collectives' that is not
    // blocking ("mixed" when they differ).
    if (entry.schedule == "blocking" || entry.schedule.empty())
      entry.schedule = plan.schedule;
    else if (plan.schedule != "blocking" && plan.schedule != entry.schedule)
      entry.schedule = "mixed";
  }
  report.exposedSeconds = overlap.exposedSeconds;
  report.overlapModelled = options.overlap;
  report.collectives.clear();
  for (auto &[key, entry] : collectives)
    report.collectives.push_back(entry);
  std::stable_sort(report.collectives.begin(), report.collectives.end(),
                   [](const PlanCollective &a, const PlanCollective &b) {
                     return a.seconds * a.count > b.seconds * b.count;
                   });
  report.compute.clear();
  for (auto &[name, entry] : compute)
    report.compute.push_back(entry);
  std::stable_sort(report.compute.begin(), report.compute.end(),
                   [](const PlanOpTime &a, const PlanOpTime &b) { return a.seconds > b.seconds; });
  std::stable_sort(opTimes.begin(), opTimes.end(),
                   [](const auto &a, const auto &b) { return a.first > b.first; });
  report.slowestOps.clear();
  for (auto [seconds, op] : llvm::ArrayRef(opTimes).take_front(std::max(0, options.topOps)))
    report.slowestOps.push_back({describeOp(op), 1, seconds});

  // Memory: the tensors that live across steps, as the partitioned
  // arguments hold them, plus the workspace; at bf16 also what the
  // executable (fp32 buffers) needs.
  report.memory = priceMemory(module, function, stage, options.precision);
  report.memory.activations = savedActivationBytes(function, options.precision);
  if (options.precision != Precision::fp32)
    report.executableBytes = priceMemory(module, function, stage, Precision::fp32).total();
}

/// cleave-pipeline-unroll puts the pp axis back into the grid (first):
/// the partitioned module's grid, not the one the plan was made on, names
/// the axes of its collectives and the devices of the plan.
static void adoptModuleGrid(ModuleOp module, PlanReport &report) {
  if (module.getOps<shard::GridOp>().empty())
    return;
  ScopedDiagnosticHandler quiet(module.getContext(), [](Diagnostic &) { return success(); });
  FailureOr<GridInfo> grid = getGrid(module);
  if (failed(grid) || llvm::equal(grid->names, report.axisNames))
    return;
  std::vector<std::string> roles;
  std::vector<bool> sequenceParallel;
  std::string spec;
  for (auto [index, name] : llvm::enumerate(grid->names)) {
    auto old = llvm::find(report.axisNames, name);
    size_t oldIndex = old - report.axisNames.begin();
    roles.push_back(old != report.axisNames.end() && oldIndex < report.axisRoles.size()
                        ? report.axisRoles[oldIndex]
                    : name == "pp" ? kStageAxisRole.str()
                                   : "idle (nothing is split over it)");
    sequenceParallel.push_back(old != report.axisNames.end() &&
                               oldIndex < report.axisSequenceParallel.size() &&
                               report.axisSequenceParallel[oldIndex]);
    spec += (index ? "," : "") + name + "=" + std::to_string(grid->shape[index]);
  }
  report.axisNames.assign(grid->names.begin(), grid->names.end());
  report.gridShape.assign(grid->shape.begin(), grid->shape.end());
  report.axisRoles = std::move(roles);
  report.axisSequenceParallel = std::move(sequenceParallel);
  report.grid = spec;
}

/// The per-stage functions of an unrolled pipeline, stage 0 first.
static SmallVector<func::FuncOp> getStageFunctions(ModuleOp module) {
  SmallVector<func::FuncOp> functions;
  while (auto function = module.lookupSymbol<func::FuncOp>(
             (kStageFunctionPrefix + llvm::Twine(functions.size())).str()))
    functions.push_back(function);
  return functions;
}

llvm::Error mlir::cleave::evaluatePartitioned(ModuleOp module, const PlanOptions &options,
                                              PlanReport &report) {
  auto function = module.lookupSymbol<func::FuncOp>("train_step");
  SmallVector<func::FuncOp> stages = getStageFunctions(module);
  if (!function && stages.empty())
    return makeError("the module has no @train_step to plan (build the train step first)");
  adoptModuleGrid(module, report);
  SmallVector<int64_t, 4> gridShape(report.gridShape.begin(), report.gridShape.end());
  if (gridShape.empty())
    gridShape.push_back(1);
  if (llvm::Error error = checkGridFits(gridShape, report.cluster))
    return error;
  GridCollectives grid(report.cluster, gridShape);

  report.stagePrograms.clear();
  if (function) {
    evaluateFunction(module, function, grid, options, report, /*stage=*/false);
  } else {
    // Each device runs one stage's function: the plan's per-device figures
    // are the worst device's, the busiest stage's time and the largest
    // stage's memory; every stage's own are listed with the pipeline.
    std::optional<PlanReport> busiest;
    PlanMemory largest;
    for (auto [index, stage] : llvm::enumerate(stages)) {
      PlanReport priced = report;
      evaluateFunction(module, stage, grid, options, priced, /*stage=*/true);
      report.stagePrograms.push_back({static_cast<int64_t>(index), priced.computeSeconds,
                                      priced.communicationSeconds, priced.memory});
      if (!busiest || priced.computeSeconds + priced.exposedSeconds >
                          busiest->computeSeconds + busiest->exposedSeconds)
        busiest = std::move(priced);
      if (index == 0 || report.stagePrograms.back().memory.total() > largest.total())
        largest = report.stagePrograms.back().memory;
      if (priced.executableBytes)
        report.executableBytes =
            std::max(report.executableBytes.value_or(0), *priced.executableBytes);
    }
    report.collectives = std::move(busiest->collectives);
    report.compute = std::move(busiest->compute);
    report.slowestOps = std::move(busiest->slowestOps);
    report.computeSeconds = busiest->computeSeconds;
    report.communicationSeconds = busiest->communicationSeconds;
    report.exposedSeconds = busiest->exposedSeconds;
    report.launchSeconds = busiest->launchSeconds;
    report.kernels = busiest->kernels;
    report.overlapModelled = busiest->overlapModelled;
    report.memory = largest;
  }
  readPlanPipeline(module, report);
  report.precision = getPrecisionName(options.precision).str();
  report.precisionNote.clear();
  if (options.precision != Precision::fp32 && report.executableBytes)
    report.precisionNote =
        "the figures are a mixed-precision run's (bf16 activations, gradients and messages, "
        "bf16 products, fp32 master weights and optimizer state); the executable cleavec "
        "builds today keeps every buffer fp32 and rounds only the operands of products, so "
        "it needs " +
        formatBytes(*report.executableBytes) + " per device";
  return llvm::Error::success();
}

llvm::Expected<PlanReport> mlir::cleave::planTrainStep(ModuleOp module, const ShardOptions &shard,
                                                       const Cluster &cluster,
                                                       const PlanOptions &options) {
  PlanReport report;
  report.cluster = cluster;
  report.zero = shard.zero;
  if (wantsSharding(shard) || wantsPipeline(shard)) {
    // Unrolled, the step would hold every micro-batch's copy of its ops:
    // past kMaxUnrolledOps the report keeps the split's figures and one
    // stage's plan instead of pricing them op by op.
    ShardOptions planned = shard;
    if (auto step = module.lookupSymbol<func::FuncOp>("train_step"); step && wantsPipeline(shard)) {
      int64_t ops = 0;
      step.walk([&](Operation *) { ++ops; });
      int64_t unrolled = ops * shard.microBatches;
      if (unrolled > kMaxUnrolledOps) {
        planned.unrollPipeline = false;
        report.notUnrolled =
            "the pipeline is not unrolled: its " + std::to_string(shard.microBatches) +
            " micro-batches of " + std::to_string(ops) + " ops (" + std::to_string(unrolled) +
            ") are more than " + std::to_string(kMaxUnrolledOps) +
            " to price op by op; the stages' time and memory are the split's figures, the "
            "collectives and compute one stage's plan of the whole step";
      }
    }
    if (llvm::Error error =
            shardTrainStep(module, planned, createCollectPlanTensorsPass(options, report)))
      return std::move(error);
    // Left whole, the step is one stage's plan, on that stage's devices.
    int64_t stages = getPipelineStages(shard);
    if (!report.notUnrolled.empty() && stages > 1) {
      llvm::Expected<Cluster> stageCluster =
          loadCluster(cluster.name, cluster.numDevices() / stages);
      if (!stageCluster)
        return stageCluster.takeError();
      report.cluster = *stageCluster;
    }
  } else if (llvm::Error error =
                 collectPlanTensors(module, options, report, options.keepOpShardings)) {
    return std::move(error);
  }
  if (llvm::Error error = evaluatePartitioned(module, options, report))
    return std::move(error);
  return report;
}

llvm::Error mlir::cleave::checkPlanFits(const PlanReport &report) {
  if (report.fits())
    return llvm::Error::success();
  if (knowsStageMemory(report) &&
      report.pipeline->firstStageOver(report.cluster.memoryCapacity) >= 0)
    return checkPipelineFits(report);
  const PlanMemory &memory = report.memory;
  int64_t capacity = report.cluster.memoryCapacity;
  int64_t gradients = std::min(memory.gradients, memory.workspace);
  int64_t activations = memory.workspace - gradients;
  // What ZeRO can still shard over a dp axis of more than one device.
  int64_t dpSize = 1;
  for (auto [index, name] : llvm::enumerate(report.axisNames))
    if (name == "dp")
      dpSize = report.gridShape[index];
  auto shardable = [&](int level) {
    int64_t bytes = 0;
    if (report.zero < 2 && level >= 2)
      bytes += memory.optimizerState;
    if (report.zero < 3 && level >= 3)
      bytes += memory.parameters + gradients;
    return dpSize > 1 ? bytes - bytes / dpSize : 0;
  };

  struct Part {
    const char *name;
    int64_t bytes;
  };
  Part parts[] = {{"parameters", memory.parameters},
                  {"optimizer state", memory.optimizerState},
                  {"gradients", gradients},
                  {"activations and workspace", activations},
                  {"batch inputs", memory.inputs}};
  const Part &largest =
      *std::max_element(std::begin(parts), std::end(parts),
                        [](const Part &a, const Part &b) { return a.bytes < b.bytes; });
  std::string advice = "the largest part is " + std::string(largest.name) + " (" +
                       formatBytes(largest.bytes) + " of " + formatBytes(memory.total()) + ")";
  llvm::StringRef part = largest.name;
  std::vector<std::string> remedies;
  std::string zeroNote;
  int64_t excess = memory.total() - capacity;
  if (part == "activations and workspace" || part == "batch inputs") {
    remedies.push_back("more tensor parallelism (a tp axis in --grid, or more --devices for the "
                       "search to split layers over)");
    remedies.push_back("a smaller micro-batch (--micro-batches M, pipeline stages with --grid "
                       "pp=S, --batch-size, or export the model with a smaller batch)");
    remedies.push_back("activation recomputation (--recompute selective or full)");
    // ZeRO only shards state; say so when even all of it cannot close the gap.
    int64_t best = std::max(shardable(2), shardable(3));
    if (best < excess)
      zeroNote = "; ZeRO cannot help: " +
                 (best > 0 ? "sharding parameters, gradients and optimizer state saves only " +
                                 formatBytes(best) + " of the " + formatBytes(excess) + " too many"
                           : std::string("it shards only parameters, gradients and optimizer "
                                         "state"));
  } else {
    if (part == "optimizer state" && report.zero < 2)
      remedies.push_back(dpSize > 1 ? "--zero 2 (shards optimizer state over dp, saves " +
                                          formatBytes(shardable(2)) + ")"
                                    : std::string("a dp axis with --zero 2 (shards optimizer "
                                                  "state over the data-parallel devices)"));
    if (report.zero < 3)
      remedies.push_back(dpSize > 1 ? "--zero 3 (shards parameters, gradients and optimizer state "
                                      "over dp, saves " +
                                          formatBytes(shardable(3)) + ")"
                                    : std::string("a dp axis with --zero 3 (shards parameters, "
                                                  "gradients and optimizer state)"));
    remedies.push_back("more tensor parallelism (a tp axis in --grid) or more devices");
  }
  advice += "; what would help: " + llvm::join(remedies, ", or ") + zeroNote;
  return makeError(
      "the plan " + report.grid + " (ZeRO " + std::to_string(report.zero) + ") needs " +
      formatBytes(memory.total()) + " per device (parameters " + formatBytes(memory.parameters) +
      ", optimizer state " + formatBytes(memory.optimizerState) + ", batch " +
      formatBytes(memory.inputs) + ", gradients and activations " + formatBytes(memory.workspace) +
      "), the profile " + report.cluster.name + " has " + formatBytes(capacity) + ": " + advice);
}

int64_t mlir::cleave::getPlanDevices(const ShardOptions &shard) {
  if (shard.devices > 0)
    return shard.devices;
  if (shard.grid.empty())
    return 1;
  llvm::Expected<ParsedGrid> grid = parseGridSpec(shard.grid);
  if (!grid) {
    llvm::consumeError(grid.takeError());
    return -1;
  }
  return grid->devices();
}

llvm::Expected<ShardOptions> mlir::cleave::parsePlanSpec(llvm::StringRef spec) {
  ShardOptions options;
  SmallVector<StringRef> tokens;
  spec.split(tokens, ' ', -1, /*KeepEmpty=*/false);
  std::vector<std::string> gridParts;
  for (StringRef token : tokens) {
    auto [key, value] = token.split('=');
    if (key == "zero") {
      if (value.getAsInteger(10, options.zero) || options.zero < 0 || options.zero > 3)
        return makeError("plan '" + spec + "': zero must be 0, 1, 2 or 3, not '" + value + "'");
    } else if (key == "shard") {
      options.pins.push_back(value.str());
    } else if (key == "grid") {
      gridParts.push_back(value.str());
    } else if (!value.empty()) {
      gridParts.push_back(token.str());
    } else {
      return makeError("plan '" + spec + "': expected a grid such as dp=2,tp=4, zero=N or " +
                       "shard=NAME=SPEC, not '" + token + "'");
    }
  }
  if (gridParts.empty())
    return makeError("plan '" + spec + "' names no grid (e.g. dp=8 or \"dp=2,tp=4 zero=3\")");
  options.grid = llvm::join(gridParts, ",");
  return options;
}
