//===- Linear.cpp - import rules for MatMul and Gemm ----------------------===//
#include "compiler/Importer/NodeContext.h"

#include "dialects/Cleave/IR/TensorBuilder.h"

using namespace mlir;
using namespace mlir::cleave;
using namespace mlir::cleave::importer;

static LogicalResult importMatMul(NodeContext &ctx) {
  ArrayRef<int64_t> a = ctx.getInputShape(0), b = ctx.getInputShape(1);
  if (a.empty() || b.empty())
    return ctx.fail("operands must have rank >= 1");
  if (!isa<FloatType>(ctx.getInputType(0).getElementType()))
    return ctx.fail("only float matrix products are supported");
  // NumPy semantics: a vector operand gains a unit dimension that the
  // result then drops again.
  Value lhs = ctx.getInput(0), rhs = ctx.getInput(1);
  if (a.size() == 1)
    lhs = ctx.reshape(lhs, {1, a[0]});
  if (b.size() == 1)
    rhs = ctx.reshape(rhs, {b[0], 1});
  ArrayRef<int64_t> a2 = cast<RankedTensorType>(lhs.getType()).getShape();
  ArrayRef<int64_t> b2 = cast<RankedTensorType>(rhs.getType()).getShape();
  if (a2.back() != b2[b2.size() - 2])
    return ctx.fail("contracted dimensions differ: " + std::to_string(a2.back()) + " vs " +
                    std::to_string(b2[b2.size() - 2]));
  std::vector<int64_t> batch;
  if (!broadcastShapes(a2.drop_back(2), b2.drop_back(2), batch))
    return ctx.fail("batch dimensions do not broadcast");
  // The checks above are what TensorBuilder::matmul assumes.
  Value result = TensorBuilder(ctx.getBuilder(), ctx.getLoc()).matmul(lhs, rhs, false, false);
  std::vector<int64_t> shape(batch);
  if (a.size() > 1)
    shape.push_back(a[a.size() - 2]);
  if (b.size() > 1)
    shape.push_back(b.back());
  ctx.setOutput(0, ctx.reshape(result, shape));
  return success();
}

static LogicalResult importGemm(NodeContext &ctx) {
  if (ctx.getInputType(0).getRank() != 2 || ctx.getInputType(1).getRank() != 2)
    return ctx.fail("A and B must be matrices");
  if (!isa<FloatType>(ctx.getInputType(0).getElementType()))
    return ctx.fail("only float matrix products are supported");
  bool transposeA = ctx.getAttrInt("transA", 0) != 0;
  bool transposeB = ctx.getAttrInt("transB", 0) != 0;
  ArrayRef<int64_t> a = ctx.getInputShape(0), b = ctx.getInputShape(1);
  int64_t kA = transposeA ? a[0] : a[1], kB = transposeB ? b[1] : b[0];
  if (kA != kB)
    return ctx.fail("contracted dimensions differ: " + std::to_string(kA) + " vs " +
                    std::to_string(kB));
  TensorBuilder tensors(ctx.getBuilder(), ctx.getLoc());
  Value result = tensors.matmul(ctx.getInput(0), ctx.getInput(1), transposeA, transposeB);
  Type elementType = TensorBuilder::elementTypeOf(result);
  double alpha = ctx.getAttrFloat("alpha", 1.0), beta = ctx.getAttrFloat("beta", 1.0);
  // A scalar of the product's own type always broadcasts; C may not.
  if (alpha != 1.0)
    result = tensors.mul(result, ctx.scalar(elementType, alpha));
  if (ctx.hasInput(2) && beta != 0.0) {
    Value bias = ctx.getInput(2);
    if (beta != 1.0) {
      FailureOr<Value> scaled = ctx.binary(BinaryKind::mul, bias, ctx.scalar(elementType, beta));
      if (failed(scaled))
        return failure();
      bias = *scaled;
    }
    FailureOr<Value> sum = ctx.binary(BinaryKind::add, result, bias);
    if (failed(sum))
      return failure();
    if (cast<RankedTensorType>((*sum).getType()).getShape() !=
        cast<RankedTensorType>(result.getType()).getShape())
      return ctx.fail("C does not broadcast to the product's shape");
    result = *sum;
  }
  ctx.setOutput(0, result);
  return success();
}

void cleave::importer::registerLinearRules(RuleTable &table) {
  table.add("MatMul", importMatMul);
  table.add("Gemm", importGemm);
}
