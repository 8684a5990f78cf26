//===- Normalization.cpp - import rules for softmax and normalisations ----===//
#include "compiler/Importer/NodeContext.h"

#include <numeric>

using namespace mlir;
using namespace mlir::cleave;
using namespace mlir::cleave::importer;

static LogicalResult importSoftmax(NodeContext &ctx, bool log) {
  RankedTensorType type = ctx.getInputType(0);
  if (!isa<FloatType>(type.getElementType()))
    return ctx.fail("input must be a float tensor");
  int64_t rank = type.getRank();
  Value input = ctx.getInput(0);
  auto build = [&](Value value, int64_t axis) {
    auto op = SoftmaxOp::create(ctx.getBuilder(), ctx.getLoc(), value, axis);
    op.setLog(log);
    return op.getResult();
  };
  if (ctx.getOpset() >= 13) {
    FailureOr<int64_t> axis = ctx.normalizeAxis(ctx.getAttrInt("axis", -1), rank);
    if (failed(axis))
      return failure();
    ctx.setOutput(0, build(input, *axis));
    return success();
  }
  // Before opset 13 softmax flattens to 2-D at `axis` and normalises each
  // row over all the trailing dimensions together.
  int64_t axis = ctx.getAttrInt("axis", 1);
  if (axis < 0)
    axis += rank;
  if (axis < 0 || axis > rank)
    return ctx.fail("axis is out of range");
  ArrayRef<int64_t> shape = type.getShape();
  Value rows =
      ctx.reshape(input, {product(shape.take_front(axis)), product(shape.drop_front(axis))});
  ctx.setOutput(0, ctx.reshape(build(rows, 1), shape));
  return success();
}

static LogicalResult importLayerNormalization(NodeContext &ctx) {
  RankedTensorType type = ctx.getInputType(0);
  int64_t rank = type.getRank();
  FailureOr<int64_t> axis = ctx.normalizeAxis(ctx.getAttrInt("axis", -1), rank);
  if (failed(axis))
    return failure();
  ArrayRef<int64_t> normalized = type.getShape().drop_front(*axis);
  std::vector<int64_t> check;
  auto affine = [&](size_t index) -> FailureOr<Value> {
    if (!broadcastShapes(ctx.getInputShape(index), normalized, check) ||
        ArrayRef<int64_t>(check) != normalized)
      return ctx.fail("scale and bias must broadcast to the normalised dimensions");
    return ctx.broadcastTo(ctx.getInput(index), normalized);
  };
  FailureOr<Value> scale = affine(1);
  if (failed(scale))
    return failure();
  Value bias;
  if (ctx.hasInput(2)) {
    FailureOr<Value> value = affine(2);
    if (failed(value))
      return failure();
    bias = *value;
  }
  double epsilon = ctx.getAttrFloat("epsilon", 1e-5);
  Value x = ctx.getInput(0);
  auto op = LayerNormOp::create(ctx.getBuilder(), ctx.getLoc(), type, x, *scale, bias,
                                ctx.getBuilder().getI64IntegerAttr(*axis),
                                ctx.getBuilder().getF64FloatAttr(epsilon));
  ctx.setOutput(0, op.getResult());
  // The optional Mean and InvStdDev outputs, kept with unit dimensions.
  if (ctx.hasOutput(1) || ctx.hasOutput(2)) {
    SmallVector<int64_t> axes;
    for (int64_t d = *axis; d < rank; ++d)
      axes.push_back(d);
    Value mean = ctx.reduce(ReduceKind::mean, x, axes, /*keepDims=*/true);
    FailureOr<Value> centered = ctx.binary(BinaryKind::sub, x, mean);
    if (failed(centered))
      return failure();
    FailureOr<Value> squared = ctx.binary(BinaryKind::mul, *centered, *centered);
    if (failed(squared))
      return failure();
    Value variance = ctx.reduce(ReduceKind::mean, *squared, axes, true);
    FailureOr<Value> shifted =
        ctx.binary(BinaryKind::add, variance, ctx.scalar(type.getElementType(), epsilon));
    if (failed(shifted))
      return failure();
    ctx.setOutput(1, mean);
    ctx.setOutput(2, ctx.unary(UnaryKind::rsqrt, *shifted));
  }
  return success();
}

