//===- Elementwise.cpp - import rules for elementwise ONNX ops ------------===//
//
// Arithmetic, comparison, logic and activation functions. When every input
// is a compile-time constant (shape arithmetic) the result is computed here
// instead of emitted.
//
//===----------------------------------------------------------------------===//
#include "compiler/Importer/NodeContext.h"

#include "dialects/Cleave/IR/TensorBuilder.h"

#include <cmath>

using namespace mlir;
using namespace mlir::cleave;
using namespace mlir::cleave::importer;

//===----------------------------------------------------------------------===//
// Folding on the host
//===----------------------------------------------------------------------===//

/// The kinds that compute alike on doubles and on integers: ordering and
/// logic, which cannot overflow.
template <typename T> static T applyOrderOrLogic(BinaryKind kind, T a, T b) {
  switch (kind) {
  case BinaryKind::max:
    return std::max(a, b);
  case BinaryKind::min:
    return std::min(a, b);
  case BinaryKind::logical_and:
    return (a != 0) && (b != 0);
  case BinaryKind::logical_or:
    return (a != 0) || (b != 0);
  case BinaryKind::logical_xor:
    return (a != 0) != (b != 0);
  default:
    llvm_unreachable("arithmetic kinds are applied by the caller");
  }
}

static double applyBinary(BinaryKind kind, double a, double b) {
  switch (kind) {
  case BinaryKind::add:
    return a + b;
  case BinaryKind::sub:
    return a - b;
  case BinaryKind::mul:
    return a * b;
  case BinaryKind::div:
    return a / b;
  case BinaryKind::pow:
    return std::pow(a, b);
  default:
    return applyOrderOrLogic(kind, a, b);
  }
}

/// Two's-complement wrap-around, as NumPy (and the generated code) compute;
/// signed overflow in C++ itself would be undefined.
static int64_t wrap(uint64_t value) { return static_cast<int64_t>(value); }

// Integer arithmetic stays exact: shape values such as INT64_MAX sentinels
// must not pass through double.
static int64_t applyBinaryInt(BinaryKind kind, int64_t a, int64_t b) {
  switch (kind) {
  case BinaryKind::add:
    return wrap(uint64_t(a) + uint64_t(b));
  case BinaryKind::sub:
    return wrap(uint64_t(a) - uint64_t(b));
  case BinaryKind::mul:
    return wrap(uint64_t(a) * uint64_t(b));
  // x / 0 has no value; INT64_MIN / -1 would trap (SIGFPE) on x86.
  case BinaryKind::div:
    return b == 0 ? 0 : b == -1 ? wrap(0 - uint64_t(a)) : a / b;
  case BinaryKind::pow:
    return truncateToInt64(std::pow(a, b));
  default:
    return applyOrderOrLogic(kind, a, b);
  }
}

static bool applyCompare(CompareKind kind, double a, double b) {
  switch (kind) {
  case CompareKind::eq:
    return a == b;
  case CompareKind::ne:
    return a != b;
  case CompareKind::lt:
    return a < b;
  case CompareKind::le:
    return a <= b;
  case CompareKind::gt:
    return a > b;
  case CompareKind::ge:
    return a >= b;
  }
  llvm_unreachable("unknown compare kind");
}

static double applyUnary(UnaryKind kind, double x) {
  switch (kind) {
  case UnaryKind::neg:
    return -x;
  case UnaryKind::abs:
    return std::fabs(x);
  case UnaryKind::exp:
    return std::exp(x);
  case UnaryKind::log:
    return std::log(x);
  case UnaryKind::sqrt:
    return std::sqrt(x);
  case UnaryKind::rsqrt:
    return 1.0 / std::sqrt(x);
  case UnaryKind::reciprocal:
    return 1.0 / x;
  case UnaryKind::tanh:
    return std::tanh(x);
  case UnaryKind::erf:
    return std::erf(x);
  case UnaryKind::relu:
    return x > 0 ? x : 0;
  case UnaryKind::sigmoid:
    return 1.0 / (1.0 + std::exp(-x));
  case UnaryKind::sin:
    return std::sin(x);
  case UnaryKind::cos:
    return std::cos(x);
  case UnaryKind::floor:
    return std::floor(x);
  case UnaryKind::ceil:
    return std::ceil(x);
  case UnaryKind::sign:
    return (x > 0) - (x < 0);
  case UnaryKind::logical_not:
    return x == 0;
  case UnaryKind::identity:
    return x;
  case UnaryKind::softplus:
    return std::log1p(std::exp(x));
  case UnaryKind::round:
    return std::nearbyint(x);
  }
  llvm_unreachable("unknown unary kind");
}

