// The per-element byte counts of --precision (Precision.h) and how the
// compute model prices ops under bf16, on a cluster with round numbers.
#include "passes/Analysis/Cost/Precision.h"
#include "RoundCluster.h"
#include "compiler/Registration.h"
#include "dialects/Cleave/Interfaces/CostInterface.h"

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/Parser/Parser.h"

#include <catch2/catch.hpp>

using namespace mlir;
using namespace mlir::cleave;

TEST_CASE("precision names", "[precision]") {
  CHECK(parsePrecision("fp32") == Precision::fp32);
  CHECK(parsePrecision("bf16") == Precision::bf16);
  CHECK_FALSE(parsePrecision("fp16").has_value());
  CHECK(getPrecisionName(Precision::bf16) == "bf16");
  CHECK(getPrecisionName(Precision::fp32) == "fp32");
}

TEST_CASE("bytes per element of a mixed-precision run", "[precision]") {
  MLIRContext context;
  Builder b(&context);
  auto f32 = RankedTensorType::get({10, 10}, b.getF32Type());
  auto i64 = RankedTensorType::get({10}, b.getI64Type());
  auto bf16 = RankedTensorType::get({10, 10}, b.getBF16Type());
  // fp32: everything as the IR has it.
  CHECK(getActivationBytes(f32, Precision::fp32) == 400);
  CHECK(getParameterBytes(f32, Precision::fp32) == 400);
  CHECK(getOptimizerStateBytes(f32, Precision::fp32) == 400);
  // bf16: activations and gradients 2 per element, a parameter's working
  // copy 2 plus its fp32 master 4, optimizer state fp32.
  CHECK(getActivationBytes(f32, Precision::bf16) == 200);
  CHECK(getParameterBytes(f32, Precision::bf16) == 600);
  CHECK(getOptimizerStateBytes(f32, Precision::bf16) == 400);
  // AdamW (two moments) per trainable parameter: 4 + 4 + 8 = 2 + 4 + 2 + 8.
  int64_t fp32Total = getParameterBytes(f32, Precision::fp32) +
                      getActivationBytes(f32, Precision::fp32) +
                      2 * getOptimizerStateBytes(f32, Precision::fp32);
  int64_t bf16Total = getParameterBytes(f32, Precision::bf16) +
                      getActivationBytes(f32, Precision::bf16) +
                      2 * getOptimizerStateBytes(f32, Precision::bf16);
  CHECK(fp32Total == 1600);
  CHECK(bf16Total == 1600);
  // Integers (labels, token ids) and tensors already bf16 keep their size;
  // a bf16 parameter has no separate working copy.
  CHECK(getActivationBytes(i64, Precision::bf16) == 80);
  CHECK(getTrainingType(i64, Precision::bf16) == i64);
  CHECK(getTrainingType(f32, Precision::bf16) == bf16);
  CHECK(getTrainingType(f32, Precision::fp32) == f32);
  CHECK(getParameterBytes(bf16, Precision::bf16) == 200);
  // The loss and other scalars stay fp32.
  auto scalar = RankedTensorType::get({}, b.getF32Type());
  CHECK(getTrainingType(scalar, Precision::bf16) == scalar);
  CHECK(getActivationBytes(scalar, Precision::bf16) == 4);
}

namespace {
// The elementwise ops share one fused loop (ComputeCost.cpp): each reads
// operands no other op of the loop reads and its result is returned, so
// each moves all its tensors.
const char *kStep = R"mlir(
func.func @f(%a: tensor<1024x1024xf32>, %b: tensor<1024x1024xf32>,
             %m: tensor<1024x1024xf32> {cleave.opt_state = "w.exp_avg"},
             %ids: tensor<1024x1024xi32>)
    -> (tensor<1024x1024xf32>, tensor<1024x1024xf32>, tensor<1024x1024xf32>) {
  %mm = cleave.matmul %a, %b : (tensor<1024x1024xf32>, tensor<1024x1024xf32>) -> tensor<1024x1024xf32>
  %add = cleave.binary add %mm, %a : (tensor<1024x1024xf32>, tensor<1024x1024xf32>) -> tensor<1024x1024xf32>
  %upd = cleave.binary add %m, %b : (tensor<1024x1024xf32>, tensor<1024x1024xf32>) -> tensor<1024x1024xf32>
  %c = cleave.cast %ids : tensor<1024x1024xi32> to tensor<1024x1024xf32>
  return %add, %upd, %c : tensor<1024x1024xf32>, tensor<1024x1024xf32>, tensor<1024x1024xf32>
}
)mlir";
} // namespace

TEST_CASE("compute under bf16: products at the bf16 peak, 2-byte activations", "[precision]") {
  MLIRContext context;
  loadAllDialects(context);
  OwningOpRef<ModuleOp> module = parseSourceString<ModuleOp>(kStep, &context);
  REQUIRE(module);
  std::vector<Operation *> ops;
  module->walk([&](Operation *op) {
    if (op->getName().getDialectNamespace() == "cleave")
      ops.push_back(op);
  });
  REQUIRE(ops.size() == 4);
  Operation *matmul = ops[0], *add = ops[1], *update = ops[2], *cast = ops[3];
  // f32 100 TFLOP/s, bf16 200, at 50%; 1 TB/s at 50%.
  Cluster cluster = test::makeRoundCluster();
  ComputeOptions bf16 = getComputeOptions(Precision::bf16);
  // 2 x 1024^3 FLOPs: 42.9 us at 50 TFLOP/s, 21.5 us at 100 (bf16).
  double flops = 2.0 * 1024 * 1024 * 1024;
  CHECK(computeTime(matmul, cluster) == Approx(flops / 50e12));
  CHECK(computeTime(matmul, cluster, 1, bf16) == Approx(flops / 100e12));
  // The add moves 3 x 1024^2 elements: 4 bytes each in fp32, 2 in bf16.
  double elements = 3.0 * 1024 * 1024;
  CHECK(getPricedBytesAccessed(add, {}) == Approx(elements * 4));
  CHECK(getPricedBytesAccessed(add, bf16) == Approx(elements * 2));
  CHECK(computeTime(add, cluster, 1, bf16) == Approx(elements * 2 / 0.5e12));
  // The update reads optimizer state: fp32 master weights and moments.
  CHECK(getPricedBytesAccessed(update, bf16) == Approx(elements * 4));
  // Integers keep their bytes: an i32 -> f32 cast reads 4 bytes per
  // element and writes 2.
  CHECK(getPricedBytesAccessed(cast, {}) == Approx(1024.0 * 1024 * (4 + 4)));
  CHECK(getPricedBytesAccessed(cast, bf16) == Approx(1024.0 * 1024 * (4 + 2)));
}
