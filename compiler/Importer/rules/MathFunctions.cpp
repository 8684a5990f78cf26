//===- MathFunctions.cpp - import rules for composite ONNX math ops ------===//
//
// Tan, the hyperbolic functions and their inverses, IsNaN/IsInf and Mod,
// written with the cleave.unary/binary/compare/select kinds that exist, so
// each inherits gradients, costs and sharding rules:
//   tan x = sin x / cos x,  sinh/cosh x = (e^x -/+ e^-x) / 2,
//   asinh x = sign(x) log(|x| + sqrt(x^2 + 1))   (no cancellation for x < 0),
//   acosh x = log(x + sqrt(x^2 - 1)),  atanh x = log((1 + x) / (1 - x)) / 2,
//   isnan x = x != x,  isinf x = |x| == inf (or one sign of it),
//   Mod: a - trunc(a / b) * b (C's fmod; fmod = 1), shifted by b where its
//   sign differs from b's (Python's %, fmod = 0); integers divide exactly.
//
//===----------------------------------------------------------------------===//
#include "compiler/Importer/NodeContext.h"

#include "dialects/Cleave/IR/TensorBuilder.h"

#include <limits>

using namespace mlir;
using namespace mlir::cleave;
using namespace mlir::cleave::importer;

/// Runs `build` on float input 0 and sets output 0.
static LogicalResult importFloatFunction(NodeContext &ctx,
                                         llvm::function_ref<Value(TensorBuilder &, Value)> build) {
  if (!ctx.hasInput(0))
    return ctx.fail("needs an input");
  if (!isa<FloatType>(ctx.getInputType(0).getElementType()))
    return ctx.fail("only float inputs are supported");
  TensorBuilder b(ctx.getBuilder(), ctx.getLoc());
  ctx.setOutput(0, build(b, ctx.getInput(0)));
  return success();
}

static Value constantLike(TensorBuilder &b, Value x, double value) {
  return b.scalar(TensorBuilder::elementTypeOf(x), value);
}

static Value buildTan(TensorBuilder &b, Value x) {
  return b.div(b.unary(UnaryKind::sin, x), b.unary(UnaryKind::cos, x));
}

static Value sinhOrCosh(TensorBuilder &b, Value x, bool cosh) {
  Value up = b.unary(UnaryKind::exp, x), down = b.unary(UnaryKind::exp, b.neg(x));
  return b.mul(cosh ? b.add(up, down) : b.sub(up, down), constantLike(b, x, 0.5));
}

static Value buildAsinh(TensorBuilder &b, Value x) {
  Value magnitude = b.unary(UnaryKind::abs, x);
  Value root = b.unary(UnaryKind::sqrt, b.add(b.mul(x, x), constantLike(b, x, 1.0)));
  return b.mul(b.unary(UnaryKind::sign, x), b.unary(UnaryKind::log, b.add(magnitude, root)));
}

static Value buildAcosh(TensorBuilder &b, Value x) {
  Value root = b.unary(UnaryKind::sqrt, b.sub(b.mul(x, x), constantLike(b, x, 1.0)));
  return b.unary(UnaryKind::log, b.add(x, root));
}

static Value buildAtanh(TensorBuilder &b, Value x) {
  Value one = constantLike(b, x, 1.0);
  Value ratio = b.div(b.add(one, x), b.sub(one, x));
  return b.mul(b.unary(UnaryKind::log, ratio), constantLike(b, x, 0.5));
}

static LogicalResult importIsNaN(NodeContext &ctx) {
  return importFloatFunction(
      ctx, [](TensorBuilder &b, Value x) { return b.compare(CompareKind::ne, x, x); });
}

static LogicalResult importIsInf(NodeContext &ctx) {
  bool negative = ctx.getAttrInt("detect_negative", 1) != 0;
  bool positive = ctx.getAttrInt("detect_positive", 1) != 0;
  return importFloatFunction(ctx, [&](TensorBuilder &b, Value x) {
    double inf = std::numeric_limits<double>::infinity();
    if (negative && positive)
      return b.compare(CompareKind::eq, b.unary(UnaryKind::abs, x), constantLike(b, x, inf));
    if (positive)
      return b.compare(CompareKind::eq, x, constantLike(b, x, inf));
    if (negative)
      return b.compare(CompareKind::eq, x, constantLike(b, x, -inf));
    // Neither sign: nothing is reported (x < x holds for no x, NaN included).
    return b.compare(CompareKind::lt, x, x);
  });
}

static LogicalResult importMod(NodeContext &ctx) {
  if (ctx.getNumInputs() != 2 || !ctx.hasInput(1))
    return ctx.fail("expects 2 inputs");
  RankedTensorType type = ctx.getInputType(0);
  Type element = type.getElementType();
  if (element != ctx.getInputType(1).getElementType())
    return ctx.fail("inputs have different element types");
  if (element.isSignlessInteger(1))
    return ctx.fail("bool inputs are not supported");
  bool isFloat = isa<FloatType>(element);
  bool fmod = ctx.getAttrInt("fmod", 0) != 0;
  if (isFloat && !fmod)
    return ctx.fail("float inputs need fmod = 1 (the ONNX spec requires it)");
  SmallVector<int64_t> shape;
  if (!broadcastShapes(type.getShape(), ctx.getInputShape(1), shape))
    return ctx.fail("input shapes do not broadcast");
  TensorBuilder b(ctx.getBuilder(), ctx.getLoc());
  Value a = ctx.getInput(0), divisor = ctx.getInput(1);
  Value quotient = b.div(a, divisor);
  if (isFloat) {
    // trunc(q) = sign(q) floor(|q|).
    quotient = b.mul(b.unary(UnaryKind::sign, quotient),
                     b.unary(UnaryKind::floor, b.unary(UnaryKind::abs, quotient)));
  }
  // Integer division truncates toward zero: a - trunc(a / b) * b has a's sign.
  Value remainder = b.sub(a, b.mul(quotient, divisor));
  if (!fmod) {
    Value zero = b.scalar(element, 0.0);
    Value nonZero = b.compare(CompareKind::ne, remainder, zero);
    Value signsDiffer =
        b.binary(BinaryKind::logical_xor, b.compare(CompareKind::lt, remainder, zero),
                 b.compare(CompareKind::lt, divisor, zero));
    Value shift = b.binary(BinaryKind::logical_and, nonZero, signsDiffer);
    remainder = b.select(shift, b.add(remainder, divisor), remainder);
  }
  ctx.setOutput(0, b.broadcastTo(remainder, shape));
  return success();
}

void cleave::importer::registerMathFunctionRules(RuleTable &table) {
  table.add("Tan", [](NodeContext &ctx) { return importFloatFunction(ctx, buildTan); });
  table.add("Sinh", [](NodeContext &ctx) {
    return importFloatFunction(ctx,
                               [](TensorBuilder &b, Value x) { return sinhOrCosh(b, x, false); });
  });
  table.add("Cosh", [](NodeContext &ctx) {
    return importFloatFunction(ctx,
                               [](TensorBuilder &b, Value x) { return sinhOrCosh(b, x, true); });
  });
  table.add("Asinh", [](NodeContext &ctx) { return importFloatFunction(ctx, buildAsinh); });
  table.add("Acosh", [](NodeContext &ctx) { return importFloatFunction(ctx, buildAcosh); });
  table.add("Atanh", [](NodeContext &ctx) { return importFloatFunction(ctx, buildAtanh); });
  table.add("IsNaN", importIsNaN);
  table.add("IsInf", importIsInf);
  table.add("Mod", importMod);
}