//===----------------------------------------------------------------------===//
// Rules
//===----------------------------------------------------------------------===//

/// The broadcast result of `kind` on two constants of one element type, or
/// nothing when it should not fold (shapes do not broadcast, result large).
static std::optional<HostTensor> foldBinary(BinaryKind kind, const HostTensor &lhs,
                                            const HostTensor &rhs) {
  std::vector<int64_t> shape;
  if (!broadcastShapes(lhs.getShape(), rhs.getShape(), shape) ||
      lhs.getElementType() != rhs.getElementType() || !fitsFolding(shape))
    return std::nullopt;
  HostTensor result(lhs.getElementType(), shape);
  forEachBroadcastIndex(
      shape, {lhs.getShape(), rhs.getShape()}, [&](int64_t flat, llvm::ArrayRef<int64_t> offsets) {
        if (result.isFloat())
          result.setDouble(flat,
                           applyBinary(kind, lhs.getDouble(offsets[0]), rhs.getDouble(offsets[1])));
        else
          result.setInt(flat, applyBinaryInt(kind, lhs.getInt(offsets[0]), rhs.getInt(offsets[1])));
      });
  return result;
}

static LogicalResult importBinary(NodeContext &ctx, BinaryKind kind) {
  if (ctx.getNumInputs() != 2)
    return ctx.fail("expects 2 inputs");
  const HostTensor *lhs = ctx.getConstantInput(0);
  const HostTensor *rhs = ctx.getConstantInput(1);
  if (lhs && rhs)
    if (std::optional<HostTensor> folded = foldBinary(kind, *lhs, *rhs)) {
      ctx.setOutput(0, std::move(*folded));
      return success();
    }
  return ctx.setOutput(0, ctx.binary(kind, ctx.getInput(0), ctx.getInput(1)));
}

/// Since opset 12 Pow's exponent may have another element type than the
/// base; the result has the base's. ONNX computes numpy.power and casts, so
/// an integer base with a float exponent is raised in the exponent's float
/// type and converted back (4 ** 0.5 is 2, not 4 ** 0); every other mix
/// converts the exponent to the base's type, which is exact.
static LogicalResult importPow(NodeContext &ctx) {
  if (ctx.getNumInputs() != 2)
    return ctx.fail("expects 2 inputs");
  Type baseType = ctx.getInputType(0).getElementType();
  Type exponentType = ctx.getInputType(1).getElementType();
  if (baseType == exponentType)
    return importBinary(ctx, BinaryKind::pow);
  Type computeType =
      !isa<FloatType>(baseType) && isa<FloatType>(exponentType) ? exponentType : baseType;
  const HostTensor *base = ctx.getConstantInput(0);
  const HostTensor *exponent = ctx.getConstantInput(1);
  if (base && exponent)
    if (std::optional<HostTensor> folded =
            foldBinary(BinaryKind::pow, base->castTo(computeType), exponent->castTo(computeType))) {
      ctx.setOutput(0, folded->castTo(baseType));
      return success();
    }
  // A constant operand (the usual exponent) converts here, not in the IR.
  auto operand = [&](size_t index) {
    const HostTensor *constant = ctx.getConstantInput(index);
    if (constant && constant->getElementType() != computeType)
      return ctx.constant(constant->castTo(computeType));
    return ctx.convert(ctx.getInput(index), computeType);
  };
  FailureOr<Value> result = ctx.binary(BinaryKind::pow, operand(0), operand(1));
  if (failed(result))
    return failure();
  ctx.setOutput(0, ctx.convert(*result, baseType));
  return success();
}

