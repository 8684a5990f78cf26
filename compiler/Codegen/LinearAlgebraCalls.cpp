//===- LinearAlgebraCalls.cpp - matmul and reduce as runtime calls --------===//
#include "compiler/Codegen/Rules.h"

#include "dialects/Cleave/IR/CleaveOps.h"

#include "llvm/Support/FormatVariadic.h"

using namespace mlir;
using namespace mlir::cleave;
using namespace mlir::cleave::codegen;

static LogicalResult emitMatmul(CallContext &ctx, MatmulOp matmul) {
  // The CPU runtime also multiplies f64 (dgemm): f64 models run there.
  bool f64 = ctx.getTarget().hasF64Kernels() && typeOf(matmul.getResult()).getElementType().isF64();
  if (!f64 && failed(ctx.requireF32(matmul.getResult())))
    return failure();
  ArrayRef<int64_t> c = matmul.getType().getShape();
  ArrayRef<int64_t> a = matmul.getLhs().getType().getShape();
  ArrayRef<int64_t> b = matmul.getRhs().getType().getShape();
  int64_t batch = product(c.drop_back(2)), m = c[c.size() - 2], n = c.back();
  int64_t k = matmul.getContractionSize();
  int64_t strideA = product(a.drop_back(2)) == 1 ? 0 : a[a.size() - 1] * a[a.size() - 2];
  int64_t strideB = product(b.drop_back(2)) == 1 ? 0 : b[b.size() - 1] * b[b.size() - 2];
  bool bf16 = ctx.isBf16() && !f64;
  if (bf16) {
    // Rounded operands live in the step's scratch, sized with the rest
    // (once per distinct shape: a GPT repeats a handful of them).
    ctx.addScratch(llvm::formatv("K::matmul_bf16_scratch_bytes({0}, {1}, {2}, {3}, {4}, {5})",
                                 batch, m, n, k, strideA, strideB)
                       .str(),
                   /*once=*/true);
  }
  ctx.out() << llvm::formatv(
      "    K::{11}({0}, {1}, {2}, {3}, {4}, {5}, {6}, {7}, {8}, {9}, "
      "{10}, false{12});\n",
      ctx.ptr(matmul.getLhs()), ctx.ptr(matmul.getRhs()), ctx.ptr(matmul.getResult()), batch, m, n,
      k, matmul.getTransposeA() ? "true" : "false", matmul.getTransposeB() ? "true" : "false",
      strideA, strideB, bf16 ? "matmul_bf16" : "matmul", bf16 ? ", scratch" : "");
  return success();
}

static LogicalResult emitReduce(CallContext &ctx, ReduceOp reduce) {
  Type element = reduce.getType().getElementType();
  if (!element.isF32() && !element.isSignlessInteger(64) &&
      !(element.isF64() && ctx.getTarget().hasF64Kernels()))
    return reduce.emitOpError() << "reduces only f32 and i64 tensors (and f64 on the CPU) in "
                                   "generated code";
  ctx.shapeArray("shape", reduce.getInput().getType().getShape());
  ctx.shapeArray("axes", reduce.getAxes());
  ctx.out() << llvm::formatv(
      "    K::reduce({0}, {1}, {2}, shape, axes, {3}, K::ReduceKind::{4});\n",
      ctx.ptr(reduce.getInput()), ctx.ptr(reduce.getResult()),
      reduce.getInput().getType().getRank(), reduce.getAxes().size(),
      stringifyReduceKind(reduce.getKind()));
  return success();
}

void mlir::cleave::codegen::registerLinearAlgebraCalls(RuleTable &table) {
  table.addCalls(emitMatmul, emitReduce);
}
