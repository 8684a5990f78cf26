//===- ConfigFigures.cpp - what pricing a configuration reads, read once --===//
#include "passes/Planner/ConfigFigures.h"

#include "dialects/Cleave/IR/CleaveDialect.h"
#include "dialects/Cleave/Interfaces/CostInterface.h"
#include "passes/Analysis/Cost/CollectiveCost.h"
#include "passes/Analysis/Cost/ComputeCost.h"
#include "passes/Pipeline/SplitFigures.h"
#include "passes/Sharding/SearchDriver.h"
#include "passes/TrainStepAttrs.h"

#include "mlir/IR/Diagnostics.h"
#include "llvm/Support/DebugLog.h"

#include <algorithm>

#define DEBUG_TYPE "cleave-search-configuration"

using namespace mlir;
using namespace mlir::cleave;

FailureOr<std::unique_ptr<ConfigFigures>>
ConfigFigures::analyze(ModuleOp module, const Cluster &cluster, std::string clusterName,
                       std::vector<std::string> cuts, std::string shardPins, double ilpTimeLimit,
                       int64_t maxOps, std::string precision) {
  func::FuncOp function = lookupFunctionOrEmit(
      module, "train_step",
      "the configuration search: no @train_step; run --cleave-train-pipeline=\"... "
      "phase-tags=true\" first");
  if (!function)
    return failure();
  FailureOr<TrainStepPhases> phases = TrainStepPhases::analyze(function);
  if (failed(phases))
    return failure();
  std::unique_ptr<ConfigFigures> figures(new ConfigFigures(module, std::move(*phases), cluster));
  figures->clusterName = std::move(clusterName);
  figures->cuts = std::move(cuts);
  figures->shardPins = std::move(shardPins);
  figures->ilpTimeLimit = ilpTimeLimit;
  figures->maxOps = maxOps;
  figures->precision = std::move(precision);
  figures->profile = profileCuts(figures->phases, [&](Operation *op) {
    double seconds = computeTime(op, cluster);
    figures->computeSeconds += seconds;
    return seconds;
  });
  for (Operation *op : figures->phases.getOps())
    if (figures->phases.getRole(op)->phase == SplitPhase::update)
      figures->updateSeconds += computeTime(op, cluster);
  for (BlockArgument argument : function.getArguments()) {
    unsigned index = argument.getArgNumber();
    auto type = cast<RankedTensorType>(argument.getType());
    if (isTrainableParam(function, index))
      figures->trainableBytes += getTensorBytes(type);
    if (getParamAttr(function, index) ||
        function.getArgAttr(index, CleaveDialect::kOptStateAttrName))
      figures->stateBytes += getTensorBytes(type);
    if (figures->rows == 0 && type.getRank() > 0 &&
        function.getArgAttr(index, CleaveDialect::kInputAttrName))
      figures->rows = type.getDimSize(0);
  }
  figures->stateBytes += figures->trainableBytes;
  FailureOr<const ChunkFigures *> whole = figures->chunks(1, 1);
  if (failed(whole))
    return failure();
  for (int64_t bytes : (*whole)->activationBytes)
    figures->stashBytes += bytes;
  return figures;
}

