// CostOpInterface queried from C++, the way the cost model will ask (the
// lit test for -cleave-annotate-costs pins the same formulas in IR).
#include "compiler/Registration.h"
#include "dialects/Cleave/IR/CleaveOps.h"

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/Parser/Parser.h"

#include <catch2/catch.hpp>

using namespace mlir;
using namespace mlir::cleave;

static const char *kProgram = R"mlir(
func.func @f(%a: tensor<4x8x32xf32>, %b: tensor<32x16xf32>, %x: tensor<2x3x8x8xf32>,
             %w: tensor<6x3x3x3xf32>) -> (tensor<4x8x16xf32>, tensor<2x6x6x6xf32>, tensor<4x16x8xf32>) {
  %mm = cleave.matmul %a, %b : (tensor<4x8x32xf32>, tensor<32x16xf32>) -> tensor<4x8x16xf32>
  %conv = cleave.conv2d %x, %w {strides = array<i64: 1, 1>, padding = array<i64: 0, 0, 0, 0>,
                                dilations = array<i64: 1, 1>, groups = 1 : i64}
      : (tensor<2x3x8x8xf32>, tensor<6x3x3x3xf32>) -> tensor<2x6x6x6xf32>
  %t = cleave.transpose %mm [0, 2, 1] : tensor<4x8x16xf32> -> tensor<4x16x8xf32>
  return %mm, %conv, %t : tensor<4x8x16xf32>, tensor<2x6x6x6xf32>, tensor<4x16x8xf32>
}
)mlir";

TEST_CASE("ops report FLOPs and bytes through CostOpInterface", "[cost]") {
  MLIRContext context;
  loadAllDialects(context);
  OwningOpRef<ModuleOp> module = parseSourceString<ModuleOp>(kProgram, &context);
  REQUIRE(module);
  std::vector<std::pair<int64_t, int64_t>> costs;
  module->walk(
      [&](CostOpInterface op) { costs.emplace_back(op.getFlops(), op.getBytesAccessed()); });
  REQUIRE(costs.size() == 3);
  // matmul: 2 * (4*8*16 outputs) * 32; bytes (4*8*32 + 32*16 + 4*8*16) * 4.
  CHECK(costs[0].first == 2 * 4 * 8 * 16 * 32);
  CHECK(costs[0].second == (4 * 8 * 32 + 32 * 16 + 4 * 8 * 16) * 4);
  // conv: 2 * (2*6*6*6 outputs) * (3*3*3 per output).
  CHECK(costs[1].first == 2 * (2 * 6 * 6 * 6) * (3 * 3 * 3));
  // transpose moves data: no FLOPs, reads and writes the tensor once each.
  CHECK(costs[2].first == 0);
  CHECK(costs[2].second == 2 * 4 * 16 * 8 * 4);
}

TEST_CASE("a model parameter is named by #cleave.param, never by its values", "[dialect]") {
  MLIRContext context;
  loadAllDialects(context);
  const char *bad = R"mlir(
    func.func @f(%w: tensor<?x4xf32> {cleave.param = #cleave.param<"w", trainable>}) {
      return
    })mlir";
  std::string diagnostics;
  ScopedDiagnosticHandler handler(&context, [&](Diagnostic &diagnostic) {
    diagnostics += diagnostic.str();
    return success();
  });
  OwningOpRef<ModuleOp> module = parseSourceString<ModuleOp>(bad, &context);
  CHECK_FALSE(module);
  CHECK(diagnostics.find("must be a statically shaped tensor") != std::string::npos);
}
