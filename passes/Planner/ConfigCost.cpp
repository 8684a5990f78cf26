//===- ConfigCost.cpp - the step time and memory of one configuration -----===//
//
// The formulas are docs/planner.md's "Pricing". A stage's devices run
// each micro-batch's forward and backward of its chunks (the global
// figures divided by M x dp x tp, times the sub-grid's factor), the
// schedule orders them and the simulation adds the bubble and the cuts'
// transfers; after the drain each stage updates its parameters and
// synchronises them over dp as its ZeRO level asks. With overlap, the
// gradient reduction (all-reduce or reduce-scatter) starts bucket by
// bucket during the last micro-batch's backward and only what that
// backward cannot hide is paid after the drain (CommOverlap.h's
// exposedBehindBackward, buckets of kGradientBucketBytes); ZeRO-3's
// parameter gathers are prefetched one piece ahead within each forward
// and backward (exposedPrefetched, pieces of the same size, as the
// figures do not know the layers); the parameter all-gather after the
// update (ZeRO-1 and 2) always blocks.
//
//===----------------------------------------------------------------------===//
#include "passes/Planner/ConfigCost.h"

#include "passes/Analysis/Cost/CollectiveCost.h"
#include "passes/Analysis/Cost/CommOverlap.h"
#include "passes/Analysis/Pipeline/Schedule.h"
#include "passes/Pipeline/SplitFigures.h"

#include <algorithm>

using namespace mlir;
using namespace mlir::cleave;

