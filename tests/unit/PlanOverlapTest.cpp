// The overlap model: CommOverlap.h's simulation on schedules worked out by
// hand, the planner's two closed uses of it, and the plan report's
// schedule of a data-parallel step (PlanOverlap.cpp) with and without
// overlap.
#include "compiler/Plan/PlanReport.h"
#include "passes/Analysis/Cost/CommOverlap.h"

#include "RoundCluster.h"
#include "compiler/Registration.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/Parser/Parser.h"

#include <catch2/catch.hpp>

using namespace mlir;
using namespace mlir::cleave;

TEST_CASE("overlap: a hand-computed schedule", "[cost][overlap]") {
  // Four compute steps of 1 s. A (2 s) is posted before step 1 and needed
  // at the end, B (1 s) before step 2 and needed at the end, C (0.5 s)
  // blocks before step 3.
  //   t=1  A posted, runs 1..3
  //   t=2  B posted, queued behind A: runs 3..4
  //   t=3  C posted, queued behind B: runs 4..4.5; the compute waits for
  //        it: 1.5 s stall, step 3 runs 4.5..5.5
  //   end  A and B long done: the step takes 5.5 s, 1.5 s exposed, all of
  //        it C's (its wait stalled).
  std::vector<double> steps = {1, 1, 1, 1};
  std::vector<ScheduledCollective> collectives = {{2, 1, 4}, {1, 2, 4}, {0.5, 3, 3}};
  OverlapResult overlapped = simulateOverlap(steps, collectives);
  CHECK(overlapped.computeSeconds == 4);
  CHECK(overlapped.stepSeconds == Approx(5.5));
  CHECK(overlapped.exposedSeconds == Approx(1.5));
  REQUIRE(overlapped.exposedEach.size() == 3);
  CHECK(overlapped.exposedEach[0] == 0);
  CHECK(overlapped.exposedEach[1] == 0);
  CHECK(overlapped.exposedEach[2] == Approx(1.5));

  // The blocking schedule (post = wait): every second is exposed, 3.5 s.
  for (ScheduledCollective &collective : collectives)
    collective.wait = collective.post;
  OverlapResult blocking = simulateOverlap(steps, collectives);
  CHECK(blocking.exposedSeconds == Approx(3.5));
  CHECK(blocking.stepSeconds == Approx(7.5));
  CHECK(blocking.exposedEach[0] == Approx(2));

  // Posted after the last step and needed at the end: nothing to hide
  // behind. Indices out of range are clamped.
  OverlapResult last = simulateOverlap({1, 1}, {{3, 2, 2}, {1, 7, -1}});
  CHECK(last.exposedSeconds == Approx(4));
}

TEST_CASE("overlap: buckets behind the backward, gathers one layer ahead", "[cost][overlap]") {
  // 2 s of gradients in 4 buckets of 0.5 s behind a 4 s backward: each
  // bucket finishes before the next is ready, the last (posted at the
  // end) stays exposed: 0.5 s.
  CHECK(exposedBehindBackward(2, 4, 4) == Approx(0.5));
  // 8 s in buckets of 2 s: the channel is the bottleneck, posted at 1, 2,
  // 3, 4 s it runs 1..9 s: 5 s beyond the backward.
  CHECK(exposedBehindBackward(8, 4, 4) == Approx(5));
  // One bucket: all of it.
  CHECK(exposedBehindBackward(3, 4, 1) == Approx(3));
  CHECK(exposedBehindBackward(0, 4, 4) == 0);
  // ZeRO-3: 4 layers of 1 s, gathers of 0.5 s, each posted when the layer
  // before begins: only the first layer's gather is exposed.
  CHECK(exposedPrefetched(2, 4, 4) == Approx(0.5));
  // Gathers slower than the layers (2 s each): the channel runs 0..8 s,
  // layer i waits for gather i: 2 + (2 - 1) * 3 = 5 s exposed.
  CHECK(exposedPrefetched(8, 4, 4) == Approx(5));
}

