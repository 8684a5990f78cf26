// The pipeline schedules (passes/Analysis/Pipeline/Schedule.h): every
// schedule the compiler can generate within the limits (S <= 8,
// M <= 16, V <= 4) is complete and deadlock-free, the simulated bubble
// matches the published formulas, and the stash counts match the papers'.
#include "passes/Analysis/Pipeline/Schedule.h"

#include "llvm/Support/raw_ostream.h"

#include <catch2/catch.hpp>

#include <string>
#include <vector>

using namespace mlir::cleave::pipeline;

namespace {

std::string message(llvm::Error err) { return llvm::toString(std::move(err)); }

PipelineSchedule build(ScheduleKind kind, int stages, int microBatches, int virtualStages = 1) {
  auto schedule = buildSchedule(kind, stages, microBatches, virtualStages);
  REQUIRE(static_cast<bool>(schedule));
  return *schedule;
}

std::string text(const PipelineSchedule &schedule) {
  std::string out;
  llvm::raw_string_ostream os(out);
  printSchedule(schedule, os);
  return out;
}

/// Equal per-micro-batch times for every chunk: a layer's forward `f` and
/// backward `b` split over the V chunks of a stage.
Simulation simulateEqual(const PipelineSchedule &schedule, double f, double b,
                         double transfer = 0) {
  int chunks = schedule.chunks();
  std::vector<double> forward(chunks, f / schedule.virtualStages);
  std::vector<double> backward(chunks, b / schedule.virtualStages);
  std::vector<double> transfers(chunks - 1, transfer);
  auto simulation = simulate(schedule, forward, backward, transfers);
  REQUIRE(static_cast<bool>(simulation));
  return *simulation;
}

} // namespace

TEST_CASE("pipeline schedule: every kind within the limits is complete and deadlock-free",
          "[pipeline]") {
  int checked = 0;
  for (ScheduleKind kind : {ScheduleKind::gpipe, ScheduleKind::oneFOneB, ScheduleKind::interleaved,
                            ScheduleKind::zeroBubbleH1})
    for (int stages = 1; stages <= 8; ++stages)
      for (int microBatches = 1; microBatches <= 16; ++microBatches)
        for (int virtualStages = 1; virtualStages <= 4; ++virtualStages) {
          bool allowed = virtualStages == 1 ||
                         (kind == ScheduleKind::interleaved && microBatches % stages == 0);
          auto schedule = buildSchedule(kind, stages, microBatches, virtualStages);
          INFO(stringifyScheduleKind(kind).str()
               << " S=" << stages << " M=" << microBatches << " V=" << virtualStages);
          REQUIRE(static_cast<bool>(schedule) == allowed);
          if (!schedule) {
            llvm::consumeError(schedule.takeError());
            continue;
          }
          // The message, not the moved-from error, is what is checked: a
          // moved llvm::Error reads as success.
          llvm::Error err = validate(*schedule);
          std::string problem = err ? message(std::move(err)) : std::string();
          INFO(problem);
          CHECK(problem.empty());
          ++checked;
        }
  // 8 * 16 each for gpipe, 1f1b, zb-h1; interleaved adds the V > 1 runs
  // with S | M: sum over S of (16 / S) * 3.
  CHECK(checked == 4 * 8 * 16 + 3 * (16 + 8 + 5 + 4 + 3 + 2 + 2 + 2));
}

