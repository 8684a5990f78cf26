//===- Schedule.cpp - pipeline schedules, checked and simulated -----------===//
//
// The orders follow the published schedules so that a reader can check a
// generated program against the paper or Megatron-LM's code
// (megatron/core/pipeline_parallel/schedules.py) step by step; the
// simulation is what the split pass prices a schedule with.
//
//===----------------------------------------------------------------------===//
#include "passes/Analysis/Pipeline/Schedule.h"

#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/SmallVector.h"
#include "llvm/Support/Format.h"
#include "llvm/Support/FormatVariadic.h"

#include <algorithm>
#include <cmath>
#include <string>
#include <utility>

using namespace mlir::cleave::pipeline;

namespace {

llvm::Error error(const llvm::Twine &message) {
  return llvm::createStringError(llvm::inconvertibleErrorCode(), message);
}

/// A stage's program over its one chunk `chunk` in 1F1B order (Megatron-LM's
/// forward_backward_pipelining_without_interleaving): `warmup` forwards,
/// then forward/backward pairs, then the remaining backwards. Under ZB-H1
/// (`weightLag` >= 0) the weight pass of micro-batch k follows the backward
/// of micro-batch k + weightLag.
std::vector<Action> oneFOneBProgram(int chunk, int microBatches, int warmup, int weightLag) {
  std::vector<Action> program;
  int forwards = 0, backwards = 0, weights = 0;
  auto forward = [&] { program.push_back({Action::forward, chunk, forwards++}); };
  auto backward = [&] {
    program.push_back({Action::backward, chunk, backwards++});
    if (weightLag >= 0 && backwards - weights > weightLag)
      program.push_back({Action::weight, chunk, weights++});
  };
  while (forwards < warmup)
    forward();
  while (forwards < microBatches) {
    forward();
    backward();
  }
  while (backwards < microBatches)
    backward();
  while (weightLag >= 0 && weights < microBatches)
    program.push_back({Action::weight, chunk, weights++});
  return program;
}

/// Megatron-LM's forward_backward_pipelining_with_interleaving with its
/// default microbatch_group_size_per_vp_stage = S: the virtual micro-batches
/// k = 0 .. M*V-1 of every rank walk micro-batches in groups of S, each
/// group through local chunks 0 .. V-1 (get_schedule_table); the forward
/// of k runs local chunk table[k], the backward of k local chunk
/// V-1-table[k] (get_model_chunk_id), each on the oldest micro-batch that
/// chunk has not done yet, which is the table's micro-batch. Rank p runs
/// (S-p-1)*2 + (V-1)*S warm-up forwards (capped at M*V), then pairs
/// forward(k + warmup), backward(k), then the remaining backwards.
std::vector<Action> interleavedProgram(int stage, int stages, int microBatches, int virtualStages) {
  int group = stages;
  std::vector<std::pair<int, int>> table; // (micro-batch, local chunk)
  for (int first = 0; first < microBatches; first += group) {
    int last = std::min(first + group, microBatches);
    for (int local = 0; local < virtualStages; ++local)
      for (int m = first; m < last; ++m)
        table.push_back({m, local});
  }
  int total = microBatches * virtualStages;
  int warmup = std::min((stages - stage - 1) * 2 + (virtualStages - 1) * group, total);
  auto forward = [&](int k) {
    return Action{Action::forward, table[k].second * stages + stage, table[k].first};
  };
  auto backward = [&](int k) {
    return Action{Action::backward, (virtualStages - 1 - table[k].second) * stages + stage,
                  table[k].first};
  };
  std::vector<Action> program;
  for (int k = 0; k < warmup; ++k)
    program.push_back(forward(k));
  for (int k = 0; k < total - warmup; ++k) {
    program.push_back(forward(k + warmup));
    program.push_back(backward(k));
  }
  for (int k = total - warmup; k < total; ++k)
    program.push_back(backward(k));
  return program;
}

std::string actionName(const Action &action) {
  char letter = action.kind == Action::forward ? 'F' : action.kind == Action::backward ? 'B' : 'W';
  return llvm::formatv("{0}{1}.{2}", letter, action.chunk, action.microBatch).str();
}

/// Runs the programs as simulate documents; `duration` gives an action's
/// seconds, `latency(k)` the transfer time over cut k. Fails naming the
/// actions every unfinished stage is stuck at.
llvm::Expected<Simulation> run(const PipelineSchedule &schedule,
                               llvm::function_ref<double(const Action &)> duration,
                               llvm::function_ref<double(int)> latency) {
  int stages = schedule.stages, chunks = schedule.chunks(), microBatches = schedule.microBatches;
  // ends[kind][chunk * M + m]: when that action ended; NaN until it has.
  std::vector<double> ends[3];
  for (auto &end : ends)
    end.assign(static_cast<size_t>(chunks) * microBatches, std::nan(""));
  auto endOf = [&](Action::Kind kind, int chunk, int m) -> double & {
    return ends[kind][static_cast<size_t>(chunk) * microBatches + m];
  };
  Simulation result;
  result.timings.resize(stages);
  result.stageBusySeconds.assign(stages, 0);
  std::vector<size_t> next(stages, 0);
  std::vector<double> free(stages, 0);

  // The time the inputs of `action` are ready on its stage; NaN while one
  // has not been produced.
  auto readyTime = [&](const Action &action) {
    int c = action.chunk, m = action.microBatch;
    double ready = 0;
    auto after = [&](Action::Kind kind, int chunk, int cut) {
      double end = endOf(kind, chunk, m);
      if (std::isnan(end)) {
        ready = end;
        return;
      }
      if (cut >= 0 && schedule.stageOfChunk(chunk) != schedule.stageOfChunk(c))
        end += latency(cut);
      // A NaN `ready` stays NaN: std::max returns its first argument when
      // the comparison fails.
      ready = std::max(ready, end);
    };
    switch (action.kind) {
    case Action::forward:
      if (c > 0)
        after(Action::forward, c - 1, c - 1);
      break;
    case Action::backward:
      after(Action::forward, c, -1);
      if (c + 1 < chunks)
        after(Action::backward, c + 1, c);
      break;
    case Action::weight:
      after(Action::backward, c, -1);
      break;
    }
    return ready;
  };

  for (bool progress = true; progress;) {
    progress = false;
    for (int p = 0; p < stages; ++p) {
      const std::vector<Action> &program = schedule.stageActions[p];
      while (next[p] < program.size()) {
        const Action &action = program[next[p]];
        double ready = readyTime(action);
        if (std::isnan(ready))
          break;
        double start = std::max(free[p], ready);
        double seconds = duration(action);
        free[p] = start + seconds;
        endOf(action.kind, action.chunk, action.microBatch) = free[p];
        result.timings[p].push_back({start, free[p]});
        result.stageBusySeconds[p] += seconds;
        ++next[p];
        progress = true;
      }
    }
  }

  std::string stuck;
  for (int p = 0; p < stages; ++p)
    if (next[p] < schedule.stageActions[p].size())
      stuck += llvm::formatv("{0}stage {1} at {2}", stuck.empty() ? "" : ", ", p,
                             actionName(schedule.stageActions[p][next[p]]))
                   .str();
  if (!stuck.empty())
    return error("the " + stringifyScheduleKind(schedule.kind) +
                 " schedule deadlocks: no stage can go on (" + stuck +
                 "), each waits for an action that never runs before it");

  double busy = 0;
  for (int p = 0; p < stages; ++p) {
    result.makespan = std::max(result.makespan, free[p]);
    busy += result.stageBusySeconds[p];
  }
  result.bubble = result.makespan > 0 ? 1 - busy / (stages * result.makespan) : 0;
  return result;
}

} // namespace

