// The kernels' launch floor (compiler/Plan/PlanKernels.h): which ops of a
// step become kernels, and what a floor adds to each, by hand; then a
// plan report on a GPU-like profile, where a step of tiny ops is priced at
// its kernel count.
#include "compiler/Plan/PlanKernels.h"
#include "compiler/Plan/PlanReport.h"

#include "RoundCluster.h"
#include "compiler/Registration.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/Parser/Parser.h"

#include <catch2/catch.hpp>

using namespace mlir;
using namespace mlir::cleave;

namespace {
// A product, three elementwise ops of one shape (one fused loop), a
// reshape (a view), an elementwise op of another shape (a loop of its
// own) and the return: 3 kernels.
const char *kStep = R"mlir(
func.func @train_step(%w: tensor<8x8xf32> {cleave.param = #cleave.param<"w", trainable>},
                      %x: tensor<4x8xf32> {cleave.input = "x"}) -> tensor<32xf32> {
  %h = cleave.matmul %x, %w : (tensor<4x8xf32>, tensor<8x8xf32>) -> tensor<4x8xf32>
  %a = cleave.binary add %h, %x : (tensor<4x8xf32>, tensor<4x8xf32>) -> tensor<4x8xf32>
  %b = cleave.binary mul %a, %a : (tensor<4x8xf32>, tensor<4x8xf32>) -> tensor<4x8xf32>
  %c = cleave.unary sqrt %b : tensor<4x8xf32>
  %r = cleave.reshape %c : tensor<4x8xf32> to tensor<32xf32>
  %d = cleave.unary sqrt %r : tensor<32xf32>
  return %d : tensor<32xf32>
}
)mlir";
} // namespace

TEST_CASE("launch floor: kernels as codegen emits them, each at least the floor", "[plan]") {
  MLIRContext context;
  loadAllDialects(context);
  OwningOpRef<ModuleOp> module = parseSourceString<ModuleOp>(kStep, &context);
  REQUIRE(module);
  auto function = module->lookupSymbol<func::FuncOp>("train_step");
  Block &body = function.getBody().front();
  // Made-up seconds per top-level op (matmul, add, mul, sqrt, reshape,
  // sqrt, return).
  std::vector<double> seconds = {5e-6, 1e-6, 1e-6, 1e-6, 0, 0.5e-6, 0};
  KernelFloor floor = applyLaunchFloor(body, seconds, 4e-6);
  CHECK(floor.kernels == 3);
  // The product (5 us) is above the floor; the fused loop (3 us) is raised
  // by 1 us on its last op; the lone sqrt (0.5 us) by 3.5 us.
  CHECK(floor.launchSeconds == Approx(4.5e-6));
  REQUIRE(floor.steps.size() == seconds.size());
  CHECK(floor.steps[0] == Approx(5e-6));
  CHECK(floor.steps[1] == Approx(1e-6));
  CHECK(floor.steps[3] == Approx(2e-6));
  CHECK(floor.steps[4] == 0);
  CHECK(floor.steps[5] == Approx(4e-6));
  // No floor (CPU ranks): the same kernels, nothing added.
  KernelFloor none = applyLaunchFloor(body, seconds, 0);
  CHECK(none.kernels == 3);
  CHECK(none.launchSeconds == 0);
  CHECK(none.steps == seconds);
}

TEST_CASE("launch floor: a step of tiny kernels is priced at its kernel count", "[plan]") {
  MLIRContext context;
  loadAllDialects(context);
  OwningOpRef<ModuleOp> module = parseSourceString<ModuleOp>(kStep, &context);
  REQUIRE(module);
  PlanReport report;
  report.cluster = test::makeRoundCluster();
  report.cluster.nodes = report.cluster.devicesPerNode = 1;
  PlanOptions options;
  if (llvm::Error error = evaluatePartitioned(*module, options, report))
    FAIL(llvm::toString(std::move(error)));
  double roofline = report.computeSeconds;
  CHECK(report.kernels == 3);
  CHECK(report.launchSeconds == 0);
  // Every kernel here takes well under a microsecond on the round
  // cluster: with a 4 us floor the step is 3 kernels x 4 us.
  report.cluster.kernelLaunch = 4e-6;
  if (llvm::Error error = evaluatePartitioned(*module, options, report))
    FAIL(llvm::toString(std::move(error)));
  CHECK(report.computeSeconds == Approx(12e-6));
  CHECK(report.launchSeconds == Approx(12e-6 - roofline));
  CHECK(report.stepSeconds() == Approx(12e-6));
}