TEST_CASE("pipeline schedule: bad arguments are refused with a clear message", "[pipeline]") {
  auto refuse = [](ScheduleKind kind, int s, int m, int v) {
    auto schedule = buildSchedule(kind, s, m, v);
    REQUIRE(!schedule);
    return message(schedule.takeError());
  };
  CHECK(refuse(ScheduleKind::oneFOneB, 0, 4, 1) == "pipeline stages must be at least 1, got 0");
  CHECK(refuse(ScheduleKind::gpipe, 2, 0, 1) == "micro-batches must be at least 1, got 0");
  CHECK(refuse(ScheduleKind::interleaved, 2, 4, 0) == "virtual stages must be at least 1, got 0");
  CHECK(refuse(ScheduleKind::oneFOneB, 2, 4, 2).find("need the interleaved schedule") !=
        std::string::npos);
  CHECK(refuse(ScheduleKind::interleaved, 4, 6, 2) ==
        "the interleaved schedule needs micro-batches to be a multiple of the pipeline stages "
        "(as Megatron-LM does): 6 micro-batches on 4 stages; use 4 or 8 micro-batches");
  CHECK(refuse(ScheduleKind::interleaved, 2, 1, 2) ==
        "the interleaved schedule needs micro-batches to be a multiple of the pipeline stages "
        "(as Megatron-LM does): 1 micro-batches on 2 stages; use 2 micro-batches");
  // V = 1 is Megatron-LM's plain 1F1B, without its divisibility rule.
  PipelineSchedule plain = build(ScheduleKind::interleaved, 4, 6, 1);
  CHECK(plain.stageActions == build(ScheduleKind::oneFOneB, 4, 6).stageActions);

  auto kind = parseScheduleKind("1F1B");
  REQUIRE(!kind);
  CHECK(message(kind.takeError()) ==
        "unknown pipeline schedule '1F1B': use gpipe, 1f1b, interleaved or zb-h1");
  for (ScheduleKind each : {ScheduleKind::gpipe, ScheduleKind::oneFOneB, ScheduleKind::interleaved,
                            ScheduleKind::zeroBubbleH1}) {
    auto parsed = parseScheduleKind(stringifyScheduleKind(each));
    REQUIRE(static_cast<bool>(parsed));
    CHECK(*parsed == each);
  }
}

TEST_CASE("pipeline schedule: validate names missing, misplaced and stuck actions", "[pipeline]") {
  PipelineSchedule schedule = build(ScheduleKind::oneFOneB, 2, 2);

  PipelineSchedule missing = schedule;
  missing.stageActions[1].pop_back();
  CHECK(message(validate(missing)) ==
        "the 1f1b schedule must run every action exactly once; missing: B1.1");

  PipelineSchedule repeated = schedule;
  repeated.stageActions[0].push_back({Action::forward, 0, 1});
  CHECK(message(validate(repeated)) ==
        "the 1f1b schedule must run every action exactly once; repeated: F0.1");

  PipelineSchedule misplaced = schedule;
  misplaced.stageActions[0][0].chunk = 1;
  CHECK(message(validate(misplaced)) == "stage 0 runs F1.0, but chunk 1 belongs to stage 1");
  misplaced = schedule;
  misplaced.stageActions[1][0].chunk = 0;
  CHECK(message(validate(misplaced)) == "stage 1 runs F0.0, but chunk 0 belongs to stage 0");

  // Stage 0 waits for B0.0's gradient before it sends F0.0's activations.
  PipelineSchedule stuck = schedule;
  stuck.stageActions[0] = {{Action::backward, 0, 0},
                           {Action::forward, 0, 0},
                           {Action::forward, 0, 1},
                           {Action::backward, 0, 1}};
  CHECK(message(validate(stuck)) ==
        "the 1f1b schedule deadlocks: no stage can go on (stage 0 at B0.0, stage 1 at F1.0), "
        "each waits for an action that never runs before it");

  // simulate refuses what validate refuses instead of reading out of range.
  PipelineSchedule outside = schedule;
  outside.stageActions[1].push_back({Action::backward, 7, 0});
  auto simulation = simulate(outside, {1, 1}, {1, 1}, {0});
  REQUIRE(!simulation);
  CHECK(message(simulation.takeError()) ==
        "stage 1 runs B7.0, which is not part of a 1f1b schedule of 2 chunks and 2 micro-batches");
  PipelineSchedule fewer = schedule;
  fewer.stageActions.pop_back();
  CHECK(message(validate(fewer)) == "the schedule has programs for 1 stages, not 2");

  // A 1F1B schedule has no weight passes.
  PipelineSchedule weight = schedule;
  weight.stageActions[0].push_back({Action::weight, 0, 0});
  CHECK(message(validate(weight)).find("stage 0 runs W0.0, which is not part of a 1f1b") == 0);
}

TEST_CASE("pipeline schedule: the text form", "[pipeline]") {
  // S = 2, M = 2 1F1B by hand: stage 0 warms up with min(S - 0 - 1, M) = 1
  // forward, stage 1 with none.
  CHECK(text(build(ScheduleKind::oneFOneB, 2, 2)) ==
        "schedule 1f1b stages 2 micro-batches 2 virtual-stages 1\n"
        "stage 0: F0.0 F0.1 B0.0 B0.1\n"
        "stage 1: F1.0 B1.0 F1.1 B1.1\n");
  // ZB-H1 defers stage p's weight passes by p micro-batches.
  CHECK(text(build(ScheduleKind::zeroBubbleH1, 2, 2)) ==
        "schedule zb-h1 stages 2 micro-batches 2 virtual-stages 1\n"
        "stage 0: F0.0 F0.1 B0.0 W0.0 B0.1 W0.1\n"
        "stage 1: F1.0 B1.0 F1.1 B1.1 W1.0 W1.1\n");
}