llvm::StringRef mlir::cleave::pipeline::stringifyScheduleKind(ScheduleKind kind) {
  switch (kind) {
  case ScheduleKind::gpipe:
    return "gpipe";
  case ScheduleKind::oneFOneB:
    return "1f1b";
  case ScheduleKind::interleaved:
    return "interleaved";
  case ScheduleKind::zeroBubbleH1:
    return "zb-h1";
  }
  llvm_unreachable("every schedule kind has a name");
}

llvm::Expected<ScheduleKind> mlir::cleave::pipeline::parseScheduleKind(llvm::StringRef name) {
  for (ScheduleKind kind : {ScheduleKind::gpipe, ScheduleKind::oneFOneB, ScheduleKind::interleaved,
                            ScheduleKind::zeroBubbleH1})
    if (name == stringifyScheduleKind(kind))
      return kind;
  return error("unknown pipeline schedule '" + name + "': use gpipe, 1f1b, interleaved or zb-h1");
}

llvm::Expected<PipelineSchedule> mlir::cleave::pipeline::buildSchedule(ScheduleKind kind,
                                                                       int stages, int microBatches,
                                                                       int virtualStages) {
  if (stages < 1)
    return error(llvm::formatv("pipeline stages must be at least 1, got {0}", stages));
  if (microBatches < 1)
    return error(llvm::formatv("micro-batches must be at least 1, got {0}", microBatches));
  if (virtualStages < 1)
    return error(llvm::formatv("virtual stages must be at least 1, got {0}", virtualStages));
  if (virtualStages > 1 && kind != ScheduleKind::interleaved)
    return error(llvm::formatv("{0} virtual stages need the interleaved schedule, not {1}: use "
                               "--schedule interleaved or --virtual-stages 1",
                               virtualStages, stringifyScheduleKind(kind)));
  // Megatron-LM's interleaved schedule walks micro-batches in groups of S;
  // a last, smaller group would leave stages waiting, and Megatron-LM
  // refuses it (it needs M % S == 0 or a remainder of at least S).
  if (kind == ScheduleKind::interleaved && virtualStages > 1 && microBatches % stages != 0) {
    int lower = microBatches / stages * stages, upper = lower + stages;
    // Fewer micro-batches than stages: no smaller multiple to offer.
    std::string choices =
        lower > 0 ? llvm::formatv("{0} or {1}", lower, upper).str() : std::to_string(upper);
    return error(llvm::formatv(
        "the interleaved schedule needs micro-batches to be a multiple of the pipeline stages "
        "(as Megatron-LM does): {0} micro-batches on {1} stages; use {2} micro-batches",
        microBatches, stages, choices));
  }

  PipelineSchedule schedule;
  schedule.kind = kind;
  schedule.stages = stages;
  schedule.microBatches = microBatches;
  schedule.virtualStages = virtualStages;
  for (int p = 0; p < stages; ++p) {
    int warmup = std::min(stages - p - 1, microBatches);
    switch (kind) {
    case ScheduleKind::gpipe:
      schedule.stageActions.push_back(oneFOneBProgram(p, microBatches, microBatches, -1));
      break;
    case ScheduleKind::oneFOneB:
      schedule.stageActions.push_back(oneFOneBProgram(p, microBatches, warmup, -1));
      break;
    case ScheduleKind::interleaved:
      // Megatron-LM runs V = 1 as its non-interleaved 1F1B.
      schedule.stageActions.push_back(
          virtualStages == 1 ? oneFOneBProgram(p, microBatches, warmup, -1)
                             : interleavedProgram(p, stages, microBatches, virtualStages));
      break;
    case ScheduleKind::zeroBubbleH1:
      // ZB-H1 keeps 1F1B's forwards and input-gradient backwards and
      // defers stage p's weight passes by p micro-batches: the later
      // stages, which finish their backwards first, fill the drain with
      // weight passes. With equal F, B and W times this leaves (S - 1)
      // idle units per stage, a third of 1F1B's 3 (S - 1), and every stage
      // then holds at most S stashes, 1F1B's peak (the first stage's).
      schedule.stageActions.push_back(oneFOneBProgram(p, microBatches, warmup, p));
      break;
    }
  }
  return schedule;
}

