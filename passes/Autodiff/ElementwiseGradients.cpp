//===- ElementwiseGradients.cpp - gradients of elementwise ops ------------===//
//
// For y = f(x) with incoming gradient g, each rule writes df/dx * g. Binary
// ops broadcast, so each operand's gradient is summed back to its own shape.
//
//===----------------------------------------------------------------------===//
#include "passes/Autodiff/GradientRules.h"

#include <cmath>

using namespace mlir;
using namespace mlir::cleave;
using namespace mlir::cleave::autodiff;

static void unaryGradient(GradientContext &ctx, UnaryOp op) {
  TensorBuilder &b = ctx.b();
  Value g = ctx.resultGrad(), x = op.getInput(), y = op.getResult();
  Type type = TensorBuilder::elementTypeOf(x);
  auto constant = [&](double value) { return b.scalar(type, value); };
  Value grad;
  switch (op.getKind()) {
  case UnaryKind::neg:
    grad = b.neg(g);
    break;
  case UnaryKind::abs:
    grad = b.mul(g, b.unary(UnaryKind::sign, x));
    break;
  case UnaryKind::exp:
    grad = b.mul(g, y);
    break;
  case UnaryKind::log:
    grad = b.div(g, x);
    break;
  case UnaryKind::sqrt:
    // d sqrt(x) = 1 / (2 sqrt(x))
    grad = b.div(g, b.scale(y, 2.0));
    break;
  case UnaryKind::rsqrt:
    // d x^(-1/2) = -1/2 x^(-3/2) = -1/2 y^3
    grad = b.mul(g, b.scale(b.mul(y, b.mul(y, y)), -0.5));
    break;
  case UnaryKind::reciprocal:
    grad = b.neg(b.mul(g, b.mul(y, y)));
    break;
  case UnaryKind::tanh:
    grad = b.mul(g, b.sub(constant(1.0), b.mul(y, y)));
    break;
  case UnaryKind::erf:
    // d erf(x) = 2/sqrt(pi) exp(-x^2)
    grad = b.mul(g, b.scale(b.unary(UnaryKind::exp, b.neg(b.mul(x, x))), 2.0 / std::sqrt(M_PI)));
    break;
  case UnaryKind::relu:
    grad = b.select(b.compare(CompareKind::gt, x, constant(0.0)), g, constant(0.0));
    break;
  case UnaryKind::sigmoid:
    grad = b.mul(g, b.mul(y, b.sub(constant(1.0), y)));
    break;
  case UnaryKind::sin:
    grad = b.mul(g, b.unary(UnaryKind::cos, x));
    break;
  case UnaryKind::cos:
    grad = b.neg(b.mul(g, b.unary(UnaryKind::sin, x)));
    break;
  case UnaryKind::softplus:
    grad = b.mul(g, b.unary(UnaryKind::sigmoid, x));
    break;
  case UnaryKind::identity:
    grad = g;
    break;
  case UnaryKind::floor:
  case UnaryKind::ceil:
  case UnaryKind::round:
  case UnaryKind::sign:
  case UnaryKind::logical_not:
    // Piecewise constant: the gradient is zero almost everywhere.
    return;
  }
  ctx.setGrad(0, grad);
}

