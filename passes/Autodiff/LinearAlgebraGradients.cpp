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
static void matmulGradient(GradientContext &ctx) {
  auto op = ctx.getOp<MatmulOp>();
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

static void reduceGradient(GradientContext &ctx) {
  auto op = ctx.getOp<ReduceOp>();
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
  case ReduceKind::min:
    // Every element equal to the extremum receives the gradient.
    ctx.setGrad(0, b.select(b.compare(CompareKind::eq, x, y), g, b.scalar(type, 0.0)));
    return;
  case ReduceKind::prod:
    ctx.setGrad(0, b.div(b.mul(g, y), x));
    return;
  }
}

void mlir::cleave::autodiff::registerLinearAlgebraGradients(GradientTable &table) {
  table.add<MatmulOp>(matmulGradient);
  table.add<ReduceOp>(reduceGradient);
}
