//===- Reduction.cpp - import rules for ONNX reductions -------------------===//
#include "compiler/Importer/NodeContext.h"
#include "dialects/Cleave/IR/TensorBuilder.h"

#include <algorithm>

using namespace mlir;
using namespace mlir::cleave;
using namespace mlir::cleave::importer;

/// Sorted, non-negative axes, from the attribute (ReduceSum before opset
/// 13, the others before 18) or from input 1.
static FailureOr<SmallVector<int64_t>> getReductionAxes(NodeContext &ctx) {
  int64_t rank = ctx.getInputType(0).getRank();
  FailureOr<std::vector<int64_t>> axes =
      ctx.getAttrOrConstantInts(ctx.hasAttr("axes"), "axes", 1, "axes");
  if (failed(axes))
    return failure();
  SmallVector<int64_t> normalized;
  if (axes->empty()) {
    // No axes: reduce everything, unless noop_with_empty_axes says otherwise.
    if (ctx.getAttrInt("noop_with_empty_axes", 0) != 0)
      return normalized;
    for (int64_t i = 0; i < rank; ++i)
      normalized.push_back(i);
    return normalized;
  }
  for (int64_t axis : *axes) {
    FailureOr<int64_t> value = ctx.normalizeAxis(axis, rank);
    if (failed(value))
      return failure();
    if (llvm::is_contained(normalized, *value))
      return ctx.fail("axis " + std::to_string(axis) + " appears twice");
    normalized.push_back(*value);
  }
  llvm::sort(normalized);
  return normalized;
}

/// The keepdims attribute (default 1), which must be 0 or 1.
static FailureOr<bool> getKeepDims(NodeContext &ctx) {
  int64_t keepDims = ctx.getAttrInt("keepdims", 1);
  if (keepDims != 0 && keepDims != 1)
    return ctx.fail("keepdims must be 0 or 1, not " + std::to_string(keepDims));
  return keepDims == 1;
}

/// Builds a reduction of input 0 over the sorted, non-empty `axes`.
using ReduceBuilder =
    llvm::function_ref<FailureOr<Value>(Value input, ArrayRef<int64_t> axes, bool keepDims)>;

/// What every reduction node shares: it passes input 0 through when there
/// is nothing to reduce (a 0-d input, or no axes under
/// noop_with_empty_axes), else `reduce` builds output 0 from its axes and
/// keepdims.
static LogicalResult importReduction(NodeContext &ctx, ReduceBuilder reduce) {
  if (ctx.getInputType(0).getRank() == 0) {
    ctx.setOutput(0, ctx.getInput(0));
    return success();
  }
  FailureOr<SmallVector<int64_t>> axes = getReductionAxes(ctx);
  if (failed(axes))
    return failure();
  Value input = ctx.getInput(0);
  if (axes->empty()) {
    ctx.setOutput(0, input);
    return success();
  }
  FailureOr<bool> keepDims = getKeepDims(ctx);
  if (failed(keepDims))
    return failure();
  return ctx.setOutput(0, reduce(input, *axes, *keepDims));
}

/// Reduce `kind` after squaring each element (ReduceSumSquare, ReduceL2) and
/// applying `post` to the result (sqrt for ReduceL2).
static LogicalResult importReduce(NodeContext &ctx, ReduceKind kind,
                                  std::optional<BinaryKind> squareWith = std::nullopt,
                                  std::optional<UnaryKind> post = std::nullopt) {
  return importReduction(
      ctx, [&](Value input, ArrayRef<int64_t> axes, bool keepDims) -> FailureOr<Value> {
        if (squareWith) {
          FailureOr<Value> squared = ctx.binary(*squareWith, input, input);
          if (failed(squared))
            return failure();
          input = *squared;
        }
        Value result = ctx.reduce(kind, input, axes, keepDims);
        return post ? ctx.unary(*post, result) : result;
      });
}

/// log(sum(exp(x))) over the axes, shifted by the maximum so that exp
/// cannot overflow: m + log(sum(exp(x - m))). The gradient through m
/// cancels exactly, so autodiff gives softmax(x) as it should.
static LogicalResult importReduceLogSumExp(NodeContext &ctx) {
  if (!isa<FloatType>(ctx.getInputType(0).getElementType()))
    return ctx.fail("only float inputs are supported");
  return importReduction(
      ctx, [&](Value input, ArrayRef<int64_t> axes, bool keepDims) -> FailureOr<Value> {
        Value max = ctx.reduce(ReduceKind::max, input, axes, /*keepDims=*/true);
        FailureOr<Value> shifted = ctx.binary(BinaryKind::sub, input, max);
        if (failed(shifted))
          return failure();
        Value sum = ctx.reduce(ReduceKind::sum, ctx.unary(UnaryKind::exp, *shifted), axes, true);
        FailureOr<Value> result = ctx.binary(BinaryKind::add, ctx.unary(UnaryKind::log, sum), max);
        if (failed(result) || keepDims)
          return result;
        return ctx.reshape(*result, reducedShape(TensorBuilder::shapeOf(input), axes, false));
      });
}

/// ReduceL1 (sum of |x|) and ReduceLogSum (log of the sum): a reduction
/// with an elementwise function before or after it.
static LogicalResult importReduceWith(NodeContext &ctx, std::optional<UnaryKind> pre,
                                      std::optional<UnaryKind> post) {
  if (post && !isa<FloatType>(ctx.getInputType(0).getElementType()))
    return ctx.fail("only float inputs are supported");
  FailureOr<SmallVector<int64_t>> axes =
      ctx.getInputType(0).getRank() == 0 ? SmallVector<int64_t>() : getReductionAxes(ctx);
  if (failed(axes))
    return failure();
  FailureOr<bool> keepDims = getKeepDims(ctx);
  if (failed(keepDims))
    return failure();
  Value result = ctx.getInput(0);
  if (pre)
    result = ctx.unary(*pre, result);
  if (!axes->empty())
    result = ctx.reduce(ReduceKind::sum, result, *axes, *keepDims);
  if (post)
    result = ctx.unary(*post, result);
  ctx.setOutput(0, result);
  return success();
}

void cleave::importer::registerReductionRules(RuleTable &table) {
  table.add("ReduceSum", [](NodeContext &ctx) { return importReduce(ctx, ReduceKind::sum); });
  table.add("ReduceMean", [](NodeContext &ctx) { return importReduce(ctx, ReduceKind::mean); });
  table.add("ReduceMax", [](NodeContext &ctx) { return importReduce(ctx, ReduceKind::max); });
  table.add("ReduceMin", [](NodeContext &ctx) { return importReduce(ctx, ReduceKind::min); });
  table.add("ReduceProd", [](NodeContext &ctx) { return importReduce(ctx, ReduceKind::prod); });
  table.add("ReduceSumSquare",
            [](NodeContext &ctx) { return importReduce(ctx, ReduceKind::sum, BinaryKind::mul); });
  table.add("ReduceL2", [](NodeContext &ctx) {
    return importReduce(ctx, ReduceKind::sum, BinaryKind::mul, UnaryKind::sqrt);
  });
  table.add("ReduceLogSumExp", importReduceLogSumExp);
  table.add("ReduceLogSum",
            [](NodeContext &ctx) { return importReduceWith(ctx, std::nullopt, UnaryKind::log); });
  table.add("ReduceL1",
            [](NodeContext &ctx) { return importReduceWith(ctx, UnaryKind::abs, std::nullopt); });
}