static LogicalResult importBatchNormalization(NodeContext &ctx) {
  RankedTensorType type = ctx.getInputType(0);
  if (type.getRank() < 2)
    return ctx.fail("input needs rank >= 2 ([N, C, ...])");
  int64_t channels = type.getDimSize(1);
  for (size_t i = 1; i <= 4; ++i)
    if (ctx.getInputShape(i) != ArrayRef<int64_t>{channels})
      return ctx.fail("scale, bias, mean and var must have shape [" + std::to_string(channels) +
                      "]");
  // BatchNormalization-7 can normalise each activation on its own.
  if (ctx.getOpset() < 9 && ctx.getAttrInt("spatial", 1) == 0)
    return ctx.fail("spatial=0 (per-activation statistics) is not supported");
  // Opset 14 says so with training_mode; earlier opsets by asking for the
  // updated statistics as outputs.
  bool training = ctx.getOpset() >= 14 ? ctx.getAttrInt("training_mode", 0) != 0
                                       : ctx.hasOutput(1) || ctx.hasOutput(2);
  double epsilon = ctx.getAttrFloat("epsilon", 1e-5);
  // ONNX weights the old running value by `momentum`, PyTorch and Cleave
  // the new batch statistic; rounded at float32 precision so that ONNX's
  // 0.9 gives 0.1 rather than 0.100000024.
  double momentum = asWrittenFloat(1.0 - ctx.getAttrFloat("momentum", 0.9));
  Builder &b = ctx.getBuilder();
  if (training) {
    // Opsets 9-13 also list saved_mean/saved_var outputs (PyTorch exports
    // them unused); the importer reports it if anything reads them.
    auto op = BatchNormOp::create(
        ctx.getBuilder(), ctx.getLoc(), TypeRange{type, ctx.getInputType(3), ctx.getInputType(4)},
        ctx.getInput(0), ctx.getInput(1), ctx.getInput(2), ctx.getInput(3), ctx.getInput(4),
        b.getF64FloatAttr(epsilon), b.getF64FloatAttr(momentum));
    ctx.setOutput(0, op.getResult());
    ctx.setOutput(1, op.getNewRunningMean());
    ctx.setOutput(2, op.getNewRunningVar());
    return success();
  }
  // Inference: y = (x - mean) * scale / sqrt(var + eps) + bias, per channel.
  std::vector<int64_t> channelShape(type.getRank() - 1, 1);
  channelShape[0] = channels;
  Type elementType = type.getElementType();
  auto perChannel = [&](Value value) { return ctx.reshape(value, channelShape); };
  FailureOr<Value> shiftedVar =
      ctx.binary(BinaryKind::add, ctx.getInput(4), ctx.scalar(elementType, epsilon));
  if (failed(shiftedVar))
    return failure();
  FailureOr<Value> factor =
      ctx.binary(BinaryKind::mul, ctx.getInput(1), ctx.unary(UnaryKind::rsqrt, *shiftedVar));
  if (failed(factor))
    return failure();
  FailureOr<Value> centered =
      ctx.binary(BinaryKind::sub, ctx.getInput(0), perChannel(ctx.getInput(3)));
  if (failed(centered))
    return failure();
  FailureOr<Value> scaled = ctx.binary(BinaryKind::mul, *centered, perChannel(*factor));
  if (failed(scaled))
    return failure();
  return ctx.setOutput(0, ctx.binary(BinaryKind::add, *scaled, perChannel(ctx.getInput(2))));
}

/// InstanceNormalization: layer_norm over each (n, c)'s spatial elements
/// (with a unit scale), then the per-channel scale and bias.
static LogicalResult importInstanceNormalization(NodeContext &ctx) {
  RankedTensorType type = ctx.getInputType(0);
  if (type.getRank() < 3)
    return ctx.fail("input needs rank >= 3 ([N, C, spatial...])");
  if (!isa<FloatType>(type.getElementType()))
    return ctx.fail("input must be a float tensor");
  ArrayRef<int64_t> shape = type.getShape();
  int64_t channels = shape[1], spatial = product(shape.drop_front(2));
  for (size_t i = 1; i <= 2; ++i)
    if (ctx.getInputShape(i) != ArrayRef<int64_t>{channels})
      return ctx.fail("scale and bias must have shape [" + std::to_string(channels) + "]");
  Type element = type.getElementType();
  Value rows = ctx.reshape(ctx.getInput(0), {shape[0], channels, spatial});
  Value unit = ctx.broadcastTo(ctx.scalar(element, 1.0), {spatial});
  Builder &b = ctx.getBuilder();
  auto norm = LayerNormOp::create(ctx.getBuilder(), ctx.getLoc(), rows.getType(), rows, unit,
                                  Value(), b.getI64IntegerAttr(2),
                                  b.getF64FloatAttr(ctx.getAttrFloat("epsilon", 1e-5)));
  std::vector<int64_t> channelShape(type.getRank() - 1, 1);
  channelShape[0] = channels;
  FailureOr<Value> scaled = ctx.binary(BinaryKind::mul, ctx.reshape(norm.getResult(), shape),
                                       ctx.reshape(ctx.getInput(1), channelShape));
  if (failed(scaled))
    return failure();
  return ctx.setOutput(
      0, ctx.binary(BinaryKind::add, *scaled, ctx.reshape(ctx.getInput(2), channelShape)));
}

void cleave::importer::registerNormalizationRules(RuleTable &table) {
  table.add("Softmax", [](NodeContext &ctx) { return importSoftmax(ctx, false); });
  table.add("LogSoftmax", [](NodeContext &ctx) { return importSoftmax(ctx, true); });
  table.add("LayerNormalization", importLayerNormalization);
  table.add("BatchNormalization", importBatchNormalization);
  table.add("InstanceNormalization", importInstanceNormalization);
}