TEST_CASE("pipeline schedule: simulated bubble matches the formulas", "[pipeline]") {
  for (int stages = 1; stages <= 8; ++stages)
    for (int microBatches = 1; microBatches <= 16; ++microBatches) {
      INFO("S=" << stages << " M=" << microBatches);
      for (ScheduleKind kind : {ScheduleKind::gpipe, ScheduleKind::oneFOneB}) {
        Simulation simulation = simulateEqual(build(kind, stages, microBatches), 1, 2);
        CHECK(simulation.bubble ==
              Approx(idealBubble(kind, stages, microBatches, 1)).margin(1e-12));
        // (M + S - 1) forward+backward times.
        CHECK(simulation.makespan == Approx(3.0 * (microBatches + stages - 1)));
      }
      // ZB-H1 with equal F, B and W times (B and W are the halves of 4):
      // the formula needs M >= S; with fewer micro-batches the chain of S
      // forwards and S backwards is longer than the formula's step.
      Simulation zb = simulateEqual(build(ScheduleKind::zeroBubbleH1, stages, microBatches), 2, 4);
      Simulation oneF = simulateEqual(build(ScheduleKind::oneFOneB, stages, microBatches), 2, 4);
      if (microBatches >= stages)
        CHECK(
            zb.bubble ==
            Approx(idealBubble(ScheduleKind::zeroBubbleH1, stages, microBatches, 1)).margin(1e-12));
      CHECK(zb.makespan <= oneF.makespan);
      if (stages > 1)
        CHECK(zb.makespan < oneF.makespan);
      for (int virtualStages = 2; virtualStages <= 4; ++virtualStages) {
        if (microBatches % stages)
          continue;
        INFO("V=" << virtualStages);
        Simulation simulation = simulateEqual(
            build(ScheduleKind::interleaved, stages, microBatches, virtualStages), 1, 2);
        double formula =
            idealBubble(ScheduleKind::interleaved, stages, microBatches, virtualStages);
        CHECK(simulation.bubble == Approx(formula).margin(1e-9));
        // The shorthand, 1F1B's fraction over V, is optimistic.
        CHECK(simulation.bubble >=
              idealBubble(ScheduleKind::oneFOneB, stages, microBatches, 1) / virtualStages - 1e-12);
      }
    }
  // S = 4, M = 8, V = 2: (p - 1) / (v m) = 3/16 of the compute, 3/19 of the step.
  CHECK(idealBubble(ScheduleKind::interleaved, 4, 8, 2) == Approx(3.0 / 19));
  CHECK(idealBubble(ScheduleKind::oneFOneB, 4, 8, 1) == Approx(3.0 / 11));
}

TEST_CASE("pipeline schedule: simulation times, transfers and unequal stages", "[pipeline]") {
  // One micro-batch through two stages: F0, transfer, F1, B1, transfer, B0.
  PipelineSchedule schedule = build(ScheduleKind::oneFOneB, 2, 1);
  auto simulation = simulate(schedule, {1, 2}, {3, 4}, {0.5});
  REQUIRE(static_cast<bool>(simulation));
  CHECK(simulation->makespan == Approx(1 + 0.5 + 2 + 4 + 0.5 + 3));
  CHECK(simulation->stageBusySeconds == std::vector<double>{4, 6});
  REQUIRE(simulation->timings[0].size() == 2);
  CHECK(simulation->timings[0][1].start == Approx(8));
  CHECK(simulation->bubble == Approx(1 - 10.0 / (2 * 11)));

  // Chunks on one stage pass values without a transfer.
  PipelineSchedule one = build(ScheduleKind::interleaved, 1, 2, 2);
  auto local = simulate(one, {1, 1}, {1, 1}, {100});
  REQUIRE(static_cast<bool>(local));
  CHECK(local->makespan == Approx(8));
  CHECK(local->bubble == Approx(0));

  auto wrong = simulate(schedule, {1}, {3, 4}, {0.5});
  REQUIRE(!wrong);
  CHECK(message(wrong.takeError()) == "forward seconds needs 2 entries (one per chunk), got 1");
  auto negative = simulate(schedule, {1, 2}, {3, 4}, {-1});
  REQUIRE(!negative);
  CHECK(message(negative.takeError()) ==
        "transfer seconds must be finite and not negative, got -1");

  // A slow last stage sets the pace of 1F1B's steady state.
  PipelineSchedule four = build(ScheduleKind::oneFOneB, 2, 4);
  auto slow = simulate(four, {1, 2}, {2, 4}, {0});
  REQUIRE(static_cast<bool>(slow));
  // Stage 1 starts after F0.0 (1) and then computes 4 * (2 + 4) without
  // waiting; stage 0's last backward follows.
  CHECK(slow->makespan == Approx(1 + 24 + 2));
}