FailureOr<const ChunkFigures *> ConfigFigures::chunks(int64_t stages, int64_t virtualStages) {
  auto key = std::make_pair(stages, virtualStages);
  if (auto it = chunkCache.find(key); it != chunkCache.end())
    return &it->second;
  int64_t count = stages * virtualStages;
  func::FuncOp function = phases.getFunction();
  std::vector<int64_t> starts;
  if (!cuts.empty() && count > 1) {
    if (static_cast<int64_t>(cuts.size()) != count - 1)
      return function.emitOpError() << "has " << cuts.size() << " pinned pipeline cuts, not the "
                                    << count - 1 << " of " << count << " chunks",
             failure();
    FailureOr<std::vector<int64_t>> pinned = resolvePinnedCuts(phases, cuts);
    if (failed(pinned))
      return failure();
    starts = std::move(*pinned);
  } else if (count > numLayers()) {
    return function.emitOpError() << "cannot be cut into " << count << " chunks: it has "
                                  << numLayers() << " layers",
           failure();
  } else {
    starts = balanceCuts(profile, count);
  }
  ChunkAssignment assignment = assignChunks(phases, std::move(starts));
  if (failed(verifyChunkFlow(phases, assignment)))
    return failure();
  // M = S micro-batches suit every schedule (interleaved needs a multiple
  // of S); the figures are scaled back to the global batch below.
  SplitSettings settings;
  settings.stages = stages;
  settings.virtualStages = virtualStages;
  settings.microBatches = stages;
  settings.schedule = virtualStages > 1 ? "interleaved" : "1f1b";
  // The split prices the user's precision.
  settings.precision = precision;
  FailureOr<SplitFigures> split = countSplit(phases, assignment, profile, settings, cluster);
  if (failed(split))
    return failure();
  ChunkFigures figures;
  double m = static_cast<double>(stages);
  // The global figures are the work only: priceConfiguration adds the
  // kernels' fixed cost per micro-batch of the configuration it prices.
  for (size_t c = 0; c < split->chunkForwardSeconds.size(); ++c) {
    double launch = cluster.kernelLaunch;
    figures.forwardSeconds.push_back(
        (split->chunkForwardSeconds[c] -
         kernelFixedSeconds(split->chunkForwardKernels[c], launch, stages)) *
        m);
    figures.backwardSeconds.push_back(
        (split->chunkBackwardSeconds[c] -
         kernelFixedSeconds(split->chunkBackwardKernels[c], launch, stages)) *
        m);
  }
  figures.forwardKernels = split->chunkForwardKernels;
  figures.backwardKernels = split->chunkBackwardKernels;
  figures.updateSeconds = split->chunkUpdateSeconds;
  for (int64_t bytes : split->chunkActivationBytes)
    figures.activationBytes.push_back(bytes * stages);
  for (int64_t bytes : split->cutBytes)
    figures.cutBytes.push_back(bytes * stages);
  figures.stageWeightBytes = split->stageWeightBytes;
  figures.stageGradientBytes = split->stageGradientBytes;
  figures.stageOptimizerBytes = split->stageOptimizerBytes;
  return &chunkCache.emplace(key, std::move(figures)).first->second;
}

/// The sharding search's plan of the global step on a sub-grid: a one-axis
/// grid of n devices is the same problem whatever its name ("dp=8" and
/// "tp=8": the plan decides what the axis splits), so it is planned once.
const std::optional<ConfigFigures::SubGridPlan> &ConfigFigures::planSubGrid(int64_t dp,
                                                                            int64_t tp) {
  auto key = dp == 1 || tp == 1 ? std::make_pair(dp * tp, int64_t(1)) : std::make_pair(dp, tp);
  if (auto it = subGridPlans.find(key); it != subGridPlans.end())
    return it->second;
  std::optional<SubGridPlan> &result = subGridPlans[key];
  llvm::Expected<Cluster> subCluster = loadCluster(clusterName, dp * tp);
  if (!subCluster) {
    llvm::consumeError(subCluster.takeError());
    return result;
  }
  SearchOptions options;
  options.devices = dp * tp;
  options.clusterName = clusterName;
  options.gridSpec = key.second == 1 ? "dp=" + std::to_string(key.first)
                                     : "dp=" + std::to_string(dp) + ",tp=" + std::to_string(tp);
  options.pins = shardPins;
  options.timeLimit = ilpTimeLimit;
  options.maxOps = maxOps;
  options.precision = precision;
  func::FuncOp function = phases.getFunction();
  // A sub-grid without a plan is priced as an ideal split; the search's
  // reasons are not the configuration's.
  ScopedDiagnosticHandler quiet(module.getContext(), [](Diagnostic &) { return success(); });
  FailureOr<SearchDecision> decision = runShardingSearch(module, function, *subCluster, options);
  if (failed(decision) || !decision->plan)
    return result;
  SubGridPlan plan;
  plan.plan = *decision->plan;
  plan.cluster = *subCluster;
  // A least-memory plan (bytes set) does not fit: the fastest plan, memory
  // aside, says what the sub-grid costs inside a pipeline.
  if (decision->plan->bytes <= 0) {
    plan.fits = true;
  } else {
    Cluster unbounded = *subCluster;
    unbounded.memoryCapacity = 0;
    decision = runShardingSearch(module, function, unbounded, options);
    if (failed(decision) || !decision->plan)
      return result;
    plan.plan = *decision->plan;
  }
  LDBG() << "sub-grid " << options.gridSpec << ": " << plan.plan.seconds << " s"
         << (plan.fits ? "" : " (does not fit as it is)");
  result = std::move(plan);
  return result;
}

