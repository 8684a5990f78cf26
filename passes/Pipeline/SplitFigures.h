//===- SplitFigures.h - the time and memory of a pipeline split -----------===//
//
// What cleave-pipeline-split records for a split: per chunk its seconds,
// parameter, gradient, optimizer-state and stashed activation bytes; per
// cut the activation bytes crossing it; per rank stage its memory and busy
// seconds under the schedule; the predicted step and bubble. Times are
// per micro-batch on one device of a stage: the global program's cost
// (ComputeCost.h) divided by the micro-batches and the stage's dp x tp
// devices. Activations divide by micro-batches and dp (the batch split);
// weights, gradients and optimizer state by tp (dp replicates them).
// At bf16 (SplitSettings::precision) the bytes are a mixed-precision run's:
// activations, transfers and gradients 2 per element, parameters 2 + 4.
//
//===----------------------------------------------------------------------===//
#ifndef CLEAVE_PASSES_PIPELINE_SPLITFIGURES_H
#define CLEAVE_PASSES_PIPELINE_SPLITFIGURES_H

#include "passes/Analysis/Cluster/Cluster.h"
#include "passes/Pipeline/SplitCuts.h"

#include "mlir/IR/BuiltinAttributes.h"

namespace mlir::cleave {

struct SplitSettings {
  int64_t stages = 1;
  int64_t virtualStages = 1;
  int64_t microBatches = 1;
  std::string schedule = "1f1b";
  int64_t dataParallel = 1;
  int64_t tensorParallel = 1;
  /// "fp32" or "bf16": the bytes and math the figures price (Precision.h).
  std::string precision = "fp32";
};

struct SharedParameter {
  std::string name;
  /// Every chunk whose forward reads it, the owner first.
  std::vector<int64_t> chunks;
};

struct SplitFigures {
  std::vector<std::string> cuts;
  std::vector<double> chunkForwardSeconds, chunkBackwardSeconds, chunkUpdateSeconds;
  std::vector<int64_t> chunkParameterBytes, chunkGradientBytes, chunkOptimizerBytes;
  std::vector<int64_t> chunkActivationBytes;
  std::vector<int64_t> cutBytes;
  std::vector<int64_t> stageWeightBytes, stageGradientBytes, stageOptimizerBytes;
  std::vector<int64_t> stageActivationBytes, stageInFlight, stageMemoryBytes;
  std::vector<double> stageSeconds;
  double predictedStepSeconds = 0;
  double bubble = 0;
  std::vector<SharedParameter> sharedParameters;
  int64_t layers = 1;
  /// The simulation's latency of each cut (C - 1): the plan's timeline
  /// replays the simulation with them.
  std::vector<double> cutTransferSeconds;
};

/// Counts the split `assignment` of `phases` (`profile` gives the bytes
/// crossing each position) with the ops priced on `cluster`; an error on
/// the function when the schedule cannot be built or simulated.
FailureOr<SplitFigures> countSplit(const TrainStepPhases &phases, const ChunkAssignment &assignment,
                                   const CutProfile &profile, const SplitSettings &settings,
                                   const Cluster &cluster);

/// The module's cleave.pipeline dictionary (docs/pipeline.md).
DictionaryAttr buildPipelineAttr(MLIRContext *context, const SplitSettings &settings,
                                 const SplitFigures &figures);

} // namespace mlir::cleave

#endif // CLEAVE_PASSES_PIPELINE_SPLITFIGURES_H
