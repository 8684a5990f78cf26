//===- Loss.cpp - import rules for ONNX's own loss ops --------------------===//
//
// NegativeLogLikelihoodLoss and SoftmaxCrossEntropyLoss, so that a model
// exported with its loss inside trains with `cleavec --loss model`. Both
// decompose exactly into existing ops: the target class's log-probability
// is a gather at element offsets (ElementOffsets.h), the class weights a
// gather from the weight vector, ignore_index a select, and the reductions
// cleave.reduce. Their gradients follow from those ops' rules.
//
// cleave.cross_entropy is not used even for the plain 2-D mean case: it has
// no weights, no ignore_index and no log_prob output, and one path for all
// cases keeps the numerics identical between them.
//
//===----------------------------------------------------------------------===//
#include "compiler/Importer/rules/ElementOffsets.h"

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

  // Targets that are ignored read class 0 instead (an ignore_index may lie
  // outside [0, C)); their weight becomes 0 below.
  SmallVector<int64_t> pickShape(targetShape);
  pickShape.insert(pickShape.begin() + 1, 1);
  Value classIndex, keep;
  std::optional<HostTensor> hostClass;
  if (const HostTensor *target = ctx.getConstantInput(targetInput)) {
    HostTensor host(i64, std::vector<int64_t>(pickShape.begin(), pickShape.end()));
    HostTensor kept(ctx.getBuilder().getI1Type(), std::vector<int64_t>(targetShape.begin(), targetShape.end()));
    for (int64_t i = 0; i < host.getNumElements(); ++i) {
      int64_t label = target->getInt(i);
      bool ignored = ignoreIndex && label == *ignoreIndex;
      if (!ignored && (label < 0 || label >= classes))
        return ctx.fail("target " + std::to_string(label) + " is out of range for " +
                        std::to_string(classes) + " classes");
      host.setInt(i, ignored ? 0 : label);
      kept.setInt(i, ignored ? 0 : 1);
    }
    hostClass = host;
    if (ignoreIndex)
      keep = ctx.constant(kept);
  } else {
    classIndex = ctx.reshape(ctx.convert(ctx.getInput(targetInput), i64), pickShape);
    if (ignoreIndex) {
      FailureOr<Value> kept =
          ctx.compare(CompareKind::ne, classIndex, ctx.scalar(i64, *ignoreIndex));
      if (failed(kept))
        return failure();
      FailureOr<Value> safe = ctx.select(*kept, classIndex, ctx.scalar(i64, 0));
      if (failed(safe))
        return failure();
      classIndex = *safe;
      keep = ctx.reshape(*kept, targetShape);
    }
  }
  FailureOr<Value> offsets = elementOffsets(ctx, hostClass ? &*hostClass : nullptr, classIndex,
                                            shape, /*axis=*/1, /*allowNegative=*/false);
  if (failed(offsets))
    return failure();
  Value picked = ctx.reshape(gatherAtOffsets(ctx, logProb, *offsets), targetShape);

  // Per-element weight: weight[target], 0 where ignored; none at all when
  // neither weights nor ignore_index are given.
  Value weight;
  if (weighted) {
    if (ctx.getInputType(weightInput).getElementType() != element)
      return ctx.fail("weight must have the input's element type");
    Value classes = hostClass ? ctx.constant(hostClass->reshaped(
                                    std::vector<int64_t>(targetShape.begin(), targetShape.end())))
                              : ctx.reshape(classIndex, targetShape);
    auto gatheredType = RankedTensorType::get(targetShape, element);
    weight = GatherOp::create(ctx.getBuilder(), ctx.getLoc(), gatheredType,
                              ctx.getInput(weightInput), classes, 0);
  }
  if (keep) {
    FailureOr<Value> kept =
        ctx.select(keep, weight ? weight : ctx.scalar(element, 1.0), ctx.scalar(element, 0.0));
    if (failed(kept))
      return failure();
    weight = *kept;
  }
  Value loss = ctx.unary(UnaryKind::neg, picked);
  if (weight) {
    FailureOr<Value> weighted = ctx.binary(BinaryKind::mul, loss, weight);
    if (failed(weighted))
      return failure();
    loss = *weighted;
  }
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
  if (!weight) {
    ctx.setOutput(0, ctx.reduce(ReduceKind::mean, loss, all, false));
    return success();
  }
  // The weighted mean divides by the total weight of the targets that count
  // (all ignored: 0 / 0, NaN, as in PyTorch).
  Value broadcastWeight = ctx.broadcastTo(weight, targetShape);
  FailureOr<Value> mean = ctx.binary(BinaryKind::div, ctx.reduce(ReduceKind::sum, loss, all, false),
                                     ctx.reduce(ReduceKind::sum, broadcastWeight, all, false));
  if (failed(mean))
    return failure();
  ctx.setOutput(0, *mean);
  return success();
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