std::optional<ConfigFigures::PlainPlan> ConfigFigures::plainPlan(int64_t dp, int64_t tp) {
  if (dp * tp == 1)
    return std::nullopt;
  const std::optional<SubGridPlan> &plan = planSubGrid(dp, tp);
  if (!plan || !plan->fits)
    return std::nullopt;
  return PlainPlan{plan->plan.seconds, plan->plan.stateBytes + plan->plan.activationBytes};
}

const SubGridFigures &ConfigFigures::subGrid(int64_t dp, int64_t tp) {
  auto key = std::make_pair(dp, tp);
  if (auto it = subGrids.find(key); it != subGrids.end())
    return it->second;
  SubGridFigures &figures = subGrids[key];
  if (dp * tp == 1)
    return figures;
  const std::optional<SubGridPlan> &plan = planSubGrid(dp, tp);
  if (!plan)
    return figures;
  if (stashBytes > 0)
    figures.activationFactor =
        std::clamp(plan->plan.activationBytes * static_cast<double>(dp) / stashBytes,
                   1.0 / static_cast<double>(tp), static_cast<double>(dp));
  if (stateBytes > 0)
    figures.stateFactor = std::clamp(plan->plan.stateBytes * static_cast<double>(tp) /
                                         static_cast<double>(stateBytes),
                                     1.0 / static_cast<double>(dp), static_cast<double>(tp));
  // The plan's seconds include the update and the dp gradient all-reduce,
  // which a configuration prices itself (per ZeRO level): the factor is
  // what remains over the forward and backward split dp x tp ways, so that
  // one stage, one micro-batch and ZeRO 0 price as the plan itself.
  GridCollectives collectives(plan->cluster, {dp, tp});
  int64_t gradients = static_cast<int64_t>(static_cast<double>(trainableBytes) /
                                           static_cast<double>(tp) * figures.stateFactor);
  double gradientSync =
      dp > 1 ? collectives.getTime(CollectiveKind::allReduce, gradients, {0}) : 0.0;
  double ideal = computeSeconds / static_cast<double>(dp * tp);
  if (ideal > 0)
    figures.timeFactor = std::max(
        1.0, (plan->plan.seconds - gradientSync - updateSeconds / static_cast<double>(tp)) / ideal);
  LDBG() << "sub-grid dp=" << dp << ",tp=" << tp << ": time x" << figures.timeFactor
         << ", activations x" << figures.activationFactor << ", state x" << figures.stateFactor;
  return figures;
}

std::optional<RecomputeFigures> ConfigFigures::recompute(RecomputeMode mode) {
  if (mode == RecomputeMode::none)
    return RecomputeFigures();
  if (auto it = recomputeCache.find(mode); it != recomputeCache.end())
    return it->second;
  std::optional<RecomputeFigures> &figures = recomputeCache[mode];
  // The mode applied to a clone: what the split then stashes, and how much
  // more its backward computes.
  OwningOpRef<ModuleOp> clone(module.clone());
  auto function = clone->lookupSymbol<func::FuncOp>("train_step");
  ScopedDiagnosticHandler quiet(module.getContext(), [](Diagnostic &) { return success(); });
  if (!function || failed(recomputeActivations(function, mode)))
    return figures;
  FailureOr<TrainStepPhases> recomputed = TrainStepPhases::analyze(function);
  if (failed(recomputed))
    return figures;
  CutProfile recomputedProfile =
      profileCuts(*recomputed, [&](Operation *op) { return computeTime(op, cluster); });
  ChunkAssignment assignment = assignChunks(*recomputed, {0});
  FailureOr<SplitFigures> split =
      countSplit(*recomputed, assignment, recomputedProfile, SplitSettings(), cluster);
  FailureOr<const ChunkFigures *> base = chunks(1, 1);
  if (failed(split) || failed(base) || (*base)->forwardSeconds[0] <= 0 || stashBytes <= 0)
    return figures;
  RecomputeFigures result;
  result.activationShare =
      static_cast<double>(split->chunkActivationBytes[0]) / static_cast<double>(stashBytes);
  result.extraForwardShare =
      std::max(0.0, split->chunkBackwardSeconds[0] - (*base)->backwardSeconds[0]) /
      (*base)->forwardSeconds[0];
  figures = result;
  return figures;
}
