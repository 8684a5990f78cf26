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
#include "passes/Analysis/Pipeline/Schedule.h"
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

/// A trainable parameter the forward of chunks on several stages reads (a
/// tied embedding), seen from one reader chunk on another stage than the
/// owner's: after each micro-batch's backward the reader sends its partial
/// gradient to the owner, whose backward of that micro-batch adds it; after
/// the update the owner sends the new value back.
struct SharedTransfer {
  int64_t readerChunk = 0;
  int64_t ownerChunk = 0;
  /// The parameters' global bytes (a device of a tp-way stage sends 1/tp).
  int64_t bytes = 0;
};

/// What the shared parameters' transfers add to a simulated step.
struct SharedTraffic {
  /// The longest an owner's backward waits for a partial gradient.
  double delaySeconds = 0;
  /// sendBackSeconds[p]: sending the values stage p owns back to their
  /// readers, after its update.
  std::vector<double> sendBackSeconds;
};

/// Whether `op` starts a kernel of its own when the step runs: an op that
/// is not fused into an elementwise loop nor a view, or the first of a run
/// of fusible ops (`previous` is the op before it in program order, views
/// skipped; null at the start). The code generators' fusion
/// (compiler/Codegen/Schedule.cpp) also cuts a run where the shape changes;
/// counting runs is close enough for a fixed cost per kernel.
bool countKernel(Operation *op, Operation *previous);

/// Seconds `kernels` kernels cost one device on top of the linear share
/// of their priced time when it runs 1/`parts` of the batch (parts = M x
/// dp x tp): a kernel's time is a fixed `launch` (its call, what small
/// products lose) plus the rest in proportion to its rows, and the rates
/// price the whole batch in one call, which holds the fixed part once.
double kernelFixedSeconds(int64_t kernels, double launch, int64_t parts);

struct SplitFigures {
  std::vector<std::string> cuts;
  std::vector<double> chunkForwardSeconds, chunkBackwardSeconds, chunkUpdateSeconds;
  /// Kernels one micro-batch's forward and backward of each chunk run
  /// (countKernel): each costs Cluster::kernelLaunch on top of its share of
  /// the work, once per micro-batch, and chunk*Seconds include it.
  std::vector<int64_t> chunkForwardKernels, chunkBackwardKernels;
  std::vector<int64_t> chunkParameterBytes, chunkGradientBytes, chunkOptimizerBytes;
  std::vector<int64_t> chunkActivationBytes;
  std::vector<int64_t> cutBytes;
  std::vector<int64_t> stageWeightBytes, stageGradientBytes, stageOptimizerBytes;
  std::vector<int64_t> stageActivationBytes, stageInFlight, stageMemoryBytes;
  std::vector<double> stageSeconds;
  double predictedStepSeconds = 0;
  double bubble = 0;
  std::vector<SharedParameter> sharedParameters;
  std::vector<SharedTransfer> sharedTransfers;
  int64_t layers = 1;
  /// The simulation's latency of each cut (C - 1): the plan's timeline
  /// replays the simulation with them.
  std::vector<double> cutTransferSeconds;
};

/// Seconds one message of `bytes` takes from a device of rank stage `from`
/// to its peer of stage `to`: a send-recv of the collective model
/// (CollectiveCost.h: latency + bytes / (bandwidth x collective efficiency),
/// the slower link's figures between nodes) between the stages' first
/// ranks, stage p starting at rank p * stageDevices (pp is the grid's
/// slowest axis).
double stageTransferSeconds(const Cluster &cluster, int64_t stageDevices, int64_t from, int64_t to,
                            int64_t bytes);

/// The wait for `transfers`' partial gradients (per micro-batch, each
/// leaving when the reader's backward ended in `simulation`, queued on its
/// link with the neighbour cut's gradient, `cutBytes` per device) and the
/// owners' send-back of the updated values, on a dp x tp = stageDevices
/// stage. The predicted step is makespan + delaySeconds + the largest
/// update + sendBackSeconds of a stage.
SharedTraffic priceSharedTransfers(const pipeline::PipelineSchedule &schedule,
                                   const pipeline::Simulation &simulation,
                                   llvm::ArrayRef<SharedTransfer> transfers,
                                   llvm::ArrayRef<int64_t> cutBytes, int64_t tp,
                                   const Cluster &cluster, int64_t stageDevices);

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