static LogicalResult importCompare(NodeContext &ctx, CompareKind kind) {
  if (ctx.getNumInputs() != 2)
    return ctx.fail("expects 2 inputs");
  const HostTensor *lhs = ctx.getConstantInput(0);
  const HostTensor *rhs = ctx.getConstantInput(1);
  std::vector<int64_t> shape;
  if (lhs && rhs && broadcastShapes(lhs->getShape(), rhs->getShape(), shape) &&
      fitsFolding(shape)) {
    HostTensor result(ctx.getBuilder().getI1Type(), shape);
    forEachBroadcastIndex(shape, {lhs->getShape(), rhs->getShape()},
                          [&](int64_t flat, llvm::ArrayRef<int64_t> offsets) {
                            bool value;
                            if (lhs->isFloat() || rhs->isFloat()) {
                              value = applyCompare(kind, lhs->getDouble(offsets[0]),
                                                   rhs->getDouble(offsets[1]));
                            } else {
                              int64_t a = lhs->getInt(offsets[0]), b = rhs->getInt(offsets[1]);
                              value = applyCompare(kind, a < b ? -1 : a == b ? 0 : 1, 0);
                            }
                            result.setInt(flat, value);
                          });
    ctx.setOutput(0, std::move(result));
    return success();
  }
  return ctx.setOutput(0, ctx.compare(kind, ctx.getInput(0), ctx.getInput(1)));
}

/// Whether cleave.unary `kind` takes integers too (the rest need floats).
static bool acceptsIntegers(UnaryKind kind) {
  switch (kind) {
  case UnaryKind::neg:
  case UnaryKind::abs:
  case UnaryKind::sign:
  case UnaryKind::relu:
  case UnaryKind::identity:
  case UnaryKind::logical_not:
    return true;
  default:
    return false;
  }
}

static LogicalResult importUnary(NodeContext &ctx, UnaryKind kind) {
  if (const HostTensor *input = ctx.getConstantInput(0)) {
    HostTensor result(input->getElementType(), input->getShape());
    for (int64_t i = 0; i < input->getNumElements(); ++i) {
      if (input->isFloat())
        result.setDouble(i, applyUnary(kind, input->getDouble(i)));
      else if (kind == UnaryKind::neg)
        result.setInt(i, wrap(0 - uint64_t(input->getInt(i))));
      else if (kind == UnaryKind::abs)
        result.setInt(i, input->getInt(i) < 0 ? wrap(0 - uint64_t(input->getInt(i)))
                                              : input->getInt(i));
      else
        result.setDouble(i, applyUnary(kind, input->getDouble(i)));
    }
    ctx.setOutput(0, std::move(result));
    return success();
  }
  if (!isa<FloatType>(ctx.getInputType(0).getElementType()) && !acceptsIntegers(kind))
    return ctx.fail("only float inputs are supported");
  ctx.setOutput(0, ctx.unary(kind, ctx.getInput(0)));
  return success();
}

/// Max, Min, Sum and Mean take any number of inputs and fold pairwise.
static LogicalResult importVariadic(NodeContext &ctx, BinaryKind kind, bool mean) {
  if (failed(ctx.requireAllInputs()))
    return failure();
  Value accumulated = ctx.getInput(0);
  for (size_t i = 1; i < ctx.getNumInputs(); ++i) {
    FailureOr<Value> next = ctx.binary(kind, accumulated, ctx.getInput(i));
    if (failed(next))
      return failure();
    accumulated = *next;
  }
  if (mean && ctx.getNumInputs() > 1) {
    Type elementType = cast<RankedTensorType>(accumulated.getType()).getElementType();
    FailureOr<Value> scaled =
        ctx.binary(BinaryKind::div, accumulated, ctx.scalar(elementType, ctx.getNumInputs()));
    if (failed(scaled))
      return failure();
    accumulated = *scaled;
  }
  ctx.setOutput(0, accumulated);
  return success();
}

