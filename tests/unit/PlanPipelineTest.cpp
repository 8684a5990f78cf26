// The plan of an unrolled pipeline as the tools make it: the tensors are
// read on the grid without pp (the plan is made for one stage), then
// cleave-pipeline-unroll puts pp back into the grid and replaces
// @train_step by one function per rank stage. The report must name the
// axes of the partitioned module and price each stage on its own.
#include "RoundCluster.h"
#include "compiler/Plan/PlanReport.h"
#include "compiler/Registration.h"

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/Parser/Parser.h"

#include <catch2/catch.hpp>

using namespace mlir;
using namespace mlir::cleave;

namespace {
// pp=2 x dp=2: stage 0 holds w0 (256x256, 256 KiB) and the batch, stage 1
// w1 (64x256, 64 KiB); each all-reduces its weight's gradient over dp
// (grid axis 1 once pp is first) and returns the other stage's weight
// unchanged.
const char *kUnrolled = R"mlir(
shard.grid @grid(shape = 2x2) {cleave.axis_names = ["pp", "dp"]}
func.func @train_step_stage0(
    %w0: tensor<256x256xf32> {cleave.param = #cleave.param<"w0", trainable>},
    %w1: tensor<64x256xf32> {cleave.param = #cleave.param<"w1", trainable>},
    %x: tensor<8x256xf32> {cleave.input = "x"})
    -> (tensor<256x256xf32> {cleave.updates = 0 : i64},
        tensor<64x256xf32> {cleave.updates = 1 : i64}) {
  %h = cleave.matmul %x, %w0 {cleave.stage = 0 : i64, cleave.phase = "forward"} : (tensor<8x256xf32>, tensor<256x256xf32>) -> tensor<8x256xf32>
  cleave.send_start %h {axis = "pp", peer = 1 : i64, tag = 0 : i64, slot = 0 : i64} : tensor<8x256xf32>
  cleave.send_wait %h {slot = 0 : i64} : tensor<8x256xf32>
  %g = cleave.matmul %x, %h {transpose_a, cleave.stage = 0 : i64, cleave.phase = "backward"} : (tensor<8x256xf32>, tensor<8x256xf32>) -> tensor<256x256xf32>
  %r = shard.all_reduce %g on @grid grid_axes = [1] : tensor<256x256xf32> -> tensor<256x256xf32>
  %u = cleave.binary sub %w0, %r {cleave.stage = 0 : i64, cleave.phase = "update"} : (tensor<256x256xf32>, tensor<256x256xf32>) -> tensor<256x256xf32>
  return %u, %w1 : tensor<256x256xf32>, tensor<64x256xf32>
}
func.func @train_step_stage1(
    %w0: tensor<256x256xf32> {cleave.param = #cleave.param<"w0", trainable>},
    %w1: tensor<64x256xf32> {cleave.param = #cleave.param<"w1", trainable>},
    %x: tensor<8x256xf32> {cleave.input = "x"})
    -> (tensor<256x256xf32> {cleave.updates = 0 : i64},
        tensor<64x256xf32> {cleave.updates = 1 : i64}) {
  %b = cleave.recv_start {axis = "pp", peer = 0 : i64, tag = 0 : i64, slot = 0 : i64} : tensor<8x256xf32>
  %h = cleave.recv_wait %b {slot = 0 : i64} : tensor<8x256xf32>
  %z = cleave.matmul %h, %w1 {transpose_b, cleave.stage = 1 : i64, cleave.phase = "forward"} : (tensor<8x256xf32>, tensor<64x256xf32>) -> tensor<8x64xf32>
  %g = cleave.matmul %z, %h {transpose_a, cleave.stage = 1 : i64, cleave.phase = "backward"} : (tensor<8x64xf32>, tensor<8x256xf32>) -> tensor<64x256xf32>
  %r = shard.all_reduce %g on @grid grid_axes = [1] : tensor<64x256xf32> -> tensor<64x256xf32>
  %u = cleave.binary sub %w1, %r {cleave.stage = 1 : i64, cleave.phase = "update"} : (tensor<64x256xf32>, tensor<64x256xf32>) -> tensor<64x256xf32>
  return %w0, %u : tensor<256x256xf32>, tensor<64x256xf32>
}
)mlir";
} // namespace

TEST_CASE("plan report: an unrolled pipeline is priced stage by stage on the grid with pp",
          "[plan][pipeline]") {
  MLIRContext context;
  loadAllDialects(context);
  OwningOpRef<ModuleOp> module = parseSourceString<ModuleOp>(kUnrolled, &context);
  REQUIRE(module);
  // What collectPlanTensors read before the unroll: the grid without pp.
  PlanReport report;
  report.cluster = test::makeRoundCluster();
  report.grid = "dp=2";
  report.axisNames = {"dp"};
  report.gridShape = {2};
  report.axisRoles = {"data parallel (splits the batch)"};
  if (llvm::Error error = evaluatePartitioned(*module, PlanOptions{}, report))
    FAIL(llvm::toString(std::move(error)));

  CHECK(report.grid == "pp=2,dp=2");
  CHECK(report.devices() == 4);
  CHECK(report.axisNames == std::vector<std::string>{"pp", "dp"});
  REQUIRE(report.axisRoles.size() == 2);
  CHECK(report.axisRoles[0] == kStageAxisRole.str());
  CHECK(report.axisRoles[1] == "data parallel (splits the batch)");

  // Each stage holds the weight it uses (and stage 0 the batch), not the
  // one it returns unchanged.
  REQUIRE(report.stagePrograms.size() == 2);
  CHECK(report.stagePrograms[0].memory.parameters == 256 * 256 * 4);
  CHECK(report.stagePrograms[0].memory.inputs == 8 * 256 * 4);
  CHECK(report.stagePrograms[1].memory.parameters == 64 * 256 * 4);
  CHECK(report.stagePrograms[1].memory.inputs == 0);
  // The plan's memory is the largest stage's; its collectives the busiest
  // stage's (stage 0: its 256 KiB gradient), over dp, not over pp.
  CHECK(report.memory.total() == report.stagePrograms[0].memory.total());
  CHECK(report.stagePrograms[0].communicationSeconds >
        report.stagePrograms[1].communicationSeconds);
  REQUIRE(report.collectives.size() == 1);
  CHECK(report.collectives[0].axes == "dp");
  CHECK(report.collectives[0].bytes == 256 * 256 * 4);
  CHECK(report.communicationSeconds == report.stagePrograms[0].communicationSeconds);

  // Without cleave.pipeline it is still a pipeline: two stages, the
  // split's figures unknown and named.
  REQUIRE(report.pipeline);
  REQUIRE(report.pipeline->stageList.size() == 2);
  CHECK(report.pipeline->chunks[1].stage == 1);
  CHECK(!report.pipeline->stageList[0].memoryBytes);
  CHECK(!report.pipeline->stages);
  CHECK(std::count(report.pipeline->missingKeys.begin(), report.pipeline->missingKeys.end(),
                   "predicted_step_seconds") == 1);
  // The step is then compute + communication of the busiest stage.
  CHECK(report.stepSeconds() == Approx(report.stagePrograms[0].computeSeconds +
                                       report.stagePrograms[0].communicationSeconds));
  CHECK(report.fits());
}

TEST_CASE("plan report: a stage over capacity fails the plan, naming the stage",
          "[plan][pipeline]") {
  PlanReport report;
  report.cluster = test::makeRoundCluster();
  report.pipeline.emplace();
  report.pipeline->stages = 2;
  report.pipeline->schedule = "gpipe";
  for (int64_t p = 0; p < 2; ++p) {
    PlanStage stage;
    stage.stage = p;
    stage.chunks = {p};
    stage.weightBytes = stage.gradientBytes = 100'000;
    stage.optimizerBytes = 200'000;
    stage.activationBytes = p == 0 ? 900'000 : 10'000;
    stage.inFlight = 4;
    stage.memoryBytes =
        *stage.weightBytes + *stage.gradientBytes + *stage.optimizerBytes + *stage.activationBytes;
    report.pipeline->stageList.push_back(stage);
  }
  // The whole step's memory (here nothing) does not decide it: stage 0 does.
  CHECK(!report.fits());
  CHECK(report.pipeline->firstStageOver(report.cluster.memoryCapacity) == 0);
  std::string message = llvm::toString(checkPlanFits(report));
  CHECK_THAT(message, Catch::Contains("the pipeline's stage 0 of 2 (chunk 0) needs 1.24 MiB"));
  CHECK_THAT(message, Catch::Contains("activations in flight 878.9 KiB (4 micro-batches)"));
  CHECK_THAT(message, Catch::Contains("the largest part is activations in flight"));
  // GPipe holds every micro-batch: 1F1B is the first remedy.
  CHECK_THAT(message, Catch::Contains("what would help: --schedule 1f1b"));
  CHECK_THAT(message, !Catch::Contains("--zero 3"));

  report.pipeline->stageList[0].activationBytes = 10'000;
  report.pipeline->stageList[0].memoryBytes = 410'000;
  CHECK(report.fits());
  CHECK(llvm::toString(checkPlanFits(report)).empty());
}
