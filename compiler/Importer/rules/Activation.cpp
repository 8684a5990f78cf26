//===- Activation.cpp - import rules for composite ONNX activations ------===//
//
// HardSwish, PRelu, Selu, Celu, Softsign, ThresholdedRelu and Shrink are
// compositions of cleave.unary/binary/compare/select. Building them from
// those ops (instead of adding unary kinds) gives each its gradient, cost
// and sharding rule from the ops it is made of. (Mish is opset 18, past the
// importer's range and unknown to its ONNX 1.12 checker.)
//
//===----------------------------------------------------------------------===//
#include "compiler/Importer/NodeContext.h"

#include "dialects/Cleave/IR/TensorBuilder.h"

using namespace mlir;
using namespace mlir::cleave;
using namespace mlir::cleave::importer;

/// The float input 0, or failure with a message.
static FailureOr<Value> floatInput(NodeContext &ctx) {
  if (ctx.getNumInputs() < 1 || !ctx.hasInput(0)) {
    (void)ctx.fail("needs an input");
    return failure();
  }
  if (!isa<FloatType>(ctx.getInputType(0).getElementType())) {
    (void)ctx.fail("only float inputs are supported");
    return failure();
  }
  return ctx.getInput(0);
}

/// Runs `build` on the float input and sets its result as output 0.
static LogicalResult importComposite(NodeContext &ctx,
                                     llvm::function_ref<Value(TensorBuilder &, Value)> build) {
  FailureOr<Value> x = floatInput(ctx);
  if (failed(x))
    return failure();
  TensorBuilder b(ctx.getBuilder(), ctx.getLoc());
  ctx.setOutput(0, build(b, *x));
  return success();
}

/// x * min(max(x + 3, 0), 6) / 6, PyTorch's form of ONNX's
/// x * max(0, min(1, x / 6 + 1 / 2)).
static Value hardSwish(TensorBuilder &b, Value x) {
  Type type = TensorBuilder::elementTypeOf(x);
  Value shifted = b.add(x, b.scalar(type, 3.0));
  Value clamped = b.binary(BinaryKind::min, b.binary(BinaryKind::max, shifted, b.scalar(type, 0.0)),
                           b.scalar(type, 6.0));
  return b.div(b.mul(x, clamped), b.scalar(type, 6.0));
}

/// x < 0 ? slope * x : x, slope broadcasting to x's shape (ONNX's
/// unidirectional broadcast).
static LogicalResult importPRelu(NodeContext &ctx) {
  FailureOr<Value> x = floatInput(ctx);
  if (failed(x))
    return failure();
  if (!ctx.hasInput(1))
    return ctx.fail("needs a slope input");
  Value slope = ctx.getInput(1);
  SmallVector<int64_t> shape;
  ArrayRef<int64_t> xShape = TensorBuilder::shapeOf(*x);
  if (!broadcastShapes(xShape, TensorBuilder::shapeOf(slope), shape) ||
      ArrayRef<int64_t>(shape) != xShape)
    return ctx.fail("slope must broadcast to the input's shape");
  if (TensorBuilder::elementTypeOf(slope) != TensorBuilder::elementTypeOf(*x))
    return ctx.fail("slope and input have different element types");
  TensorBuilder b(ctx.getBuilder(), ctx.getLoc());
  Type type = TensorBuilder::elementTypeOf(*x);
  Value negative = b.compare(CompareKind::lt, *x, b.scalar(type, 0.0));
  ctx.setOutput(0, b.select(negative, b.mul(*x, slope), *x));
  return success();
}

/// gamma * (x > 0 ? x : alpha * (exp(x) - 1)).
static Value selu(TensorBuilder &b, Value x, double alpha, double gamma) {
  Type type = TensorBuilder::elementTypeOf(x);
  Value expMinusOne = b.sub(b.unary(UnaryKind::exp, x), b.scalar(type, 1.0));
  Value negativePart = b.mul(expMinusOne, b.scalar(type, alpha));
  Value positive = b.compare(CompareKind::gt, x, b.scalar(type, 0.0));
  return b.mul(b.select(positive, x, negativePart), b.scalar(type, gamma));
}

/// max(0, x) + min(0, alpha * (exp(x / alpha) - 1)).
static Value celu(TensorBuilder &b, Value x, double alpha) {
  Type type = TensorBuilder::elementTypeOf(x);
  Value zero = b.scalar(type, 0.0);
  Value expMinusOne =
      b.sub(b.unary(UnaryKind::exp, b.div(x, b.scalar(type, alpha))), b.scalar(type, 1.0));
  Value negativePart = b.binary(BinaryKind::min, zero, b.mul(expMinusOne, b.scalar(type, alpha)));
  return b.add(b.binary(BinaryKind::max, zero, x), negativePart);
}

/// x / (1 + |x|).
static Value softsign(TensorBuilder &b, Value x) {
  Type type = TensorBuilder::elementTypeOf(x);
  return b.div(x, b.add(b.scalar(type, 1.0), b.unary(UnaryKind::abs, x)));
}

/// x > alpha ? x : 0.
static Value thresholdedRelu(TensorBuilder &b, Value x, double alpha) {
  Type type = TensorBuilder::elementTypeOf(x);
  Value above = b.compare(CompareKind::gt, x, b.scalar(type, alpha));
  return b.select(above, x, b.scalar(type, 0.0));
}

/// x < -lambd ? x + bias : x > lambd ? x - bias : 0.
static Value shrink(TensorBuilder &b, Value x, double bias, double lambd) {
  Type type = TensorBuilder::elementTypeOf(x);
  Value below = b.compare(CompareKind::lt, x, b.scalar(type, -lambd));
  Value above = b.compare(CompareKind::gt, x, b.scalar(type, lambd));
  Value upper = b.select(above, b.sub(x, b.scalar(type, bias)), b.scalar(type, 0.0));
  return b.select(below, b.add(x, b.scalar(type, bias)), upper);
}

void cleave::importer::registerActivationRules(RuleTable &table) {
  table.add("HardSwish", [](NodeContext &ctx) { return importComposite(ctx, hardSwish); });
  table.add("PRelu", importPRelu);
  table.add("Selu", [](NodeContext &ctx) {
    double alpha = ctx.getAttrFloat("alpha", 1.67326319217681884765625);
    double gamma = ctx.getAttrFloat("gamma", 1.05070102214813232421875);
    return importComposite(ctx,
                           [&](TensorBuilder &b, Value x) { return selu(b, x, alpha, gamma); });
  });
  table.add("Celu", [](NodeContext &ctx) {
    double alpha = ctx.getAttrFloat("alpha", 1.0);
    if (alpha == 0.0)
      return ctx.fail("alpha must not be 0");
    return importComposite(ctx, [&](TensorBuilder &b, Value x) { return celu(b, x, alpha); });
  });
  table.add("Softsign", [](NodeContext &ctx) { return importComposite(ctx, softsign); });
  table.add("ThresholdedRelu", [](NodeContext &ctx) {
    double alpha = ctx.getAttrFloat("alpha", 1.0);
    return importComposite(ctx,
                           [&](TensorBuilder &b, Value x) { return thresholdedRelu(b, x, alpha); });
  });
  table.add("Shrink", [](NodeContext &ctx) {
    double bias = ctx.getAttrFloat("bias", 0.0), lambd = ctx.getAttrFloat("lambd", 0.5);
    return importComposite(ctx,
                           [&](TensorBuilder &b, Value x) { return shrink(b, x, bias, lambd); });
  });
}
