// The roofline compute time, on a cluster with round numbers so that every
// expected value is checkable by hand, and on ops parsed from IR so that the
// FLOPs and bytes come through CostOpInterface as the search will get them.
#include "passes/Analysis/Cost/ComputeCost.h"
#include "compiler/Registration.h"

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/Parser/Parser.h"

#include <catch2/catch.hpp>

using namespace mlir;
using namespace mlir::cleave;

namespace {
/// f32 peak 100 TFLOP/s, bf16 200, reached at 50%: 50 and 100 TFLOP/s;
/// 1 TB/s memory reached at 50%: 0.5 TB/s.
Cluster roundCluster() {
  Cluster cluster;
  cluster.peakFlops = {100e12, 200e12, 200e12};
  cluster.computeEfficiency = 0.5;
  cluster.memoryBandwidth = 1e12;
  cluster.memoryEfficiency = 0.5;
  return cluster;
}

const char *kOps = R"mlir(
func.func @f(%a: tensor<1024x1024xf32>, %b: tensor<1024x1024xf32>,
             %c: tensor<1024x1024xbf16>, %d: tensor<1024x1024xbf16>) -> tensor<1024x1024xf32> {
  %mm = cleave.matmul %a, %b : (tensor<1024x1024xf32>, tensor<1024x1024xf32>) -> tensor<1024x1024xf32>
  %add = cleave.binary add %mm, %a : (tensor<1024x1024xf32>, tensor<1024x1024xf32>) -> tensor<1024x1024xf32>
  %half = cleave.matmul %c, %d : (tensor<1024x1024xbf16>, tensor<1024x1024xbf16>) -> tensor<1024x1024xbf16>
  return %add : tensor<1024x1024xf32>
}
)mlir";
} // namespace

TEST_CASE("roofline: the slower of arithmetic and memory traffic", "[cost]") {
  Cluster cluster = roundCluster();
  // 1e12 FLOPs at 50 TFLOP/s = 20 ms; 1e9 bytes at 0.5 TB/s = 2 ms.
  CHECK(rooflineTime(1e12, 1e9, DType::f32, cluster) == Approx(20e-3));
  // bf16 runs at 100 TFLOP/s: 10 ms.
  CHECK(rooflineTime(1e12, 1e9, DType::bf16, cluster) == Approx(10e-3));
  // 1e9 FLOPs (20 us) on 1e10 bytes (20 ms): memory bound.
  CHECK(rooflineTime(1e9, 1e10, DType::f32, cluster) == Approx(20e-3));
}

TEST_CASE("compute time of ops through CostOpInterface", "[cost]") {
  MLIRContext context;
  loadAllDialects(context);
  OwningOpRef<ModuleOp> module = parseSourceString<ModuleOp>(kOps, &context);
  REQUIRE(module);
  std::vector<Operation *> ops;
  Operation *ret = nullptr;
  module->walk([&](Operation *op) {
    if (op->getName().getDialectNamespace() == "cleave")
      ops.push_back(op);
    if (op->getName().getStringRef() == "func.return")
      ret = op;
  });
  REQUIRE(ret);
  REQUIRE(ops.size() == 3);
  Cluster cluster = roundCluster();
  const double n = 1024;

  // matmul f32: 2 n^3 = 2.147e9 FLOPs at 50 TFLOP/s = 42.95 us; 3 n^2 * 4
  // bytes = 12.6 MB at 0.5 TB/s = 25.2 us: compute bound.
  CHECK(getComputeDType(ops[0]) == DType::f32);
  CHECK(computeTime(ops[0], cluster) == Approx(2 * n * n * n / 50e12));
  // Split 4 ways: a quarter of both.
  CHECK(computeTime(ops[0], cluster, 4) == Approx(2 * n * n * n / 50e12 / 4));

  // add: n^2 FLOPs (21 ns) on 3 n^2 * 4 bytes (25.2 us): memory bound.
  CHECK(computeTime(ops[1], cluster) == Approx(3 * n * n * 4 / 0.5e12));

  // bf16 matmul: 2 n^3 at 100 TFLOP/s = 21.5 us; 3 n^2 * 2 bytes = 6.3 MB
  // at 0.5 TB/s = 12.6 us: compute bound on the bf16 units.
  CHECK(getComputeDType(ops[2]) == DType::bf16);
  CHECK(computeTime(ops[2], cluster) == Approx(2 * n * n * n / 100e12));

  // cleavec --precision bf16 runs the f32 matmul on bf16 units; other ops
  // keep their types. Its f32 operands still move 12.6 MB (25.2 us), now
  // more than its 21.5 us of bf16 arithmetic: memory bound.
  ComputeOptions bf16;
  bf16.matmulType = DType::bf16;
  CHECK(getComputeDType(ops[0], bf16) == DType::bf16);
  CHECK(computeTime(ops[0], cluster, 1, bf16) == Approx(3 * n * n * 4 / 0.5e12));
  CHECK(getComputeDType(ops[1], bf16) == DType::f32);

  // Ops without CostOpInterface and nonsense shard factors cost nothing.
  CHECK(computeTime(ret, cluster) == 0);
  CHECK(computeTime(ops[0], cluster, 0) == 0);
}

