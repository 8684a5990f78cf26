//===- PlanTimeline.cpp - a pipeline's step, action by action -------------===//
//
// The split prices a pipeline by simulating its schedule (Schedule.h); the
// module keeps only the outcome (step, bubble, per-stage seconds). The plan
// replays the same simulation with the same inputs, so that its timeline
// is the split's step bar for bar: the schedule from the settings, the
// chunks' forward and backward seconds, the cuts' latencies (the split's
// p2p_seconds, else priced as the split prices them), and each stage's
// update (its stage_seconds less its busy time) after the pipeline drains.
//
//===----------------------------------------------------------------------===//
#include "compiler/Plan/PlanReport.h"
#include "passes/Analysis/Pipeline/Schedule.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <tuple>

using namespace mlir;
using namespace mlir::cleave;

/// As cleave-pipeline-split prices a cut: pp is the grid's slowest axis,
/// so neighbouring stages are devices / S ranks apart.
static std::vector<double> priceCuts(const PlanReport &report, const PlanPipeline &pipeline,
                                     int64_t stages, int64_t chunks) {
  std::vector<double> seconds;
  int64_t stageDevices = report.devices() / std::max<int64_t>(stages, 1);
  const Cluster &cluster = report.cluster;
  for (int64_t c = 0; c + 1 < chunks; ++c) {
    int64_t from = (c % stages) * stageDevices, to = ((c + 1) % stages) * stageDevices;
    const Link &link = cluster.devicesPerNode > 0 && cluster.nodeOf(from) != cluster.nodeOf(to)
                           ? cluster.interNode
                           : cluster.intraNode;
    double bytes = c < static_cast<int64_t>(pipeline.cutBytes.size())
                       ? static_cast<double>(pipeline.cutBytes[c])
                       : 0.0;
    seconds.push_back(link.latency + (link.bandwidth > 0 ? bytes / link.bandwidth : 0.0));
  }
  return seconds;
}