static void binaryGradient(GradientContext &ctx, BinaryOp op) {
  TensorBuilder &b = ctx.b();
  Value g = ctx.resultGrad(), lhs = op.getLhs(), rhs = op.getRhs(), y = op.getResult();
  ArrayRef<int64_t> lhsShape = TensorBuilder::shapeOf(lhs), rhsShape = TensorBuilder::shapeOf(rhs);
  Type type = TensorBuilder::elementTypeOf(y);
  auto setLhs = [&](auto build) {
    if (ctx.needs(0))
      ctx.setGrad(0, b.sumToShape(build(), lhsShape));
  };
  auto setRhs = [&](auto build) {
    if (ctx.needs(1))
      ctx.setGrad(1, b.sumToShape(build(), rhsShape));
  };
  switch (op.getKind()) {
  case BinaryKind::add:
    setLhs([&] { return g; });
    setRhs([&] { return g; });
    return;
  case BinaryKind::sub:
    setLhs([&] { return g; });
    setRhs([&] { return b.neg(g); });
    return;
  case BinaryKind::mul:
    setLhs([&] { return b.mul(g, rhs); });
    setRhs([&] { return b.mul(g, lhs); });
    return;
  case BinaryKind::div:
    setLhs([&] { return b.div(g, rhs); });
    setRhs([&] { return b.neg(b.div(b.mul(g, y), rhs)); });
    return;
  case BinaryKind::pow: {
    // d a^b/da = b a^(b-1), and 0 where b = 0 (a^0 is constant; at a = 0
    // the formula would give 0 * inf = NaN). d a^b/db = a^b log(a), and 0
    // where a = 0 and b >= 0 (0^b is 0 there; the formula gives
    // 0 * -inf = NaN). Both masks are PyTorch's.
    Value zero = b.scalar(type, 0.0);
    setLhs([&] {
      Value grad =
          b.mul(g, b.mul(rhs, b.binary(BinaryKind::pow, lhs, b.sub(rhs, b.scalar(type, 1.0)))));
      return b.select(b.compare(CompareKind::eq, rhs, zero), zero, grad);
    });
    setRhs([&] {
      Value grad = b.mul(g, b.mul(y, b.unary(UnaryKind::log, lhs)));
      Value zeroBase = b.binary(BinaryKind::logical_and, b.compare(CompareKind::eq, lhs, zero),
                                b.compare(CompareKind::ge, rhs, zero));
      return b.select(zeroBase, zero, grad);
    });
    return;
  }
  case BinaryKind::max:
  case BinaryKind::min: {
    // The larger (smaller) operand takes the gradient; ties go to lhs.
    CompareKind lhsWins = op.getKind() == BinaryKind::max ? CompareKind::ge : CompareKind::le;
    Value zero = b.scalar(type, 0.0);
    Value mask = b.compare(lhsWins, lhs, rhs);
    setLhs([&] { return b.select(mask, g, zero); });
    setRhs([&] { return b.select(mask, zero, g); });
    return;
  }
  case BinaryKind::logical_and:
  case BinaryKind::logical_or:
  case BinaryKind::logical_xor:
    return;
  }
}

static void selectGradient(GradientContext &ctx, SelectOp op) {
  TensorBuilder &b = ctx.b();
  Value g = ctx.resultGrad();
  Value zero = b.scalar(TensorBuilder::elementTypeOf(g), 0.0);
  if (ctx.needs(1))
    ctx.setGrad(1, b.sumToShape(b.select(op.getCondition(), g, zero),
                                TensorBuilder::shapeOf(op.getOnTrue())));
  if (ctx.needs(2))
    ctx.setGrad(2, b.sumToShape(b.select(op.getCondition(), zero, g),
                                TensorBuilder::shapeOf(op.getOnFalse())));
}

static void castGradient(GradientContext &ctx, CastOp op) {
  Type from = TensorBuilder::elementTypeOf(op.getInput());
  // Gradients flow only between float types.
  if (isa<FloatType>(from) && isa<FloatType>(TensorBuilder::elementTypeOf(op.getResult())))
    ctx.setGrad(0, ctx.b().convert(ctx.resultGrad(), from));
}

void mlir::cleave::autodiff::registerElementwiseGradients(GradientTable &table) {
  table.add<UnaryOp>(unaryGradient);
  table.add<BinaryOp>(binaryGradient);
  table.add<SelectOp>(selectGradient);
  table.add<CastOp>(castGradient);
  // Comparisons, constants and random masks have no differentiable operands.
  table.add<CompareOp>([](GradientContext &) {});
  table.add<ConstantOp>([](GradientContext &) {});
  table.add<IotaOp>([](GradientContext &) {});
  table.add<RandomMaskOp>([](GradientContext &) {});
}