static Type elementTypeOf(Value value) {
  return cast<RankedTensorType>(value.getType()).getElementType();
}

static LogicalResult importWhere(NodeContext &ctx) {
  const HostTensor *condition = ctx.getConstantInput(0);
  const HostTensor *onTrue = ctx.getConstantInput(1);
  const HostTensor *onFalse = ctx.getConstantInput(2);
  std::vector<int64_t> partial, shape;
  if (condition && onTrue && onFalse &&
      broadcastShapes(condition->getShape(), onTrue->getShape(), partial) &&
      broadcastShapes(partial, onFalse->getShape(), shape) && fitsFolding(shape)) {
    HostTensor result(onTrue->getElementType(), shape);
    forEachBroadcastIndex(shape, {condition->getShape(), onTrue->getShape(), onFalse->getShape()},
                          [&](int64_t flat, llvm::ArrayRef<int64_t> offsets) {
                            const HostTensor *chosen =
                                condition->getInt(offsets[0]) ? onTrue : onFalse;
                            int64_t offset =
                                condition->getInt(offsets[0]) ? offsets[1] : offsets[2];
                            result.setFrom(flat, *chosen, offset);
                          });
    ctx.setOutput(0, std::move(result));
    return success();
  }
  return ctx.setOutput(0, ctx.select(ctx.getInput(0), ctx.getInput(1), ctx.getInput(2)));
}

/// Input 0 converted to `elementType`, folded when it is a constant.
static LogicalResult setConverted(NodeContext &ctx, Type elementType) {
  if (const HostTensor *input = ctx.getConstantInput(0)) {
    ctx.setOutput(0, input->castTo(elementType));
    return success();
  }
  ctx.setOutput(0, ctx.convert(ctx.getInput(0), elementType));
  return success();
}

static LogicalResult importCast(NodeContext &ctx) {
  int64_t to = ctx.getAttrInt("to", 0);
  Type elementType = convertElementType(to, ctx.getContext());
  if (!elementType)
    return ctx.fail(
        "cannot cast to " + onnxTypeName(to) +
        "; supported: FLOAT, DOUBLE, FLOAT16, BFLOAT16, INT64, INT32, INT16, INT8, BOOL");
  return setConverted(ctx, elementType);
}

/// CastLike (opset 15): Cast to the element type of input 1, whose values
/// are not read.
static LogicalResult importCastLike(NodeContext &ctx) {
  if (ctx.getNumInputs() != 2 || !ctx.hasInput(1))
    return ctx.fail("expects 2 inputs");
  Type elementType = ctx.getInputType(1).getElementType();
  return setConverted(ctx, elementType);
}

static LogicalResult importIdentity(NodeContext &ctx) {
  if (const HostTensor *input = ctx.getConstantInput(0))
    ctx.setOutput(0, *input);
  else
    ctx.setOutput(0, ctx.getInput(0));
  return success();
}

/// x < 0 ? alpha * f(x) : x, the shape of LeakyRelu and Elu. Its constants
/// are scalars of x's element type, so every step broadcasts: the
/// unchecked TensorBuilder builds it.
static LogicalResult importNegativeSlope(NodeContext &ctx, bool exponential, double alphaDefault) {
  TensorBuilder b(ctx.getBuilder(), ctx.getLoc());
  Value x = ctx.getInput(0);
  Type elementType = elementTypeOf(x);
  double alpha = ctx.getAttrFloat("alpha", alphaDefault);
  Value negativePart = x;
  if (exponential)
    negativePart = b.sub(b.unary(UnaryKind::exp, x), ctx.scalar(elementType, 1.0));
  Value scaled = b.mul(negativePart, ctx.scalar(elementType, alpha));
  Value isNegative = b.compare(CompareKind::lt, x, ctx.scalar(elementType, 0.0));
  ctx.setOutput(0, b.select(isNegative, scaled, x));
  return success();
}