/// Every action exactly once, on its chunk's stage: what a run needs
/// before it can index by chunk and micro-batch.
static llvm::Error checkComplete(const PipelineSchedule &schedule) {
  int stages = schedule.stages, chunks = schedule.chunks(), microBatches = schedule.microBatches;
  if (stages < 1 || microBatches < 1 || schedule.virtualStages < 1)
    return error(llvm::formatv("a schedule needs at least one stage, micro-batch and virtual "
                               "stage, this one has {0}, {1} and {2}",
                               stages, microBatches, schedule.virtualStages));
  if (static_cast<int>(schedule.stageActions.size()) != stages)
    return error(llvm::formatv("the schedule has programs for {0} stages, not {1}",
                               schedule.stageActions.size(), stages));
  int kinds = schedule.splitsBackward() ? 3 : 2;
  std::vector<int> counts(static_cast<size_t>(3) * chunks * microBatches, 0);
  for (int p = 0; p < stages; ++p) {
    for (const Action &action : schedule.stageActions[p]) {
      if (action.chunk < 0 || action.chunk >= chunks || action.microBatch < 0 ||
          action.microBatch >= microBatches || action.kind >= kinds)
        return error(llvm::formatv("stage {0} runs {1}, which is not part of a {2} schedule "
                                   "of {3} chunks and {4} micro-batches",
                                   p, actionName(action), stringifyScheduleKind(schedule.kind),
                                   chunks, microBatches));
      if (schedule.stageOfChunk(action.chunk) != p)
        return error(llvm::formatv("stage {0} runs {1}, but chunk {2} belongs to stage {3}", p,
                                   actionName(action), action.chunk,
                                   schedule.stageOfChunk(action.chunk)));
      ++counts[(static_cast<size_t>(action.kind) * chunks + action.chunk) * microBatches +
               action.microBatch];
    }
  }
  std::string missing, repeated;
  for (int kind = 0; kind < kinds; ++kind)
    for (int c = 0; c < chunks; ++c)
      for (int m = 0; m < microBatches; ++m) {
        int count = counts[(static_cast<size_t>(kind) * chunks + c) * microBatches + m];
        std::string &list = count == 0 ? missing : repeated;
        if (count != 1)
          list += (list.empty() ? "" : " ") + actionName({static_cast<Action::Kind>(kind), c, m});
      }
  if (!missing.empty() || !repeated.empty())
    return error("the " + stringifyScheduleKind(schedule.kind) + " schedule must run every " +
                 "action exactly once" + (missing.empty() ? "" : "; missing: " + missing) +
                 (repeated.empty() ? "" : "; repeated: " + repeated));
  return llvm::Error::success();
}

