// The plan's pipeline timeline (buildPlanTimeline: the split's simulation
// replayed bar for bar), the memory parts of the HTML page's stacked bars,
// and the page's escaping, with figures worked out by hand.
#include "RoundCluster.h"
#include "compiler/Plan/PlanHtml.h"
#include "compiler/Plan/PlanReport.h"

#include <catch2/catch.hpp>

using namespace mlir;
using namespace mlir::cleave;

namespace {
/// 2 stages, 2 micro-batches, 1F1B: chunk 0 forward 1 us, backward 2 us;
/// chunk 1 forward 2 us, backward 4 us; each stage updates for 1 us.
PlanReport twoStages() {
  PlanReport report;
  report.cluster = test::makeRoundCluster();
  report.axisNames = {"pp"};
  report.gridShape = {2};
  PlanPipeline pipeline;
  pipeline.stages = 2;
  pipeline.virtualStages = 1;
  pipeline.microBatches = 2;
  pipeline.schedule = "1f1b";
  pipeline.cutBytes = {1000};
  for (int64_t c = 0; c < 2; ++c) {
    PlanChunk chunk;
    chunk.chunk = chunk.stage = c;
    chunk.forwardSeconds = (c + 1) * 1e-6;
    chunk.backwardSeconds = (c + 1) * 2e-6;
    pipeline.chunks.push_back(chunk);
    PlanStage stage;
    stage.stage = c;
    stage.chunks = {c};
    // Busy (2 micro-batches x (forward + backward)) plus a 1 us update.
    stage.seconds = 2 * (c + 1) * 3e-6 + 1e-6;
    pipeline.stageList.push_back(stage);
  }
  report.pipeline = pipeline;
  return report;
}

const PlanTimelineEntry &find(const PlanPipeline &pipeline, llvm::StringRef kind, int64_t stage,
                              int64_t chunk, int64_t microBatch) {
  for (const PlanTimelineEntry &entry : pipeline.timeline)
    if (entry.kind == kind && entry.stage == stage && entry.chunk == chunk &&
        entry.microBatch == microBatch)
      return entry;
  FAIL("no " << kind.str() << " of chunk " << chunk << " micro-batch " << microBatch << " on stage "
             << stage);
  return pipeline.timeline.front();
}
} // namespace