static LogicalResult importClip(NodeContext &ctx) {
  Value x = ctx.getInput(0);
  Type elementType = elementTypeOf(x);
  std::optional<double> low, high;
  if (ctx.getOpset() < 11) {
    low = ctx.getAttrFloat("min", -std::numeric_limits<double>::infinity());
    high = ctx.getAttrFloat("max", std::numeric_limits<double>::infinity());
  }
  Value result = x;
  auto bound = [&](size_t index, std::optional<double> attrValue,
                   BinaryKind kind) -> LogicalResult {
    Value limit;
    if (ctx.hasInput(index))
      limit = ctx.getInput(index);
    else if (attrValue && std::isfinite(*attrValue))
      limit = ctx.scalar(elementType, *attrValue);
    else
      return success();
    FailureOr<Value> clipped = ctx.binary(kind, result, limit);
    if (failed(clipped))
      return failure();
    result = *clipped;
    return success();
  };
  if (failed(bound(1, low, BinaryKind::max)) || failed(bound(2, high, BinaryKind::min)))
    return failure();
  ctx.setOutput(0, result);
  return success();
}

/// min(max(alpha * x + beta, 0), 1), from scalars of x's element type (so
/// unchecked, as importNegativeSlope).
static LogicalResult importHardSigmoid(NodeContext &ctx) {
  TensorBuilder b(ctx.getBuilder(), ctx.getLoc());
  Value x = ctx.getInput(0);
  Type elementType = elementTypeOf(x);
  Value scaled = b.mul(x, ctx.scalar(elementType, ctx.getAttrFloat("alpha", 0.2)));
  Value shifted = b.add(scaled, ctx.scalar(elementType, ctx.getAttrFloat("beta", 0.5)));
  Value low = b.binary(BinaryKind::max, shifted, ctx.scalar(elementType, 0.0));
  ctx.setOutput(0, b.binary(BinaryKind::min, low, ctx.scalar(elementType, 1.0)));
  return success();
}

static LogicalResult importDropout(NodeContext &ctx) {
  // Opsets 7-11 define Dropout as an inference-time identity (the ratio
  // attribute only matters to trainers). From 12 on the ratio (input 1,
  // default 0.5) and training_mode (input 2, default false) are inputs.
  double ratio = 0.0;
  bool training = false;
  if (ctx.getOpset() >= 12) {
    ratio = 0.5;
    if (ctx.hasInput(1)) {
      FailureOr<double> value = ctx.getConstantScalar(1, "the dropout ratio");
      if (failed(value))
        return failure();
      ratio = *value;
    }
    if (ctx.hasInput(2)) {
      FailureOr<double> mode = ctx.getConstantScalar(2, "training_mode");
      if (failed(mode))
        return failure();
      training = *mode != 0;
    }
  }
  RankedTensorType type = ctx.getInputType(0);
  if (!training || ratio == 0.0) {
    if (const HostTensor *input = ctx.getConstantInput(0))
      ctx.setOutput(0, *input);
    else
      ctx.setOutput(0, ctx.getInput(0));
    if (ctx.hasOutput(1)) {
      // Nothing is dropped: the mask is all ones, bool from opset 10 on and
      // of the input's type before.
      Type maskType = ctx.getOpset() >= 10 ? ctx.getBuilder().getI1Type() : type.getElementType();
      ctx.setOutput(1, ctx.broadcastTo(ctx.scalar(maskType, 1.0), type.getShape()));
    }
    return success();
  }
  // The mask output stays unbuilt: Cleave keeps dropout's mask internal to
  // differentiate it, and the importer reports an error if a node reads it.
  if (ratio < 0.0 || ratio >= 1.0)
    return ctx.fail("ratio " + std::to_string(ratio) + " must lie in [0, 1)");
  if (!isa<FloatType>(type.getElementType()))
    return ctx.fail("training-mode dropout needs a float input");
  ctx.setOutput(0, DropoutOp::create(ctx.getBuilder(), ctx.getLoc(), ctx.getInput(0),
                                     ctx.getBuilder().getF64FloatAttr(ratio)));
  return success();
}