llvm::Error mlir::cleave::pipeline::validate(const PipelineSchedule &schedule) {
  if (llvm::Error err = checkComplete(schedule))
    return err;
  auto simulation = run(schedule, [](const Action &) { return 1.0; }, [](int) { return 0.0; });
  if (!simulation)
    return simulation.takeError();
  return llvm::Error::success();
}

llvm::Expected<Simulation> mlir::cleave::pipeline::simulate(const PipelineSchedule &schedule,
                                                            llvm::ArrayRef<double> forwardSeconds,
                                                            llvm::ArrayRef<double> backwardSeconds,
                                                            llvm::ArrayRef<double> transferSeconds,
                                                            llvm::ArrayRef<double> weightSeconds) {
  size_t chunks = schedule.chunks();
  auto check = [&](llvm::ArrayRef<double> times, size_t size, llvm::StringRef what) -> llvm::Error {
    if (times.size() != size)
      return error(llvm::formatv("{0} needs {1} entries (one per {2}), got {3}", what, size,
                                 what == "transfer seconds" ? "cut" : "chunk", times.size()));
    for (double time : times)
      if (!(time >= 0) || std::isinf(time)) {
        std::string text;
        llvm::raw_string_ostream(text) << llvm::format("%g", time);
        return error(llvm::formatv("{0} must be finite and not negative, got {1}", what, text));
      }
    return llvm::Error::success();
  };
  if (llvm::Error err = check(forwardSeconds, chunks, "forward seconds"))
    return std::move(err);
  if (llvm::Error err = check(backwardSeconds, chunks, "backward seconds"))
    return std::move(err);
  if (llvm::Error err = check(transferSeconds, chunks - 1, "transfer seconds"))
    return std::move(err);
  if (!weightSeconds.empty())
    if (llvm::Error err = check(weightSeconds, chunks, "weight seconds"))
      return std::move(err);
  if (llvm::Error err = checkComplete(schedule))
    return std::move(err);
  bool split = schedule.splitsBackward();
  auto duration = [&](const Action &action) {
    switch (action.kind) {
    case Action::forward:
      return forwardSeconds[action.chunk];
    case Action::backward:
      return split && weightSeconds.empty() ? backwardSeconds[action.chunk] / 2
                                            : backwardSeconds[action.chunk];
    case Action::weight:
      return weightSeconds.empty() ? backwardSeconds[action.chunk] / 2
                                   : weightSeconds[action.chunk];
    }
    llvm_unreachable("every action kind has a duration");
  };
  return run(schedule, duration, [&](int cut) { return transferSeconds[cut]; });
}

