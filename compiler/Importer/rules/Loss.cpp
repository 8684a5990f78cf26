//===- Loss.cpp - import rules for ONNX's own loss ops --------------------===//
//
// NegativeLogLikelihoodLoss and SoftmaxCrossEntropyLoss, so that a model
// exported with its loss inside trains with `cleavec --loss model`. Both
// decompose exactly into existing ops: the target class's log-probability
// is a one-hot select summed over the class axis, the class weights a
// gather from the weight vector, ignore_index a select, and the reductions
// cleave.reduce. Their gradients follow from those ops' rules.
//
// cleave.cross_entropy is not used even for the plain 2-D mean case: it has
// no weights, no ignore_index and no log_prob output, and one path for all
// cases keeps the numerics identical between them.
//
//===----------------------------------------------------------------------===//
#include "compiler/Importer/NodeContext.h"

using namespace mlir;
using namespace mlir::cleave;
using namespace mlir::cleave::importer;

static RankedTensorType typeOf(Value value) { return cast<RankedTensorType>(value.getType()); }

/// NLL of `logProb` [N, C, d...] against `target` [N, d...] (input index
/// `targetInput`) with optional class weights (input `weightInput`); sets
/// output 0.
static LogicalResult negativeLogLikelihood(NodeContext &ctx, Value logProb, size_t targetInput,
                                           size_t weightInput) {
  RankedTensorType type = typeOf(logProb);
  ArrayRef<int64_t> shape = type.getShape();
  if (shape.size() < 2)
    return ctx.fail("input needs rank >= 2 ([N, C, d1, ...])");
  Type element = type.getElementType();
  Type i64 = ctx.getBuilder().getI64Type();
  SmallVector<int64_t> targetShape = {shape[0]};
  llvm::append_range(targetShape, shape.drop_front(2));
  if (ctx.getInputShape(targetInput) != ArrayRef<int64_t>(targetShape))
    return ctx.fail("target must have shape [N, d1, ...] of the input's [N, C, d1, ...]");
  if (!ctx.getInputType(targetInput).getElementType().isSignlessInteger())
    return ctx.fail("target must be an integer tensor");
  int64_t classes = shape[1];
  bool weighted = ctx.hasInput(weightInput);
  if (weighted && ctx.getInputShape(weightInput) != ArrayRef<int64_t>{classes})
    return ctx.fail("weight must have shape [C] = [" + std::to_string(classes) + "]");
  std::string reduction = ctx.getAttrString("reduction", "mean");
  if (reduction != "none" && reduction != "sum" && reduction != "mean")
    return ctx.fail("reduction '" + reduction + "' must be none, sum or mean");
  std::optional<int64_t> ignoreIndex;
  if (ctx.hasAttr("ignore_index"))
    ignoreIndex = ctx.getAttrInt("ignore_index", 0);

  // The target class's value is picked by a one-hot select and a sum over
  // the class axis: elementwise ops and a reduction, which shard along
  // every dimension (a gather from the flattened input would need it whole,
  // e.g. vocabulary-parallel logits). Ignored targets match no class. Each
  // target's weight is a gather from the class weights (ones without them)
  // at the target, class 0 where ignored: a target outside [0, C) makes that
  // gather report an index error at run time.
  SmallVector<int64_t> pickShape(targetShape);
  pickShape.insert(pickShape.begin() + 1, 1);
  std::vector<int64_t> targetDims(targetShape.begin(), targetShape.end());
  Value matched, safe, keep;
  if (const HostTensor *target = ctx.getConstantInput(targetInput)) {
    HostTensor match(i64, targetDims), safeHost(i64, targetDims);
    HostTensor kept(ctx.getBuilder().getI1Type(), targetDims);
    for (int64_t i = 0; i < match.getNumElements(); ++i) {
      int64_t label = target->getInt(i);
      bool ignored = ignoreIndex && label == *ignoreIndex;
      if (!ignored && (label < 0 || label >= classes))
        return ctx.fail("target " + std::to_string(label) + " is out of range for " +
                        std::to_string(classes) + " classes");
      match.setInt(i, ignored ? -1 : label);
      safeHost.setInt(i, ignored ? 0 : label);
      kept.setInt(i, ignored ? 0 : 1);
    }
    matched =
        ctx.constant(match.reshaped(std::vector<int64_t>(pickShape.begin(), pickShape.end())));
    safe = ctx.constant(safeHost);
    if (ignoreIndex)
      keep = ctx.constant(kept);
  } else {
    Value raw = ctx.convert(ctx.getInput(targetInput), i64);
    matched = safe = raw;
    if (ignoreIndex) {
      FailureOr<Value> kept = ctx.compare(CompareKind::ne, raw, ctx.scalar(i64, *ignoreIndex));
      if (failed(kept))
        return failure();
      FailureOr<Value> zeroed = ctx.select(*kept, raw, ctx.scalar(i64, 0));
      FailureOr<Value> unmatched = ctx.select(*kept, raw, ctx.scalar(i64, -1));
      if (failed(zeroed) || failed(unmatched))
        return failure();
      keep = *kept;
      safe = *zeroed;
      matched = *unmatched;
    }
    matched = ctx.reshape(matched, pickShape);
  }
  SmallVector<int64_t> classShape(shape.size(), 1);
  classShape[1] = classes;
  Value classIds = ctx.reshape(
      IotaOp::create(ctx.getBuilder(), ctx.getLoc(), RankedTensorType::get({classes}, i64), 0, 1),
      classShape);
  FailureOr<Value> isTarget = ctx.compare(CompareKind::eq, matched, classIds);
  if (failed(isTarget))
    return failure();
  FailureOr<Value> selected = ctx.select(*isTarget, logProb, ctx.scalar(element, 0.0));
  if (failed(selected))
    return failure();
  Value picked = ctx.reduce(ReduceKind::sum, *selected, {1}, /*keepDims=*/false);

  Value classWeights;
  if (weighted) {
    if (ctx.getInputType(weightInput).getElementType() != element)
      return ctx.fail("weight must have the input's element type");
    classWeights = ctx.getInput(weightInput);
  } else {
    classWeights = ctx.broadcastTo(ctx.scalar(element, 1.0), {classes});
  }
  Value weight =
      GatherOp::create(ctx.getBuilder(), ctx.getLoc(), RankedTensorType::get(targetShape, element),
                       classWeights, safe, 0);
  if (keep) {
    FailureOr<Value> kept = ctx.select(keep, weight, ctx.scalar(element, 0.0));
    if (failed(kept))
      return failure();
    weight = *kept;
  }
  FailureOr<Value> product = ctx.binary(BinaryKind::mul, ctx.unary(UnaryKind::neg, picked), weight);
  if (failed(product))
    return failure();
  Value loss = *product;
  if (reduction == "none") {
    ctx.setOutput(0, loss);
    return success();
  }
  SmallVector<int64_t> all;
  for (int64_t d = 0; d < (int64_t)targetShape.size(); ++d)
    all.push_back(d);
  if (reduction == "sum") {
    ctx.setOutput(0, ctx.reduce(ReduceKind::sum, loss, all, false));
    return success();
  }
  if (!weighted && !ignoreIndex) {
    ctx.setOutput(0, ctx.reduce(ReduceKind::mean, loss, all, false));
    return success();
  }
  // The weighted mean divides by the total weight of the targets that count
  // (all ignored: 0 / 0, NaN, as in PyTorch).
  Value broadcastWeight = ctx.broadcastTo(weight, targetShape);
  return ctx.setOutput(0, ctx.binary(BinaryKind::div, ctx.reduce(ReduceKind::sum, loss, all, false),
                                     ctx.reduce(ReduceKind::sum, broadcastWeight, all, false)));
}