TEST_CASE("pipeline schedule: stashes in flight", "[pipeline]") {
  for (int stages = 1; stages <= 8; ++stages)
    for (int microBatches = 1; microBatches <= 16; ++microBatches) {
      INFO("S=" << stages << " M=" << microBatches);
      PipelineSchedule gpipe = build(ScheduleKind::gpipe, stages, microBatches);
      PipelineSchedule oneF = build(ScheduleKind::oneFOneB, stages, microBatches);
      PipelineSchedule zb = build(ScheduleKind::zeroBubbleH1, stages, microBatches);
      for (int p = 0; p < stages; ++p) {
        CHECK(maxInFlight(gpipe, p) == microBatches);
        CHECK(maxInFlight(oneF, p) == std::min(stages - p, microBatches));
        // ZB-H1 keeps 1F1B's peak, the first stage's.
        CHECK(maxInFlight(zb, p) <= std::min(stages, microBatches));
      }
      CHECK(maxInFlight(zb, 0) == std::min(stages, microBatches));
      if (microBatches % stages == 0 && stages > 1) {
        // Megatron-LM's interleaved warm-up plus the first steady forward.
        PipelineSchedule interleaved = build(ScheduleKind::interleaved, stages, microBatches, 2);
        for (int p = 0; p < stages; ++p)
          CHECK(maxInFlight(interleaved, p) ==
                std::min((stages - p - 1) * 2 + stages + 1, 2 * microBatches));
      }
    }
  CHECK(maxInFlight(build(ScheduleKind::oneFOneB, 2, 2), 5) == 0);
}

TEST_CASE("pipeline schedule: activation bytes in flight", "[pipeline]") {
  // Equal chunks: the count times the bytes.
  PipelineSchedule oneF = build(ScheduleKind::oneFOneB, 4, 8);
  for (int p = 0; p < 4; ++p)
    CHECK(maxInFlightBytes(oneF, p, {10, 10, 10, 10}) == 10 * maxInFlight(oneF, p));
  // Interleaved S = 2, M = 2, V = 2 by hand (Megatron-LM's order): stage 0
  // warms up with (2 - 0 - 1) * 2 + (2 - 1) * 2 = 4 forwards
  // F0.0 F0.1 F2.0 F2.1 and then runs B2.0 B2.1 B0.0 B0.1: it holds chunk
  // 0's and chunk 2's stashes of both micro-batches at once.
  PipelineSchedule interleaved = build(ScheduleKind::interleaved, 2, 2, 2);
  CHECK(text(interleaved) == "schedule interleaved stages 2 micro-batches 2 virtual-stages 2\n"
                             "stage 0: F0.0 F0.1 F2.0 F2.1 B2.0 B2.1 B0.0 B0.1\n"
                             "stage 1: F1.0 F1.1 F3.0 B3.0 F3.1 B3.1 B1.0 B1.1\n");
  CHECK(maxInFlightBytes(interleaved, 0, {1, 100, 1000, 10000}) == 2 * 1 + 2 * 1000);
  // Stage 1 (warm-up 2 + 1 = 3): F1.0 F1.1 F3.0, then B3.0 F3.1: at most
  // both chunk 1 stashes and one of chunk 3.
  CHECK(maxInFlightBytes(interleaved, 1, {1, 100, 1000, 10000}) == 2 * 100 + 10000);
  CHECK(maxInFlightBytes(interleaved, 1, {1, 100, 1000}) == 0);
}