namespace {
// A data-parallel step (4 devices, batch split): the second layer's
// weight gradient (64x64, 16 KiB) is all-reduced while the backward still
// computes the first layer's input gradient (a 65536x64 product, ~67 us at
// 0.5 TB/s, far longer than the all-reduce's 30.6 us on the round
// cluster); the first layer's gradient, reduced last, is what the
// optimizer waits for.
const char *kStep = R"mlir(
shard.grid @grid(shape = 4) {cleave.axis_names = ["dp"]}
func.func @train_step(
    %w1: tensor<64x64xf32> {cleave.param = #cleave.param<"w1", trainable>,
                            cleave.sharding = #shard<axisarray[[], []]>},
    %w2: tensor<64x64xf32> {cleave.param = #cleave.param<"w2", trainable>,
                            cleave.sharding = #shard<axisarray[[], []]>},
    %x: tensor<65536x64xf32> {cleave.input = "x", cleave.sharding = #shard<axisarray[[0], []]>})
    -> (tensor<64x64xf32> {cleave.updates = 0 : i64}, tensor<64x64xf32> {cleave.updates = 1 : i64}) {
  %h = cleave.matmul %x, %w1 : (tensor<65536x64xf32>, tensor<64x64xf32>) -> tensor<65536x64xf32>
  %y = cleave.matmul %h, %w2 : (tensor<65536x64xf32>, tensor<64x64xf32>) -> tensor<65536x64xf32>
  %g2 = cleave.matmul %h, %y {transpose_a} : (tensor<65536x64xf32>, tensor<65536x64xf32>) -> tensor<64x64xf32>
  %r2 = shard.all_reduce %g2 on @grid grid_axes = [0] : tensor<64x64xf32> -> tensor<64x64xf32>
  %dh = cleave.matmul %y, %w2 {transpose_b} : (tensor<65536x64xf32>, tensor<64x64xf32>) -> tensor<65536x64xf32>
  %g1 = cleave.matmul %x, %dh {transpose_a} : (tensor<65536x64xf32>, tensor<65536x64xf32>) -> tensor<64x64xf32>
  %r1 = shard.all_reduce %g1 on @grid grid_axes = [0] : tensor<64x64xf32> -> tensor<64x64xf32>
  %u1 = cleave.binary sub %w1, %r1 : (tensor<64x64xf32>, tensor<64x64xf32>) -> tensor<64x64xf32>
  %u2 = cleave.binary sub %w2, %r2 : (tensor<64x64xf32>, tensor<64x64xf32>) -> tensor<64x64xf32>
  return %u1, %u2 : tensor<64x64xf32>, tensor<64x64xf32>
}
)mlir";

// ZeRO-3 style: each layer's weight is stored split and gathered before
// its product; the second gather can start while the first layer runs.
const char *kGathers = R"mlir(
shard.grid @grid(shape = 4) {cleave.axis_names = ["dp"]}
func.func @train_step(
    %w1: tensor<16x64xf32> {cleave.param = #cleave.param<"w1", trainable>,
                            cleave.sharding = #shard<axisarray[[0], []]>},
    %w2: tensor<16x64xf32> {cleave.param = #cleave.param<"w2", trainable>,
                            cleave.sharding = #shard<axisarray[[0], []]>},
    %x: tensor<65536x64xf32> {cleave.input = "x", cleave.sharding = #shard<axisarray[[0], []]>})
    -> (tensor<65536x64xf32>) {
  %f1 = shard.all_gather %w1 on @grid grid_axes = [0] gather_axis = 0 : tensor<16x64xf32> -> tensor<64x64xf32>
  %h = cleave.matmul %x, %f1 : (tensor<65536x64xf32>, tensor<64x64xf32>) -> tensor<65536x64xf32>
  %f2 = shard.all_gather %w2 on @grid grid_axes = [0] gather_axis = 0 : tensor<16x64xf32> -> tensor<64x64xf32>
  %y = cleave.matmul %h, %f2 : (tensor<65536x64xf32>, tensor<64x64xf32>) -> tensor<65536x64xf32>
  return %y : tensor<65536x64xf32>
}
)mlir";

// A bucket as cleave-bucket-collectives leaves it: the all-reduce, then
// the slice and reshape that unpack it, then the rest of the backward (a
// 67 us product) before the optimizer reads the gradient. The unpacking
// moves down with the wait, so the product hides the all-reduce.
const char *kBucket = R"mlir(
shard.grid @grid(shape = 4) {cleave.axis_names = ["dp"]}
func.func @train_step(
    %w: tensor<64x64xf32> {cleave.param = #cleave.param<"w", trainable>,
                           cleave.sharding = #shard<axisarray[[], []]>},
    %x: tensor<65536x64xf32> {cleave.input = "x", cleave.sharding = #shard<axisarray[[0], []]>})
    -> (tensor<64x64xf32> {cleave.updates = 0 : i64}, tensor<65536x64xf32>) {
  %g = cleave.matmul %x, %x {transpose_a} : (tensor<65536x64xf32>, tensor<65536x64xf32>) -> tensor<64x64xf32>
  %flat = cleave.reshape %g : tensor<64x64xf32> to tensor<4096xf32>
  %r = shard.all_reduce %flat on @grid grid_axes = [0] : tensor<4096xf32> -> tensor<4096xf32>
  %s = cleave.slice %r {starts = array<i64: 0>, strides = array<i64: 1>} : tensor<4096xf32> -> tensor<4096xf32>
  %back = cleave.reshape %s : tensor<4096xf32> to tensor<64x64xf32>
  %dx = cleave.matmul %x, %w : (tensor<65536x64xf32>, tensor<64x64xf32>) -> tensor<65536x64xf32>
  %u = cleave.binary sub %w, %back : (tensor<64x64xf32>, tensor<64x64xf32>) -> tensor<64x64xf32>
  return %u, %dx : tensor<64x64xf32>, tensor<65536x64xf32>
}
)mlir";

PlanReport evaluate(const char *source, bool overlap) {
  MLIRContext context;
  loadAllDialects(context);
  OwningOpRef<ModuleOp> module = parseSourceString<ModuleOp>(source, &context);
  REQUIRE(module);
  PlanReport report;
  report.cluster = test::makeRoundCluster();
  PlanOptions options;
  options.overlap = overlap;
  if (llvm::Error tensors = collectPlanTensors(*module, options, report, false))
    FAIL(llvm::toString(std::move(tensors)));
  if (llvm::Error error = evaluatePartitioned(*module, options, report))
    FAIL(llvm::toString(std::move(error)));
  return report;
}
} // namespace

TEST_CASE("plan report: gradient all-reduces hide behind the rest of the backward",
          "[plan][overlap]") {
  PlanReport report = evaluate(kStep, /*overlap=*/true);
  CHECK(report.overlapModelled);
  REQUIRE(report.collectives.size() == 1);
  const PlanCollective &reduce = report.collectives[0];
  CHECK(reduce.count == 2);
  CHECK(reduce.schedule == "overlapped");
  // 16 KiB over 4 at 1 GB/s and 1 us (MPI's ring): 2 * 3/4 * 16384 / 1e9 +
  // 6 us = 30.576 us each.
  CHECK(reduce.seconds == Approx(30.576e-6));
  CHECK(report.communicationSeconds == Approx(2 * 30.576e-6));
  // The first hides behind dh's product ((2 * 65536 * 64 + 64 * 64) * 4 B
  // at 0.5 TB/s = 67 us); the second is posted after the last product and
  // waited for at once: exposed = one all-reduce.
  CHECK(report.exposedSeconds == Approx(30.576e-6));
  CHECK(reduce.exposedSeconds == Approx(30.576e-6));
  CHECK(report.stepSeconds() == Approx(report.computeSeconds + 30.576e-6));

  // --no-overlap: the blocking schedule exposes both.
  PlanReport blocking = evaluate(kStep, /*overlap=*/false);
  CHECK_FALSE(blocking.overlapModelled);
  CHECK(blocking.collectives[0].schedule == "blocking");
  CHECK(blocking.exposedSeconds == Approx(2 * 30.576e-6));
  CHECK(blocking.computeSeconds == Approx(report.computeSeconds));
}

TEST_CASE("plan report: parameter gathers are prefetched one layer ahead", "[plan][overlap]") {
  PlanReport report = evaluate(kGathers, /*overlap=*/true);
  REQUIRE(report.collectives.size() == 1);
  const PlanCollective &gather = report.collectives[0];
  CHECK(gather.count == 2);
  CHECK(gather.schedule == "prefetched");
  // 16 KiB gathered over 4: 3/4 * 16384 / 1e9 + 3 us = 15.288 us each.
  // The first layer waits for the first (posted where it is, nothing
  // before it); the second is posted as the first product begins and
  // finishes during it (67 us).
  CHECK(gather.seconds == Approx(15.288e-6));
  CHECK(report.exposedSeconds == Approx(15.288e-6));
  CHECK(evaluate(kGathers, /*overlap=*/false).exposedSeconds == Approx(2 * 15.288e-6));
}

TEST_CASE("plan report: a bucket's unpacking waits with it", "[plan][overlap]") {
  PlanReport report = evaluate(kBucket, /*overlap=*/true);
  REQUIRE(report.collectives.size() == 1);
  CHECK(report.collectives[0].schedule == "overlapped");
  // 16 KiB over 4: 30.576 us, all behind the 67 us product.
  CHECK(report.communicationSeconds == Approx(30.576e-6));
  CHECK(report.exposedSeconds == Approx(0).margin(1e-12));
  CHECK(evaluate(kBucket, /*overlap=*/false).exposedSeconds == Approx(30.576e-6));
}