/// Registers `rule` for ONNX op type `name`, bound to the cleave op kind
/// that op type is.
template <typename Kind>
static void addKind(RuleTable &table, StringRef name, LogicalResult (*rule)(NodeContext &, Kind),
                    Kind kind) {
  table.add(name, [rule, kind](NodeContext &ctx) { return rule(ctx, kind); });
}

void cleave::importer::registerElementwiseRules(RuleTable &table) {
  addKind(table, "Add", importBinary, BinaryKind::add);
  addKind(table, "Sub", importBinary, BinaryKind::sub);
  addKind(table, "Mul", importBinary, BinaryKind::mul);
  addKind(table, "Div", importBinary, BinaryKind::div);
  addKind(table, "And", importBinary, BinaryKind::logical_and);
  addKind(table, "Or", importBinary, BinaryKind::logical_or);
  addKind(table, "Xor", importBinary, BinaryKind::logical_xor);
  table.add("Pow", importPow);

  addKind(table, "Equal", importCompare, CompareKind::eq);
  addKind(table, "Less", importCompare, CompareKind::lt);
  addKind(table, "LessOrEqual", importCompare, CompareKind::le);
  addKind(table, "Greater", importCompare, CompareKind::gt);
  addKind(table, "GreaterOrEqual", importCompare, CompareKind::ge);

  addKind(table, "Neg", importUnary, UnaryKind::neg);
  addKind(table, "Abs", importUnary, UnaryKind::abs);
  addKind(table, "Exp", importUnary, UnaryKind::exp);
  addKind(table, "Log", importUnary, UnaryKind::log);
  addKind(table, "Sqrt", importUnary, UnaryKind::sqrt);
  addKind(table, "Reciprocal", importUnary, UnaryKind::reciprocal);
  addKind(table, "Tanh", importUnary, UnaryKind::tanh);
  addKind(table, "Erf", importUnary, UnaryKind::erf);
  addKind(table, "Relu", importUnary, UnaryKind::relu);
  addKind(table, "Sigmoid", importUnary, UnaryKind::sigmoid);
  addKind(table, "Sin", importUnary, UnaryKind::sin);
  addKind(table, "Cos", importUnary, UnaryKind::cos);
  addKind(table, "Floor", importUnary, UnaryKind::floor);
  addKind(table, "Ceil", importUnary, UnaryKind::ceil);
  addKind(table, "Sign", importUnary, UnaryKind::sign);
  addKind(table, "Not", importUnary, UnaryKind::logical_not);
  addKind(table, "Softplus", importUnary, UnaryKind::softplus);
  addKind(table, "Round", importUnary, UnaryKind::round);

  table.add("Max", [](NodeContext &ctx) { return importVariadic(ctx, BinaryKind::max, false); });
  table.add("Min", [](NodeContext &ctx) { return importVariadic(ctx, BinaryKind::min, false); });
  table.add("Sum", [](NodeContext &ctx) { return importVariadic(ctx, BinaryKind::add, false); });
  table.add("Mean", [](NodeContext &ctx) { return importVariadic(ctx, BinaryKind::add, true); });
  table.add("Where", importWhere);
  table.add("Cast", importCast);
  table.add("Identity", importIdentity);
  table.add("LeakyRelu", [](NodeContext &ctx) { return importNegativeSlope(ctx, false, 0.01); });
  table.add("Elu", [](NodeContext &ctx) { return importNegativeSlope(ctx, true, 1.0); });
  table.add("Clip", importClip);
  table.add("HardSigmoid", importHardSigmoid);
  table.add("Dropout", importDropout);
  table.add("CastLike", importCastLike);
}
