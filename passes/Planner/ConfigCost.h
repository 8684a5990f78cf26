//===- ConfigCost.h - the step time and memory of one configuration -------===//
//
// Prices a configuration without building it (docs/planner.md): the
// split's chunks (for S x V chunks: their forward, backward and update
// seconds on one device for the global batch, stashed activation bytes,
// the bytes crossing each cut, each stage's weights, gradients and
// optimizer state), scaled to one micro-batch on one device of the
// stage's dp x tp sub-grid by the intra-op plan's factors for that
// sub-grid, then run through the schedule (Schedule.h's simulate) with
// the cuts' transfers on the link they cross; the dp synchronisation per
// ZeRO level after the drain; recomputation as extra forward seconds in
// the backward. Everything here is arithmetic on those figures:
// microseconds per configuration.
//
//===----------------------------------------------------------------------===//
#ifndef CLEAVE_PASSES_PLANNER_CONFIGCOST_H
#define CLEAVE_PASSES_PLANNER_CONFIGCOST_H

#include "passes/Analysis/Cluster/Cluster.h"
#include "passes/Planner/Configuration.h"

#include <vector>

namespace mlir::cleave {

/// The split into C = S x V chunks, on one device, for the global batch
/// (M = dp = tp = 1).
struct ChunkFigures {
  std::vector<double> forwardSeconds, backwardSeconds, updateSeconds;
  /// Kernels of one micro-batch's forward and backward, per chunk (empty:
  /// none priced): each costs Cluster::kernelLaunch per micro-batch.
  std::vector<int64_t> forwardKernels, backwardKernels;
  /// Stashed for the backward, per chunk.
  std::vector<int64_t> activationBytes;
  /// Crossing cut k (between chunks k and k + 1).
  std::vector<int64_t> cutBytes;
  /// Per rank stage (S entries; a tied parameter counted on every stage
  /// that reads it, its optimizer state on the owner's).
  std::vector<int64_t> stageWeightBytes, stageGradientBytes, stageOptimizerBytes;
};

/// What the intra-op plan of a dp x tp sub-grid adds to the ideal split
/// of the compute over its devices.
struct SubGridFigures {
  /// The plan's step seconds (without the dp gradient synchronisation) over
  /// the compute divided by dp x tp: 1 plus the tensor-parallel
  /// communication and resharding, per unit of compute.
  double timeFactor = 1;
  /// The stashed activations per device over the stash divided by dp:
  /// 1 when tp replicates them, 1 / tp when it splits them all.
  double activationFactor = 1;
  /// Parameters, gradients and optimizer state per device over their
  /// bytes divided by tp: 1 when tp splits every weight, up to tp when it
  /// splits none (the plan may use either axis for either).
  double stateFactor = 1;
};

/// What a recompute mode does to a chunk: the share of its stash it still
/// keeps and the share of its forward it runs again in the backward.
struct RecomputeFigures {
  double activationShare = 1;
  double extraForwardShare = 0;
};

struct PricedConfiguration {
  Configuration config;
  double stepSeconds = 0;
  /// The largest stage's, per device.
  double memoryBytes = 0;
  bool fits = true;
  double computeSeconds = 0, bubbleSeconds = 0, tensorParallelSeconds = 0, dataParallelSeconds = 0,
         pipelineTransferSeconds = 0, recomputeSeconds = 0;
  /// Of dataParallelSeconds, what the overlapped schedule cannot hide (all
  /// of it without overlap).
  double exposedDataParallelSeconds = 0;
  std::vector<int64_t> stageMemoryBytes;
};

/// The share of a device's memory a configuration may plan to use: the
/// rest is left to the workspace the figures do not see (scratch,
/// collective buffers, fragmentation).
inline constexpr double kUsableMemoryShare = 0.9;

/// The gradient bucket cleave-bucket-collectives packs by default (its
/// bucket-bytes): the overlap model's unit of gradient synchronisation.
inline constexpr int64_t kGradientBucketBytes = 25 * 1024 * 1024;

/// Prices `config` on `cluster` (which has config.devices() devices; the
/// grid's pp axis is the most major, then dp, then tp). `chunks` must have
/// pp x virtualStages chunks. An error when the schedule cannot be built
/// (M not a multiple of S for interleaved, ...). `overlap`: price the
/// overlapped schedule (cleave-overlap-collectives; docs/planner.md): the
/// gradient reduction runs behind the last micro-batch's backward in
/// buckets of kGradientBucketBytes and ZeRO-3's gathers are prefetched;
/// false prices the blocking one (--no-overlap).
llvm::Expected<PricedConfiguration> priceConfiguration(const Configuration &config,
                                                       const ChunkFigures &chunks,
                                                       const SubGridFigures &subGrid,
                                                       const RecomputeFigures &recompute,
                                                       const Cluster &cluster, bool overlap = true);

} // namespace mlir::cleave

#endif // CLEAVE_PASSES_PLANNER_CONFIGCOST_H