void mlir::cleave::buildPlanTimeline(PlanReport &report) {
  if (!report.pipeline)
    return;
  PlanPipeline &pipeline = *report.pipeline;
  pipeline.timeline.clear();
  pipeline.stageOrder.clear();
  pipeline.stageBusy.clear();
  pipeline.timelineSeconds = pipeline.timelineStepSeconds = 0;
  auto unknown = [&](const std::string &why) { pipeline.timelineNote = why; };
  if (!pipeline.stages || !pipeline.microBatches || pipeline.schedule.empty())
    return unknown("the pipeline's stages, micro-batches or schedule are unknown");
  int64_t stages = *pipeline.stages, virtualStages = pipeline.virtualStages.value_or(1);
  int64_t chunks = stages * virtualStages;
  std::vector<double> forward, backward;
  for (const PlanChunk &chunk : pipeline.chunks) {
    if (!chunk.forwardSeconds || !chunk.backwardSeconds)
      return unknown("chunk " + std::to_string(chunk.chunk) + "'s times are unknown");
    forward.push_back(*chunk.forwardSeconds);
    backward.push_back(*chunk.backwardSeconds);
  }
  if (static_cast<int64_t>(forward.size()) != chunks)
    return unknown("the pipeline lists " + std::to_string(forward.size()) + " chunks, not " +
                   std::to_string(chunks));
  std::vector<double> cuts = static_cast<int64_t>(pipeline.cutSeconds.size()) == chunks - 1
                                 ? pipeline.cutSeconds
                                 : priceCuts(report, pipeline, stages, chunks);

  llvm::Expected<pipeline::ScheduleKind> kind = pipeline::parseScheduleKind(pipeline.schedule);
  if (!kind)
    return unknown(llvm::toString(kind.takeError()));
  llvm::Expected<pipeline::PipelineSchedule> schedule = pipeline::buildSchedule(
      *kind, static_cast<int>(stages), static_cast<int>(*pipeline.microBatches),
      static_cast<int>(virtualStages));
  if (!schedule)
    return unknown(llvm::toString(schedule.takeError()));
  llvm::Expected<pipeline::Simulation> simulation =
      pipeline::simulate(*schedule, forward, backward, cuts);
  if (!simulation)
    return unknown(llvm::toString(simulation.takeError()));

  // Where each (chunk, micro-batch)'s forward and backward ended: the
  // transfers start there.
  std::map<std::pair<int, int>, double> forwardEnd, backwardEnd;
  for (auto [p, actions] : llvm::enumerate(schedule->stageActions)) {
    std::vector<std::string> order;
    for (auto [index, action] : llvm::enumerate(actions)) {
      const pipeline::ActionTiming &timing = simulation->timings[p][index];
      static const char *names[] = {"forward", "backward", "weight"};
      static const char letters[] = {'F', 'B', 'W'};
      pipeline.timeline.push_back({static_cast<int64_t>(p), action.microBatch, action.chunk,
                                   names[action.kind], timing.start, timing.end});
      order.push_back(letters[action.kind] + std::to_string(action.chunk) + "." +
                      std::to_string(action.microBatch));
      if (action.kind == pipeline::Action::forward)
        forwardEnd[{action.chunk, action.microBatch}] = timing.end;
      else if (action.kind == pipeline::Action::backward)
        backwardEnd[{action.chunk, action.microBatch}] = timing.end;
    }
    pipeline.stageOrder.push_back(std::move(order));
  }
  // A cut between chunks on different stages: the activations forward, their
  // gradients back, each shown on the stage that sends and the one that
  // receives.
  auto transfer = [&](int64_t from, int64_t to, int64_t chunk, int64_t m, double start,
                      double seconds) {
    pipeline.timeline.push_back({from, m, chunk, "send", start, start + seconds});
    pipeline.timeline.push_back({to, m, chunk, "recv", start, start + seconds});
  };
  for (int64_t c = 0; c + 1 < chunks; ++c) {
    int64_t here = c % stages, next = (c + 1) % stages;
    if (here == next)
      continue;
    for (int64_t m = 0; m < *pipeline.microBatches; ++m) {
      transfer(here, next, c, m, forwardEnd[{c, m}], cuts[c]);
      transfer(next, here, c + 1, m, backwardEnd[{c + 1, m}], cuts[c]);
    }
  }
  pipeline.stageBusy = simulation->stageBusySeconds;
  pipeline.timelineSeconds = pipeline.timelineStepSeconds = simulation->makespan;
  // Each stage updates its own parameters once the pipeline has drained.
  for (const PlanStage &stage : pipeline.stageList) {
    if (!stage.seconds || stage.stage >= static_cast<int64_t>(pipeline.stageBusy.size()))
      continue;
    double update = *stage.seconds - pipeline.stageBusy[stage.stage];
    if (update <= 0)
      continue;
    pipeline.timeline.push_back(
        {stage.stage, -1, -1, "update", simulation->makespan, simulation->makespan + update});
    pipeline.timelineStepSeconds =
        std::max(pipeline.timelineStepSeconds, simulation->makespan + update);
  }
  std::stable_sort(pipeline.timeline.begin(), pipeline.timeline.end(),
                   [](const PlanTimelineEntry &a, const PlanTimelineEntry &b) {
                     return std::tie(a.stage, a.start) < std::tie(b.stage, b.start);
                   });
  pipeline.timelineNote.clear();
}

std::optional<std::string> mlir::cleave::timelineMismatch(const PlanPipeline &pipeline) {
  if (pipeline.timeline.empty() || !pipeline.predictedStepSeconds)
    return std::nullopt;
  double predicted = *pipeline.predictedStepSeconds, replayed = pipeline.timelineStepSeconds;
  if (std::abs(replayed - predicted) <= 1e-6 * std::max(std::abs(predicted), 1e-12))
    return std::nullopt;
  return "the replayed step, " + formatSeconds(replayed) + " with the updates, differs from the " +
         "split's predicted " + formatSeconds(predicted) +
         ": the module's figures are not those of this schedule";
}
