//===- LinearAlgebraGradients.cpp - gradients of matmul and reductions ----===//
#include "passes/Autodiff/GradientRules.h"

using namespace mlir;
using namespace mlir::cleave;
using namespace mlir::cleave::autodiff;

/// C = op(A) op(B). Each case writes dA and dB directly in the layout A and
/// B are stored in, so no transpose op is ever materialised:
///   A B     : dA = G B^T       dB = A^T G
///   A B^T   : dA = G B         dB = G^T A
///   A^T B   : dA = B G^T       dB = A G
///   A^T B^T : dA = B^T G^T     dB = G^T A^T
/// Broadcast batch dimensions are summed back to each operand's shape.
static void matmulGradient(GradientContext &ctx, MatmulOp op) {
  TensorBuilder &b = ctx.b();
  Value g = ctx.resultGrad(), lhs = op.getLhs(), rhs = op.getRhs();
  bool ta = op.getTransposeA(), tb = op.getTransposeB();
  if (ctx.needs(0)) {
    Value grad = !ta ? b.matmul(g, rhs, false, !tb) : b.matmul(rhs, g, tb, true);
    ctx.setGrad(0, b.sumToShape(grad, TensorBuilder::shapeOf(lhs)));
  }
  if (ctx.needs(1)) {
    Value grad = !tb ? b.matmul(lhs, g, !ta, false) : b.matmul(g, lhs, true, ta);
    ctx.setGrad(1, b.sumToShape(grad, TensorBuilder::shapeOf(rhs)));
  }
}

static void reduceGradient(GradientContext &ctx, ReduceOp op) {
  TensorBuilder &b = ctx.b();
  Value x = op.getInput();
  ArrayRef<int64_t> inputShape = TensorBuilder::shapeOf(x);
  // The result with its reduced dimensions kept as 1, ready to broadcast.
  SmallVector<int64_t> keptShape(inputShape);
  int64_t count = 1;
  for (int64_t axis : op.getAxes()) {
    keptShape[axis] = 1;
    count *= inputShape[axis];
  }
  Value g = b.broadcastTo(b.reshape(ctx.resultGrad(), keptShape), inputShape);
  Value y = b.broadcastTo(b.reshape(op.getResult(), keptShape), inputShape);
  Type type = TensorBuilder::elementTypeOf(x);
  switch (op.getKind()) {
  case ReduceKind::sum:
    ctx.setGrad(0, g);
    return;
  case ReduceKind::mean:
    ctx.setGrad(0, b.scale(g, 1.0 / count));
    return;
  case ReduceKind::max:
  case ReduceKind::min: {
    // The elements equal to the extremum share the gradient evenly (as
    // PyTorch's amax/amin do), so that ties sum to g: giving each of them
    // all of g would multiply it by the number of ties.
    Value isExtremum = b.compare(CompareKind::eq, x, y);
    Value ties = b.reduce(ReduceKind::sum, b.convert(isExtremum, type), op.getAxes(),
                          /*keepDims=*/true);
    ctx.setGrad(0, b.select(isExtremum, b.div(g, ties), b.scalar(type, 0.0)));
    return;
  }
  case ReduceKind::prod: {
    // d prod / d x_i is the product of the other elements: g * y / x_i
    // where x_i != 0. A zero element gets the product of the non-zero
    // elements when it is the only zero of its slice, else 0 (g * y / x_i
    // would be 0 / 0 = NaN there).
    Value zero = b.scalar(type, 0.0);
    Value isZero = b.compare(CompareKind::eq, x, zero);
    Value nonZero = b.select(isZero, b.scalar(type, 1.0), x);
    Value nonZeroProduct = b.reduce(ReduceKind::prod, nonZero, op.getAxes(), /*keepDims=*/true);
    Value zeroCount = b.reduce(ReduceKind::sum, b.convert(isZero, type), op.getAxes(),
                               /*keepDims=*/true);
    Value atZero =
        b.select(b.compare(CompareKind::eq, zeroCount, b.scalar(type, 1.0)), nonZeroProduct, zero);
    ctx.setGrad(0, b.select(isZero, b.mul(g, atZero), b.div(b.mul(g, y), nonZero)));
    return;
  }
  }
}

void mlir::cleave::autodiff::registerLinearAlgebraGradients(GradientTable &table) {
  table.add<MatmulOp>(matmulGradient);
  table.add<ReduceOp>(reduceGradient);
}