// With equal times per chunk, GPipe and 1F1B idle (S - 1) forward+backward
// times per stage around M of them: (S - 1) / (M + S - 1) of the step.
// Megatron-LM's paper (Narayanan et al. 2021, section 2.2.2) gives the
// interleaved bubble as the ratio of idle to compute time, (p - 1) / (v m);
// as a share of the step that is (S - 1) / (V M + S - 1), which the
// simulation of the generated schedule reproduces exactly with equal chunk
// times. It is a little more than the issue's shorthand "(S - 1) / (M + S -
// 1) / V" (0.158 against 0.136 at S = 4, M = 8, V = 2), which divides the
// fraction rather than the ratio. ZB-H1 with equal F, B and W times idles
// S - 1 of them per stage around 3 M: (S - 1) / (3 M + S - 1), for M >= S
// (with fewer micro-batches the chain of S forwards and S backwards is
// longer).
double mlir::cleave::pipeline::idealBubble(ScheduleKind kind, int stages, int microBatches,
                                           int virtualStages) {
  if (stages <= 1 || microBatches < 1)
    return 0;
  double idle = stages - 1;
  switch (kind) {
  case ScheduleKind::gpipe:
  case ScheduleKind::oneFOneB:
    return idle / (microBatches + idle);
  case ScheduleKind::interleaved:
    return idle / (static_cast<double>(std::max(virtualStages, 1)) * microBatches + idle);
  case ScheduleKind::zeroBubbleH1:
    return idle / (3.0 * microBatches + idle);
  }
  llvm_unreachable("every schedule kind has a bubble");
}

namespace {

/// The peak of the stashes `stage` holds along its program, a stash of
/// chunk c weighing weight(c).
int64_t peakStashes(const PipelineSchedule &schedule, int stage,
                    llvm::function_ref<int64_t(int)> weight) {
  if (stage < 0 || stage >= static_cast<int>(schedule.stageActions.size()))
    return 0;
  // The weight pass still reads the forward's inputs, so under ZB-H1 a
  // stash lives until W.
  Action::Kind release = schedule.splitsBackward() ? Action::weight : Action::backward;
  int64_t inFlight = 0, most = 0;
  for (const Action &action : schedule.stageActions[stage]) {
    if (action.kind == Action::forward)
      most = std::max(most, inFlight += weight(action.chunk));
    else if (action.kind == release)
      inFlight -= weight(action.chunk);
  }
  return most;
}

} // namespace

int mlir::cleave::pipeline::maxInFlight(const PipelineSchedule &schedule, int stage) {
  return static_cast<int>(peakStashes(schedule, stage, [](int) -> int64_t { return 1; }));
}

int64_t mlir::cleave::pipeline::maxInFlightBytes(const PipelineSchedule &schedule, int stage,
                                                 llvm::ArrayRef<int64_t> chunkActivationBytes) {
  if (static_cast<int>(chunkActivationBytes.size()) != schedule.chunks())
    return 0;
  return peakStashes(schedule, stage, [&](int chunk) { return chunkActivationBytes[chunk]; });
}

void mlir::cleave::pipeline::printSchedule(const PipelineSchedule &schedule,
                                           llvm::raw_ostream &os) {
  os << "schedule " << stringifyScheduleKind(schedule.kind) << " stages " << schedule.stages
     << " micro-batches " << schedule.microBatches << " virtual-stages " << schedule.virtualStages
     << "\n";
  for (size_t p = 0; p < schedule.stageActions.size(); ++p) {
    os << "stage " << p << ":";
    for (const Action &action : schedule.stageActions[p])
      os << " " << actionName(action);
    os << "\n";
  }
}
