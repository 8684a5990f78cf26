//===- ElementwiseExpressions.cpp - ops inside fused loops as C++ ---------===//
//
// Each elementwise op becomes one scalar expression of its operands'
// registers; the fused loop stores it in a register of its own.
//
//===----------------------------------------------------------------------===//
#include "compiler/Codegen/Rules.h"

#include "compiler/Codegen/Schedule.h"
#include "dialects/Cleave/IR/CleaveOps.h"

#include "llvm/Support/FormatVariadic.h"

#include <iterator>

using namespace mlir;
using namespace mlir::cleave;
using namespace mlir::cleave::codegen;

/// The unary kinds that are one C math call of their input; `fast` ones
/// take the target's vectorising variant where it has one.
namespace {
struct MathCall {
  UnaryKind kind;
  const char *function;
  bool fast;
};
} // namespace
static constexpr MathCall kMathCalls[] = {
    {UnaryKind::exp, "exp", true},    {UnaryKind::log, "log", false},
    {UnaryKind::sqrt, "sqrt", false}, {UnaryKind::tanh, "tanh", false},
    {UnaryKind::erf, "erf", true},    {UnaryKind::sin, "sin", false},
    {UnaryKind::cos, "cos", false},   {UnaryKind::floor, "floor", false},
    {UnaryKind::ceil, "ceil", false}, {UnaryKind::round, "nearbyint", false},
};

static FailureOr<std::string> unaryExpression(ExpressionContext &ctx, UnaryOp unary) {
  std::string x = ctx.reg(unary.getInput());
  const std::string T = ctx.type().str();
  auto call = [&](const std::string &function) { return function + "(" + x + ")"; };
  for (const MathCall &math : kMathCalls)
    if (math.kind == unary.getKind())
      return call(math.fast ? ctx.fastMath(math.function) : ctx.math(math.function));
  switch (unary.getKind()) {
  case UnaryKind::neg:
    return "(-" + x + ")";
  case UnaryKind::abs:
    return ctx.isFloatResult() ? call(ctx.math("fabs"))
                               : "(" + x + " < 0 ? -" + x + " : " + x + ")";
  case UnaryKind::rsqrt:
    return "(" + ctx.literal(1.0) + " / " + call(ctx.math("sqrt")) + ")";
  case UnaryKind::reciprocal:
    return "(" + ctx.literal(1.0) + " / " + x + ")";
  case UnaryKind::relu:
    return "(" + x + " > 0 ? " + x + " : " + T + "(0))";
  case UnaryKind::sigmoid:
    return "(" + ctx.literal(1.0) + " / (" + ctx.literal(1.0) + " + " + ctx.fastMath("exp") + "(-" +
           x + ")))";
  case UnaryKind::sign:
    return T + "((" + x + " > 0) - (" + x + " < 0))";
  case UnaryKind::logical_not:
    return "uint8_t(!" + x + ")";
  case UnaryKind::identity:
    return x;
  // PyTorch's softplus returns x itself above its threshold of 20.
  case UnaryKind::softplus:
    return "(" + x + " > " + ctx.literal(20.0) + " ? " + x + " : " + ctx.math("log1p") + "(" +
           call(ctx.math("exp")) + "))";
  default: // the math calls above
    break;
  }
  return unary.emitOpError() << "has no expression for its kind in generated code";
}

/// The binary kinds that are one C++ expression of their operands {0} and
/// {1} whatever the element type.
static constexpr std::pair<BinaryKind, const char *> kBinaryFormats[] = {
    {BinaryKind::add, "({0} + {1})"},
    {BinaryKind::sub, "({0} - {1})"},
    {BinaryKind::mul, "({0} * {1})"},
    {BinaryKind::div, "({0} / {1})"},
    {BinaryKind::max, "({0} >= {1} ? {0} : {1})"},
    {BinaryKind::min, "({0} <= {1} ? {0} : {1})"},
    {BinaryKind::logical_and, "uint8_t({0} && {1})"},
    {BinaryKind::logical_or, "uint8_t({0} || {1})"},
    {BinaryKind::logical_xor, "uint8_t(({0} != 0) != ({1} != 0))"},
};

static FailureOr<std::string> binaryExpression(ExpressionContext &ctx, BinaryOp binary) {
  std::string a = ctx.reg(binary.getLhs()), b = ctx.reg(binary.getRhs());
  for (auto [kind, format] : kBinaryFormats)
    if (kind == binary.getKind())
      return llvm::formatv(format, a, b).str();
  if (binary.getKind() == BinaryKind::pow)
    return ctx.isFloatResult() ? ctx.math("pow") + "(" + a + ", " + b + ")"
                               : ctx.type().str() + "(" + ctx.math("pow") + "(double(" + a +
                                     "), double(" + b + ")))";
  return binary.emitOpError() << "has no expression for its kind in generated code";
}

/// The C++ operator of each CompareKind, in the enum's order.
static constexpr const char *kComparisonSymbols[] = {"==", "!=", "<", "<=", ">", ">="};
static_assert(std::size(kComparisonSymbols) == getMaxEnumValForCompareKind() + 1,
              "one symbol per CompareKind");

static FailureOr<std::string> compareExpression(ExpressionContext &ctx, CompareOp compare) {
  return "uint8_t(" + ctx.reg(compare.getLhs()) + " " +
         kComparisonSymbols[static_cast<uint32_t>(compare.getKind())] + " " +
         ctx.reg(compare.getRhs()) + ")";
}

static FailureOr<std::string> selectExpression(ExpressionContext &ctx, SelectOp select) {
  return "(" + ctx.reg(select.getCondition()) + " ? " + ctx.reg(select.getOnTrue()) + " : " +
         ctx.reg(select.getOnFalse()) + ")";
}

static FailureOr<std::string> castExpression(ExpressionContext &ctx, CastOp castOp) {
  std::string x = ctx.reg(castOp.getInput());
  if (typeOf(castOp.getResult()).getElementType().isSignlessInteger(1))
    return "uint8_t(" + x + " != 0)";
  return ctx.type().str() + "(" + x + ")";
}

static FailureOr<std::string> broadcastExpression(ExpressionContext &ctx, BroadcastOp broadcast) {
  return ctx.reg(broadcast.getInput());
}

static FailureOr<std::string> randomMaskExpression(ExpressionContext &ctx, RandomMaskOp mask) {
  double keep = mask.getKeepProbability().convertToDouble();
  // Each mask draws from its own stream of the step's key.
  std::string element = "(uint64_t(" + std::to_string(mask.getStream()) + ") << 40) + uint64_t(" +
                        ctx.getFlatIndex().str() + ")";
  return "(cleave::rt::philox_keep(cleave::rt::philox_step_key(s.seed, s.step), " + element + ", " +
         ctx.literal(keep) + ") ? " + ctx.literal(1.0 / keep) + " : " + ctx.literal(0.0) + ")";
}

/// A splat constant materialised by a loop of its own (a library op reads
/// it): its literal.
static FailureOr<std::string> constantExpression(ExpressionContext &ctx) {
  Operation *op = ctx.getOperation();
  if (!isSplatConstant(op))
    return op->emitOpError() << "cannot be emitted inside a fused loop (only splat constants can)";
  return ctx.reg(op->getResult(0));
}

void mlir::cleave::codegen::registerElementwiseExpressions(RuleTable &table) {
  table.addExpressions(unaryExpression, binaryExpression, compareExpression, selectExpression,
                       castExpression, broadcastExpression, randomMaskExpression);
  table.addExpression<ConstantOp>(constantExpression);
}