TEST_CASE("plan timeline: the split's simulation, bar for bar", "[plan]") {
  PlanReport report = twoStages();
  report.pipeline->cutSeconds = {0.5e-6};
  report.pipeline->predictedStepSeconds = 17e-6;
  buildPlanTimeline(report);
  const PlanPipeline &pipeline = *report.pipeline;
  REQUIRE(pipeline.timelineNote.empty());
  // 8 passes, 4 transfers each listed twice, 2 updates.
  REQUIRE(pipeline.timeline.size() == 8 + 8 + 2);
  auto at = [&](llvm::StringRef kind, int64_t stage, int64_t chunk, int64_t m) {
    const PlanTimelineEntry &entry = find(pipeline, kind, stage, chunk, m);
    return std::pair{entry.start * 1e6, entry.end * 1e6};
  };
  // Stage 0: F0.0 F0.1 B0.0 B0.1; stage 1: F1.0 B1.0 F1.1 B1.1. Each
  // forward of chunk 1 waits for chunk 0's plus the 0.5 us cut, each
  // backward of chunk 0 for chunk 1's plus the cut.
  CHECK(at("forward", 0, 0, 0).second == Approx(1));
  CHECK(at("forward", 0, 0, 1).second == Approx(2));
  CHECK(at("forward", 1, 1, 0).first == Approx(1.5));
  CHECK(at("backward", 1, 1, 0).second == Approx(7.5));
  CHECK(at("forward", 1, 1, 1).first == Approx(7.5));
  CHECK(at("backward", 1, 1, 1).second == Approx(13.5));
  CHECK(at("backward", 0, 0, 0).first == Approx(8));
  CHECK(at("backward", 0, 0, 1).first == Approx(14));
  CHECK(at("backward", 0, 0, 1).second == Approx(16));
  // Transfers: on the sender and the receiver, from the pass that makes
  // the value, for the cut's latency.
  CHECK(at("send", 0, 0, 1).first == Approx(2));
  CHECK(at("recv", 1, 0, 1).second == Approx(2.5));
  CHECK(at("send", 1, 1, 0).first == Approx(7.5));
  CHECK(at("recv", 0, 1, 0).second == Approx(8));
  // The updates follow the drain; the replay ends at the predicted step.
  CHECK(at("update", 0, -1, -1).first == Approx(16));
  CHECK(at("update", 1, -1, -1).second == Approx(17));
  CHECK(pipeline.timelineSeconds * 1e6 == Approx(16));
  CHECK(pipeline.stageBusy[0] * 1e6 == Approx(6));
  CHECK(pipeline.stageBusy[1] * 1e6 == Approx(12));
  CHECK(pipeline.stageOrder[0] == std::vector<std::string>{"F0.0", "F0.1", "B0.0", "B0.1"});
  CHECK(pipeline.stageOrder[1] == std::vector<std::string>{"F1.0", "B1.0", "F1.1", "B1.1"});
  CHECK_FALSE(timelineMismatch(pipeline));

  // Figures that are not this schedule's are said to be so.
  report.pipeline->predictedStepSeconds = 18e-6;
  std::optional<std::string> mismatch = timelineMismatch(*report.pipeline);
  REQUIRE(mismatch);
  CHECK_THAT(*mismatch, Catch::Contains("17.0 us") && Catch::Contains("18.0 us"));
}

TEST_CASE("plan timeline: without p2p_seconds each cut is priced on its link", "[plan]") {
  PlanReport report = twoStages();
  buildPlanTimeline(report);
  // 1000 bytes at 1 GB/s after 1 us.
  const PlanTimelineEntry &send = find(*report.pipeline, "send", 0, 0, 0);
  CHECK((send.end - send.start) * 1e6 == Approx(2));
}

TEST_CASE("plan timeline: unknown chunk times leave it empty, saying why", "[plan]") {
  PlanReport report = twoStages();
  report.pipeline->chunks[1].backwardSeconds.reset();
  buildPlanTimeline(report);
  CHECK(report.pipeline->timeline.empty());
  CHECK(report.pipeline->timelineNote == "chunk 1's times are unknown");

  report = twoStages();
  report.pipeline->schedule = "bogus";
  buildPlanTimeline(report);
  CHECK(report.pipeline->timeline.empty());
  CHECK_THAT(report.pipeline->timelineNote, Catch::Contains("bogus"));
}

TEST_CASE("plan memory parts are disjoint and sum to the total", "[plan]") {
  PlanMemory memory;
  memory.parameters = 10;
  memory.optimizerState = 20;
  memory.inputs = 3;
  memory.workspace = 100;
  memory.gradients = 30;
  memory.activations = 50;
  PlanMemoryParts parts = memoryParts(memory);
  CHECK(parts.gradients == 30);
  CHECK(parts.activations == 50);
  CHECK(parts.workspace == 20);
  CHECK(parts.total() == memory.total());
  // Estimates larger than the peak are cut to it, gradients first.
  memory.gradients = 80;
  parts = memoryParts(memory);
  CHECK(parts.gradients == 80);
  CHECK(parts.activations == 20);
  CHECK(parts.workspace == 0);
  CHECK(parts.total() == memory.total());
}

TEST_CASE("plan html escapes every text", "[plan]") {
  CHECK(html::escape("<img src=x onerror='a'>&\"") ==
        "&lt;img src=x onerror=&#39;a&#39;&gt;&amp;&quot;");
  CHECK(html::escape("/h.0/attn/MatMul") == "/h.0/attn/MatMul");
}