namespace {
// GELU's tail as the GPT has it: four elementwise ops of one shape run as
// one fused loop (compiler/Codegen/Schedule.cpp), across a reshape view; a
// bias add of another shape and the softmax (a library call) end loops.
const char *kFusedOps = R"mlir(
func.func @f(%x: tensor<256x64xf32>, %half: tensor<256x64xf32>, %bias: tensor<64xf32>)
    -> (tensor<256x64xf32>, tensor<16x1024xf32>, tensor<256x64xf32>) {
  %e = cleave.unary erf %x : tensor<256x64xf32>
  %p = cleave.binary add %e, %half : (tensor<256x64xf32>, tensor<256x64xf32>) -> tensor<256x64xf32>
  %v = cleave.reshape %x : tensor<256x64xf32> to tensor<16x1024xf32>
  %m = cleave.binary mul %p, %x : (tensor<256x64xf32>, tensor<256x64xf32>) -> tensor<256x64xf32>
  %s = cleave.binary mul %m, %half : (tensor<256x64xf32>, tensor<256x64xf32>) -> tensor<256x64xf32>
  %n = cleave.softmax %s {axis = 1 : i64} : tensor<256x64xf32>
  %b = cleave.binary add %n, %bias : (tensor<256x64xf32>, tensor<64xf32>) -> tensor<256x64xf32>
  return %s, %v, %b : tensor<256x64xf32>, tensor<16x1024xf32>, tensor<256x64xf32>
}
)mlir";
} // namespace

TEST_CASE("elementwise ops in one fused loop move only what enters and leaves it", "[cost]") {
  MLIRContext context;
  loadAllDialects(context);
  OwningOpRef<ModuleOp> module = parseSourceString<ModuleOp>(kFusedOps, &context);
  REQUIRE(module);
  std::vector<Operation *> order;
  module->walk([&](Operation *op) {
    if (op->getName().getDialectNamespace() == "cleave")
      order.push_back(op);
  });
  REQUIRE(order.size() == 7);
  Operation *erf = order[0], *add = order[1], *mul = order[3], *scale = order[4],
            *softmax = order[5], *bias = order[6];
  const double tensor = 256 * 64 * 4;
  // erf reads %x and writes nothing: %e stays in a register.
  CHECK(getPricedBytesAccessed(erf, {}) == Approx(tensor));
  // The add reads %half; %e is the loop's own.
  CHECK(getPricedBytesAccessed(add, {}) == Approx(tensor));
  // The mul reads nothing new: %x was read by erf, %p is the loop's.
  CHECK(getPricedBytesAccessed(mul, {}) == Approx(0));
  // The last op writes %s (the softmax and the return read it).
  CHECK(getPricedBytesAccessed(scale, {}) == Approx(tensor));
  // A library call still moves everything.
  CHECK(getPricedBytesAccessed(softmax, {}) == Approx(2 * tensor));
  // The bias add is a loop of its own: reads %n and %bias, writes %b.
  CHECK(getPricedBytesAccessed(bias, {}) == Approx(2 * tensor + 64 * 4));
  // The whole loop moves what an unfused add would: 3 tensors, not 12.
  double loop = 0;
  for (Operation *op : {erf, add, mul, scale})
    loop += getPricedBytesAccessed(op, {});
  CHECK(loop == Approx(3 * tensor));
}

TEST_CASE("a splat constant in a fused loop is a literal", "[cost]") {
  MLIRContext context;
  loadAllDialects(context);
  OwningOpRef<ModuleOp> module = parseSourceString<ModuleOp>(R"mlir(
func.func @f(%x: tensor<256x64xf32>) -> tensor<256x64xf32> {
  %half = cleave.constant dense<0.5> : tensor<256x64xf32>
  %m = cleave.binary mul %x, %half : (tensor<256x64xf32>, tensor<256x64xf32>) -> tensor<256x64xf32>
  return %m : tensor<256x64xf32>
}
)mlir",
                                                             &context);
  REQUIRE(module);
  Operation *mul = nullptr;
  module->walk([&](Operation *op) {
    if (op->getName().getStringRef() == "cleave.binary")
      mul = op;
  });
  REQUIRE(mul);
  // Reads %x, writes %m; the splat 0.5 costs nothing.
  CHECK(getPricedBytesAccessed(mul, {}) == Approx(2 * 256 * 64 * 4));
}