llvm::Expected<PricedConfiguration>
mlir::cleave::priceConfiguration(const Configuration &config, const ChunkFigures &chunks,
                                 const SubGridFigures &subGrid, const RecomputeFigures &recompute,
                                 const Cluster &cluster, bool overlap) {
  const int64_t stages = config.pp, dp = config.dp, tp = config.tp, m = config.microBatches;
  const int64_t chunkCount = stages * config.virtualStages;
  if (static_cast<int64_t>(chunks.forwardSeconds.size()) != chunkCount ||
      static_cast<int64_t>(chunks.stageWeightBytes.size()) != stages)
    return llvm::createStringError(llvm::inconvertibleErrorCode(),
                                   "the split figures have " +
                                       std::to_string(chunks.forwardSeconds.size()) +
                                       " chunks, the configuration " + std::to_string(chunkCount));
  llvm::Expected<pipeline::ScheduleKind> kind = pipeline::parseScheduleKind(config.schedule);
  if (!kind)
    return kind.takeError();
  llvm::Expected<pipeline::PipelineSchedule> schedule =
      pipeline::buildSchedule(*kind, stages, m, config.virtualStages);
  if (!schedule)
    return schedule.takeError();

  // One micro-batch on one device of a stage.
  const double perDevice = 1.0 / static_cast<double>(m * dp * tp);
  std::vector<double> forward(chunkCount), backward(chunkCount);
  std::vector<double> stageCompute(stages, 0.0), stageRecompute(stages, 0.0);
  for (int64_t c = 0; c < chunkCount; ++c) {
    double f = chunks.forwardSeconds[c] * perDevice, b = chunks.backwardSeconds[c] * perDevice;
    double again = f * recompute.extraForwardShare;
    forward[c] = f * subGrid.timeFactor;
    backward[c] = (b + again) * subGrid.timeFactor;
    // A kernel's call or launch costs the same whatever its share of the
    // batch, once per micro-batch: M small micro-batches are not free
    // (SplitFigures.cpp). Recomputation runs its share of the forward's
    // kernels again.
    if (!chunks.forwardKernels.empty()) {
      double fixedForward =
          kernelFixedSeconds(chunks.forwardKernels[c], cluster.kernelLaunch, m * dp * tp);
      double fixedBackward =
          kernelFixedSeconds(chunks.backwardKernels[c], cluster.kernelLaunch, m * dp * tp) +
          fixedForward * recompute.extraForwardShare;
      forward[c] += fixedForward;
      backward[c] += fixedBackward;
      stageCompute[c % stages] += (fixedForward + fixedBackward) * m;
    }
    stageCompute[c % stages] += (f + b) * m;
    stageRecompute[c % stages] += again * m;
  }
  // Activations cross a cut once per micro-batch each way, over the link
  // between the two stages' first ranks (pp is the most major axis).
  const int64_t stageDevices = dp * tp;
  std::vector<double> transfer(chunkCount > 0 ? chunkCount - 1 : 0, 0.0);
  double largestTransfer = 0;
  for (int64_t k = 0; k + 1 < chunkCount; ++k) {
    int64_t from = (k % stages) * stageDevices, to = ((k + 1) % stages) * stageDevices;
    if (from == to)
      continue;
    const Link &link =
        cluster.nodeOf(from) == cluster.nodeOf(to) ? cluster.intraNode : cluster.interNode;
    double bytes = static_cast<double>(chunks.cutBytes[k]) / static_cast<double>(m * dp) /
                   (config.sequenceParallel ? static_cast<double>(tp) : 1.0);
    transfer[k] = link.latency + (link.bandwidth > 0 ? bytes / link.bandwidth : 0.0);
    largestTransfer = std::max(largestTransfer, transfer[k]);
  }
  llvm::Expected<pipeline::Simulation> simulation =
      pipeline::simulate(*schedule, forward, backward, transfer);
  if (!simulation)
    return simulation.takeError();

  // The dp synchronisation of each stage's gradients and parameters.
  GridCollectives collectives(cluster, {stages, dp, tp});
  const llvm::SmallVector<int16_t, 1> dpAxis = {1};
  auto collective = [&](CollectiveKind collectiveKind, int64_t bytes) {
    return dp > 1 && bytes > 0 ? collectives.getTime(collectiveKind, bytes, dpAxis) : 0.0;
  };
  PricedConfiguration priced;
  priced.config = config;
  priced.stageMemoryBytes.assign(stages, 0);
  double slowestAfterDrain = 0, slowestSync = 0, slowestExposed = 0;
  bool splitOver = false;
  int64_t ownLargest = 0;
  const int64_t usable =
      static_cast<int64_t>(kUsableMemoryShare * static_cast<double>(cluster.memoryCapacity));
  for (int64_t p = 0; p < stages; ++p) {
    auto perDeviceState = [&](int64_t bytes) {
      return static_cast<int64_t>(static_cast<double>(bytes) / static_cast<double>(tp) *
                                  subGrid.stateFactor);
    };
    int64_t weights = perDeviceState(chunks.stageWeightBytes[p]);
    int64_t gradients = perDeviceState(chunks.stageGradientBytes[p]);
    int64_t optimizer = perDeviceState(chunks.stageOptimizerBytes[p]);
    double update = 0, lastForward = 0, lastBackward = 0;
    for (int64_t c = p; c < chunkCount; c += stages) {
      update += chunks.updateSeconds[c] / static_cast<double>(tp);
      lastForward += forward[c];
      lastBackward += backward[c];
    }
    // The gradient reduction, the blocking gather after the update, and
    // ZeRO-3's gathers per forward or backward.
    double reduce = 0, gatherAfter = 0, gatherEach = 0;
    switch (config.zero) {
    case 0:
      reduce = collective(CollectiveKind::allReduce, gradients);
      break;
    case 1:
      reduce = collective(CollectiveKind::allReduce, gradients);
      gatherAfter = collective(CollectiveKind::allGather, weights);
      optimizer /= dp;
      update /= static_cast<double>(dp);
      break;
    case 2:
      reduce = collective(CollectiveKind::reduceScatter, gradients);
      gatherAfter = collective(CollectiveKind::allGather, weights);
      optimizer /= dp;
      gradients /= dp;
      update /= static_cast<double>(dp);
      break;
    default:
      // ZeRO-3 also gathers the parameters before each micro-batch's
      // forward and backward.
      reduce = collective(CollectiveKind::reduceScatter, gradients);
      gatherEach = collective(CollectiveKind::allGather, weights);
      optimizer /= dp;
      gradients /= dp;
      weights /= dp;
      update /= static_cast<double>(dp);
      break;
    }
    double sync = reduce + gatherAfter + static_cast<double>(2 * m) * gatherEach;
    double exposed = sync;
    if (overlap) {
      auto pieces = [](int64_t bytes) {
        return std::max<int64_t>(1, (bytes + kGradientBucketBytes - 1) / kGradientBucketBytes);
      };
      int64_t fullGradients = perDeviceState(chunks.stageGradientBytes[p]);
      int64_t fullWeights = perDeviceState(chunks.stageWeightBytes[p]);
      exposed = exposedBehindBackward(reduce, lastBackward, pieces(fullGradients)) + gatherAfter +
                static_cast<double>(m) *
                    (exposedPrefetched(gatherEach, lastForward, pieces(fullWeights)) +
                     exposedPrefetched(gatherEach, lastBackward, pieces(fullWeights)));
    }
    slowestAfterDrain = std::max(slowestAfterDrain, update + exposed);
    slowestSync = std::max(slowestSync, sync);
    slowestExposed = std::max(slowestExposed, exposed);

    // Activations in flight under the schedule, plus one micro-batch's
    // worth being worked on (the backward's gradients of them).
    std::vector<int64_t> stash(chunkCount, 0);
    int64_t working = 0;
    double share = subGrid.activationFactor * recompute.activationShare;
    if (config.sequenceParallel)
      share = std::min(share, recompute.activationShare / static_cast<double>(tp));
    for (int64_t c = 0; c < chunkCount; ++c) {
      stash[c] = static_cast<int64_t>(static_cast<double>(chunks.activationBytes[c]) /
                                      static_cast<double>(m * dp) * share);
      if (c % stages == p)
        working = std::max(
            working, static_cast<int64_t>(static_cast<double>(chunks.activationBytes[c]) /
                                          static_cast<double>(m * dp) * subGrid.activationFactor));
    }
    int64_t activations = pipeline::maxInFlightBytes(*schedule, p, stash) + working;
    priced.stageMemoryBytes[p] = weights + gradients + optimizer + activations;
    ownLargest = std::max(ownLargest, priced.stageMemoryBytes[p]);
    // The split's own count (SplitFigures.h), which the plan report checks
    // for a pipeline: state divided by tp only, stashes by M x dp only.
    if (stages > 1 || m > 1) {
      std::vector<int64_t> splitStash(chunkCount, 0);
      for (int64_t c = 0; c < chunkCount; ++c)
        splitStash[c] =
            static_cast<int64_t>(static_cast<double>(chunks.activationBytes[c]) /
                                 static_cast<double>(m * dp) * recompute.activationShare);
      int64_t splitCount = (chunks.stageWeightBytes[p] + chunks.stageGradientBytes[p] +
                            chunks.stageOptimizerBytes[p]) /
                               tp +
                           pipeline::maxInFlightBytes(*schedule, p, splitStash);
      if (cluster.memoryCapacity > 0 && splitCount > cluster.memoryCapacity)
        splitOver = true;
      priced.stageMemoryBytes[p] = std::max(priced.stageMemoryBytes[p], splitCount);
    }
  }
  int64_t busiest = 0;
  for (int64_t p = 1; p < stages; ++p)
    if (simulation->stageBusySeconds[p] > simulation->stageBusySeconds[busiest])
      busiest = p;
  priced.stepSeconds = simulation->makespan + slowestAfterDrain;
  priced.memoryBytes = static_cast<double>(*llvm::max_element(priced.stageMemoryBytes));
  priced.fits = cluster.memoryCapacity <= 0 || (!splitOver && ownLargest <= usable);
  priced.computeSeconds = stageCompute[busiest];
  priced.recomputeSeconds = stageRecompute[busiest];
  priced.tensorParallelSeconds =
      (stageCompute[busiest] + stageRecompute[busiest]) * (subGrid.timeFactor - 1);
  priced.bubbleSeconds = simulation->makespan - simulation->stageBusySeconds[busiest];
  priced.dataParallelSeconds = slowestSync;
  priced.exposedDataParallelSeconds = slowestExposed;
  priced.pipelineTransferSeconds = largestTransfer * static_cast<double>(2 * m);
  return priced;
}