static LogicalResult importNegativeLogLikelihoodLoss(NodeContext &ctx) {
  if (!isa<FloatType>(ctx.getInputType(0).getElementType()))
    return ctx.fail("input must be a float tensor");
  return negativeLogLikelihood(ctx, ctx.getInput(0), 1, 2);
}

static LogicalResult importSoftmaxCrossEntropyLoss(NodeContext &ctx) {
  RankedTensorType type = ctx.getInputType(0);
  if (!isa<FloatType>(type.getElementType()))
    return ctx.fail("scores must be a float tensor");
  if (type.getRank() < 2)
    return ctx.fail("scores need rank >= 2 ([N, C, d1, ...])");
  auto logSoftmax = SoftmaxOp::create(ctx.getBuilder(), ctx.getLoc(), ctx.getInput(0), 1);
  logSoftmax.setLog(true);
  if (failed(negativeLogLikelihood(ctx, logSoftmax.getResult(), 1, 2)))
    return failure();
  ctx.setOutput(1, logSoftmax.getResult());
  return success();
}

void cleave::importer::registerLossRules(RuleTable &table) {
  table.add("NegativeLogLikelihoodLoss", importNegativeLogLikelihoodLoss);
  table.add("SoftmaxCrossEntropyLoss", importSoftmaxCrossEntropyLoss);
}
