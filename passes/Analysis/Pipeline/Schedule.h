//===- Schedule.h - pipeline schedules, checked and simulated -------------===//
//
// A pipeline schedule says, for each rank stage, in which order it runs the
// forward and backward passes of its chunks on each micro-batch. The
// compiler generates it ahead of time (cleave-pipeline-unroll clones ops in
// this order), the split pass prices it (simulate, maxInFlight), and the
// runtime's point-to-point test reads its text form (printSchedule).
//
// Chunk c (a virtual stage, 0 <= c < C = S * V) runs on rank stage c % S:
// Megatron-LM's interleaved assignment, which is the plain one for V = 1.
//
//===----------------------------------------------------------------------===//
#ifndef CLEAVE_PASSES_ANALYSIS_PIPELINE_SCHEDULE_H
#define CLEAVE_PASSES_ANALYSIS_PIPELINE_SCHEDULE_H

#include "llvm/ADT/ArrayRef.h"
#include "llvm/ADT/StringRef.h"
#include "llvm/Support/Error.h"
#include "llvm/Support/raw_ostream.h"

#include <cstdint>
#include <vector>

namespace mlir::cleave::pipeline {

/// The published schedules Cleave generates.
enum class ScheduleKind {
  /// GPipe (Huang et al. 2019): every forward, then every backward.
  gpipe,
  /// 1F1B, PipeDream-Flush (Narayanan et al. 2021), Megatron-LM's
  /// non-interleaved schedule.
  oneFOneB,
  /// Megatron-LM's interleaved 1F1B over V virtual stages per rank.
  interleaved,
  /// ZB-H1 (Qi et al. 2023, "Zero Bubble Pipeline Parallelism"): 1F1B with
  /// the backward split into its input-gradient (B) and weight-gradient (W)
  /// parts, W passes deferred into the bubbles.
  zeroBubbleH1,
};

/// "gpipe", "1f1b", "interleaved", "zb-h1".
llvm::StringRef stringifyScheduleKind(ScheduleKind kind);

/// The kind a schedule name (as stringifyScheduleKind writes it) names, or
/// an error listing the names.
llvm::Expected<ScheduleKind> parseScheduleKind(llvm::StringRef name);

/// One step of a stage's program.
struct Action {
  enum Kind {
    /// The chunk's forward on the micro-batch.
    forward,
    /// Its backward; in a ZB-H1 schedule only the input-gradient part.
    backward,
    /// ZB-H1 only: the weight-gradient part of the backward.
    weight,
  };
  Kind kind;
  int chunk;
  int microBatch;

  bool operator==(const Action &other) const {
    return kind == other.kind && chunk == other.chunk && microBatch == other.microBatch;
  }
  bool operator!=(const Action &other) const { return !(*this == other); }
};

/// The per-stage programs of one training step.
struct PipelineSchedule {
  ScheduleKind kind = ScheduleKind::oneFOneB;
  int stages = 1;
  int microBatches = 1;
  int virtualStages = 1;
  /// stageActions[p]: the actions of rank stage p, in execution order.
  std::vector<std::vector<Action>> stageActions;

  /// C = S * V.
  int chunks() const { return stages * virtualStages; }
  /// The rank stage chunk c runs on.
  int stageOfChunk(int chunk) const { return chunk % stages; }
  /// Whether backward passes are split into B and W (ZB-H1).
  bool splitsBackward() const { return kind == ScheduleKind::zeroBubbleH1; }
};

/// The schedule of `kind` for `stages` rank stages, `microBatches`
/// micro-batches and `virtualStages` chunks per rank, or an error naming the
/// bad argument: S, M, V < 1; V > 1 for a kind other than interleaved;
/// interleaved with V > 1 and M not a multiple of S (Megatron-LM's
/// requirement). Interleaved with V = 1 is 1F1B, as in Megatron-LM.
llvm::Expected<PipelineSchedule> buildSchedule(ScheduleKind kind, int stages, int microBatches,
                                               int virtualStages);

/// Checks that every (chunk, micro-batch) has its forward and backward (and
/// weight pass under ZB-H1) exactly once, on the chunk's stage, and that
/// running the stages' programs with unit times, each action waiting for
/// its dependencies (F c.m after F c-1.m; B c.m after F c.m and B c+1.m;
/// W c.m after B c.m), finishes: no deadlock. The error names what is
/// missing, duplicated, misplaced or stuck.
llvm::Error validate(const PipelineSchedule &schedule);

/// When one action ran in a simulation.
struct ActionTiming {
  double start = 0;
  double end = 0;
};

/// The outcome of simulate.
struct Simulation {
  /// timings[p][i]: when stageActions[p][i] ran.
  std::vector<std::vector<ActionTiming>> timings;
  /// Seconds each stage computed.
  std::vector<double> stageBusySeconds;
  /// When the last action ended (the step starts at 0).
  double makespan = 0;
  /// The idle share of the stages' time: 1 - sum(busy) / (S * makespan),
  /// i.e. the mean over stages of 1 - busy / makespan.
  double bubble = 0;
};

/// Runs the schedule with per-micro-batch chunk times: forwardSeconds[c],
/// backwardSeconds[c] (C entries each) and transferSeconds[k] (C - 1
/// entries, the latency of cut k between chunks k and k + 1; may be 0; not
/// paid between chunks on the same stage). Each stage runs its actions in
/// order, each as soon as its stage is free and its dependencies (as in
/// validate) have ended, transfers arriving after their latency without
/// occupying the stage (sends and receives are posted ahead). Under ZB-H1,
/// weightSeconds[c] is the W part and backwardSeconds[c] the B part; when
/// weightSeconds is empty the backward is split in halves. An error for
/// wrongly sized or negative times, or a schedule that deadlocks.
llvm::Expected<Simulation> simulate(const PipelineSchedule &schedule,
                                    llvm::ArrayRef<double> forwardSeconds,
                                    llvm::ArrayRef<double> backwardSeconds,
                                    llvm::ArrayRef<double> transferSeconds,
                                    llvm::ArrayRef<double> weightSeconds = {});

/// The bubble of `kind` by the published formula, as a share of the step
/// (see Schedule.cpp for which formula exactly); 0 for S = 1.
double idealBubble(ScheduleKind kind, int stages, int microBatches, int virtualStages);

/// The most (chunk, micro-batch) pairs of `stage` whose forward has run and
/// whose backward (the W part under ZB-H1, which still reads the stashed
/// activations) has not, along the stage's program: the activation stashes
/// the stage must hold at once. GPipe: M; 1F1B: min(S - p, M).
int maxInFlight(const PipelineSchedule &schedule, int stage);

/// The most activation bytes `stage` holds at once along its program, the
/// stashes counted as in maxInFlight, a stash of chunk c weighing
/// chunkActivationBytes[c] (C entries; with V > 1 a stage's chunks differ).
/// 0 for a stage out of range or a wrongly sized list.
int64_t maxInFlightBytes(const PipelineSchedule &schedule, int stage,
                         llvm::ArrayRef<int64_t> chunkActivationBytes);

/// The text form (docs/pipeline.md, "Schedules"):
///   schedule 1f1b stages 4 micro-batches 8 virtual-stages 1
///   stage 0: F0.0 F0.1 F0.2 F0.3 B0.0 F0.4 ...
/// F<c>.<m> forward, B<c>.<m> backward, W<c>.<m> weight pass (ZB-H1).
void printSchedule(const PipelineSchedule &schedule, llvm::raw_ostream &os);

} // namespace mlir::cleave::pipeline

#endif // CLEAVE_PASSES_ANALYSIS_PIPELINE_SCHEDULE_H
