//===- Indexing.cpp - import rules for ONNX ops that compute positions ---===//
//
// ArgMax/ArgMin, Hardmax, TopK and OneHot, built from reductions, compares
// and selects against an iota along the axis. Every piece is exact (a
// position is an integer, a picked value is x plus zeros), and the values
// TopK returns carry their gradient back to the positions they came from.
//
//===----------------------------------------------------------------------===//
#include "compiler/Importer/NodeContext.h"

#include "dialects/Cleave/IR/TensorBuilder.h"

#include <limits>

using namespace mlir;
using namespace mlir::cleave;
using namespace mlir::cleave::importer;

/// 0, 1, ..., shape[axis] - 1 along `axis`, as i64 of `shape`'s rank with
/// every other dimension 1 (it broadcasts against a tensor of `shape`).
static Value iotaAlong(NodeContext &ctx, ArrayRef<int64_t> shape, int64_t axis) {
  Type i64 = ctx.getBuilder().getI64Type();
  auto type = RankedTensorType::get({shape[axis]}, i64);
  Value iota = IotaOp::create(ctx.getBuilder(), ctx.getLoc(), type, 0, 1);
  SmallVector<int64_t> expanded(shape.size(), 1);
  expanded[axis] = shape[axis];
  return ctx.reshape(iota, expanded);
}

/// A 0-d constant holding the largest (or lowest) value of `type`: infinity
/// for floats, the integer limits otherwise.
static Value extremeScalar(NodeContext &ctx, Type type, bool largest) {
  HostTensor tensor(type, {});
  if (isa<FloatType>(type))
    tensor.setDouble(0, largest ? std::numeric_limits<double>::infinity()
                                : -std::numeric_limits<double>::infinity());
  else
    tensor.setInt(0, largest ? std::numeric_limits<int64_t>::max()
                             : std::numeric_limits<int64_t>::min());
  return ctx.constant(tensor);
}

static Value i64Scalar(NodeContext &ctx, int64_t value) {
  return ctx.constant(HostTensor::fromInts(ctx.getBuilder().getI64Type(), {}, {value}));
}

/// Reductions run on f32, f64 and i64 tensors; other integers widen first.
static Value reducible(NodeContext &ctx, Value value) {
  Type type = TensorBuilder::elementTypeOf(value);
  if (isa<FloatType>(type) || type.isSignlessInteger(64))
    return value;
  return ctx.convert(value, ctx.getBuilder().getI64Type());
}

/// The position of the first (or last) maximum (or minimum) of `x` along
/// `axis`, as i64 with the axis kept as 1: the extremum, where x equals it,
/// and the smallest (largest) position among those.
static Value argExtremum(NodeContext &ctx, Value x, int64_t axis, bool max, bool last) {
  TensorBuilder b(ctx.getBuilder(), ctx.getLoc());
  ArrayRef<int64_t> shape = TensorBuilder::shapeOf(x);
  Value extremum = b.reduce(max ? ReduceKind::max : ReduceKind::min, x, {axis}, true);
  Value hit = b.compare(CompareKind::eq, x, extremum);
  Value positions = iotaAlong(ctx, shape, axis);
  Value candidates = b.select(hit, positions, i64Scalar(ctx, last ? -1 : shape[axis]));
  return b.reduce(last ? ReduceKind::max : ReduceKind::min, candidates, {axis}, true);
}

static SmallVector<int64_t> dropAxis(ArrayRef<int64_t> shape, int64_t axis) {
  SmallVector<int64_t> result(shape);
  result.erase(result.begin() + axis);
  return result;
}

static LogicalResult importArgExtremum(NodeContext &ctx, bool max) {
  RankedTensorType type = ctx.getInputType(0);
  if (type.getRank() == 0)
    return ctx.fail("needs an input of rank 1 or more");
  if (type.getElementType().isSignlessInteger(1))
    return ctx.fail("bool inputs are not supported");
  FailureOr<int64_t> axis = ctx.normalizeAxis(ctx.getAttrInt("axis", 0), type.getRank());
  if (failed(axis))
    return failure();
  int64_t keepDims = ctx.getAttrInt("keepdims", 1);
  int64_t last = ctx.getAttrInt("select_last_index", 0);
  if ((keepDims != 0 && keepDims != 1) || (last != 0 && last != 1))
    return ctx.fail("keepdims and select_last_index must be 0 or 1");
  Value x = reducible(ctx, ctx.getInput(0));
  Value result = argExtremum(ctx, x, *axis, max, last == 1);
  if (keepDims == 0)
    result = ctx.reshape(result, dropAxis(type.getShape(), *axis));
  ctx.setOutput(0, result);
  return success();
}

/// 1 at the first maximum along the axis, 0 elsewhere. Before opset 13 the
/// axis splits the input into a 2-D [outer, inner] and the maximum is taken
/// over all of inner.
static LogicalResult importHardmax(NodeContext &ctx) {
  RankedTensorType type = ctx.getInputType(0);
  if (!isa<FloatType>(type.getElementType()))
    return ctx.fail("only float inputs are supported");
  if (type.getRank() == 0)
    return ctx.fail("needs an input of rank 1 or more");
  bool flattened = ctx.getOpset() < 13;
  FailureOr<int64_t> axis =
      ctx.normalizeAxis(ctx.getAttrInt("axis", flattened ? 1 : -1), type.getRank());
  if (failed(axis))
    return failure();
  Value x = ctx.getInput(0);
  int64_t reduced = *axis;
  if (flattened) {
    ArrayRef<int64_t> shape = type.getShape();
    int64_t outer = 1, inner = 1;
    for (int64_t d = 0; d < type.getRank(); ++d)
      (d < *axis ? outer : inner) *= shape[d];
    x = ctx.reshape(x, {outer, inner});
    reduced = 1;
  }
  TensorBuilder b(ctx.getBuilder(), ctx.getLoc());
  Value position = argExtremum(ctx, x, reduced, /*max=*/true, /*last=*/false);
  Value hit =
      b.compare(CompareKind::eq, iotaAlong(ctx, TensorBuilder::shapeOf(x), reduced), position);
  Value result = ctx.convert(hit, type.getElementType());
  ctx.setOutput(0, ctx.reshape(result, type.getShape()));
  return success();
}

/// The k largest (or smallest) elements along the axis, in order, and their
/// positions; equal elements come lowest position first, as ONNX specifies.
/// Each step takes the first extremum among the positions not yet taken,
/// so the cost is k passes over the input: meant for the small k of
/// routing and beam search, not for sorting.
static LogicalResult importTopK(NodeContext &ctx) {
  RankedTensorType type = ctx.getInputType(0);
  if (type.getRank() == 0)
    return ctx.fail("needs an input of rank 1 or more");
  if (type.getElementType().isSignlessInteger(1))
    return ctx.fail("bool inputs are not supported");
  FailureOr<int64_t> axis = ctx.normalizeAxis(ctx.getAttrInt("axis", -1), type.getRank());
  if (failed(axis))
    return failure();
  int64_t k;
  if (ctx.getOpset() < 10) {
    k = ctx.getAttrInt("k", -1);
  } else {
    FailureOr<std::vector<int64_t>> values = ctx.getConstantInts(1, "k");
    if (failed(values))
      return failure();
    if (values->size() != 1)
      return ctx.fail("k must hold one value");
    k = (*values)[0];
  }
  int64_t n = type.getShape()[*axis];
  if (k < 1 || k > n)
    return ctx.fail("k = " + std::to_string(k) + " must lie in [1, " + std::to_string(n) +
                    "], the size of axis " + std::to_string(*axis) +
                    " (empty results are not supported)");
  bool largest = ctx.getAttrInt("largest", 1) != 0;

  TensorBuilder b(ctx.getBuilder(), ctx.getLoc());
  Value x = ctx.getInput(0);
  Value summable = reducible(ctx, x);
  Value candidates = summable;
  Type valueType = TensorBuilder::elementTypeOf(x);
  Type summableType = TensorBuilder::elementTypeOf(summable);
  // Taken positions hold the opposite extreme from then on, and are masked
  // out of the ties too: x may itself hold that extreme (a -inf mask).
  Value spent = extremeScalar(ctx, summableType, !largest);
  Value zero = ctx.scalar(summableType, 0.0);
  Value positions = iotaAlong(ctx, type.getShape(), *axis);
  Value beyond = i64Scalar(ctx, n);
  Value taken;
  SmallVector<Value> values, indices;
  for (int64_t step = 0; step < k; ++step) {
    Value extremum =
        b.reduce(largest ? ReduceKind::max : ReduceKind::min, candidates, {*axis}, true);
    Value hit = b.compare(CompareKind::eq, candidates, extremum);
    if (taken)
      hit = b.binary(BinaryKind::logical_and, hit, b.unary(UnaryKind::logical_not, taken));
    Value position = b.reduce(ReduceKind::min, b.select(hit, positions, beyond), {*axis}, true);
    Value picked = b.compare(CompareKind::eq, positions, position);
    // The picked element plus zeros: exact, and its gradient goes back to it.
    Value value = b.reduce(ReduceKind::sum, b.select(picked, summable, zero), {*axis}, true);
    values.push_back(ctx.convert(value, valueType));
    indices.push_back(position);
    if (step + 1 == k)
      break;
    taken = taken ? b.binary(BinaryKind::logical_or, taken, picked) : picked;
    candidates = b.select(picked, spent, candidates);
  }
  auto concat = [&](ArrayRef<Value> parts) -> Value {
    if (parts.size() == 1)
      return parts[0];
    SmallVector<int64_t> shape(TensorBuilder::shapeOf(parts[0]));
    shape[*axis] = parts.size();
    auto resultType = RankedTensorType::get(shape, TensorBuilder::elementTypeOf(parts[0]));
    return ConcatOp::create(ctx.getBuilder(), ctx.getLoc(), resultType, parts, *axis).getResult();
  };
  ctx.setOutput(0, concat(values));
  ctx.setOutput(1, concat(indices));
  return success();
}

/// ONNX OneHot: `values[1]` where an index equals the position along the
/// new axis, `values[0]` elsewhere. Negative indices count from `depth`;
/// an index outside [-depth, depth) gives a row of `values[0]`.
static LogicalResult importOneHot(NodeContext &ctx) {
  if (ctx.getNumInputs() != 3 || !ctx.hasInput(1) || !ctx.hasInput(2))
    return ctx.fail("expects indices, depth and values");
  FailureOr<double> depthValue = ctx.getConstantScalar(1, "depth");
  if (failed(depthValue))
    return failure();
  int64_t depth = static_cast<int64_t>(*depthValue);
  if (depth < 1)
    return ctx.fail("depth must be at least 1, not " + std::to_string(depth));
  RankedTensorType valuesType = ctx.getInputType(2);
  if (valuesType.getNumElements() != 2)
    return ctx.fail("values must hold two elements [off, on]");
  ArrayRef<int64_t> indexShape = ctx.getInputShape(0);
  int64_t rank = indexShape.size() + 1;
  FailureOr<int64_t> axis = ctx.normalizeAxis(ctx.getAttrInt("axis", -1), rank);
  if (failed(axis))
    return failure();

  TensorBuilder b(ctx.getBuilder(), ctx.getLoc());
  Type i64 = ctx.getBuilder().getI64Type();
  // ONNX casts float indices to integers (toward zero).
  Value indices = ctx.convert(ctx.getInput(0), i64);
  Value negative = b.compare(CompareKind::lt, indices, i64Scalar(ctx, 0));
  indices = b.select(negative, b.add(indices, i64Scalar(ctx, depth)), indices);
  SmallVector<int64_t> expanded(indexShape);
  expanded.insert(expanded.begin() + *axis, 1);
  indices = ctx.reshape(indices, expanded);
  SmallVector<int64_t> shape(expanded);
  shape[*axis] = depth;
  Value hit = b.compare(CompareKind::eq, indices, iotaAlong(ctx, shape, *axis));

  auto element = [&](int64_t index) -> Value {
    if (const HostTensor *values = ctx.getConstantInput(2)) {
      HostTensor scalar(valuesType.getElementType(), {});
      scalar.setFrom(0, *values, index);
      return ctx.constant(scalar);
    }
    Value flat = ctx.reshape(ctx.getInput(2), {2});
    auto sliceType = RankedTensorType::get({1}, valuesType.getElementType());
    Value slice = SliceOp::create(ctx.getBuilder(), ctx.getLoc(), sliceType, flat,
                                  ArrayRef<int64_t>{index}, ArrayRef<int64_t>{1});
    return ctx.reshape(slice, {});
  };
  ctx.setOutput(0, b.select(hit, element(1), element(0)));
  return success();
}

/// Compress keeps the positions where a compile-time condition holds: a
/// gather with those positions (the result's size depends on the
/// condition, so it must be known). Without an axis the input is flattened.
static LogicalResult importCompress(NodeContext &ctx) {
  const HostTensor *condition = ctx.getConstantInput(1);
  if (!condition)
    return ctx.fail("condition (input 1) must be known at compile time: the result's shape "
                    "depends on it");
  Value input = ctx.getInput(0);
  RankedTensorType type = ctx.getInputType(0);
  int64_t axis = 0;
  if (ctx.hasAttr("axis")) {
    FailureOr<int64_t> normalized = ctx.normalizeAxis(ctx.getAttrInt("axis", 0), type.getRank());
    if (failed(normalized))
      return failure();
    axis = *normalized;
  } else {
    input = ctx.reshape(input, {type.getNumElements()});
  }
  ArrayRef<int64_t> shape = TensorBuilder::shapeOf(input);
  if (condition->getNumElements() > shape[axis])
    return ctx.fail("condition has " + std::to_string(condition->getNumElements()) +
                    " elements for an axis of size " + std::to_string(shape[axis]));
  std::vector<int64_t> kept;
  for (int64_t i = 0; i < condition->getNumElements(); ++i)
    if (condition->getInt(i) != 0)
      kept.push_back(i);
  if (kept.empty())
    return ctx.fail("the condition keeps nothing; empty tensors are not supported");
  SmallVector<int64_t> resultShape(shape);
  resultShape[axis] = kept.size();
  int64_t count = kept.size();
  Value indices =
      ctx.constant(HostTensor::fromInts(ctx.getBuilder().getI64Type(), {count}, std::move(kept)));
  auto resultType = RankedTensorType::get(resultShape, type.getElementType());
  ctx.setOutput(0,
                GatherOp::create(ctx.getBuilder(), ctx.getLoc(), resultType, input, indices, axis));
  return success();
}

/// EyeLike: ones where column - row = k in a 2-D tensor of the input's
/// shape, of the type `dtype` names (the input's by default).
static LogicalResult importEyeLike(NodeContext &ctx) {
  RankedTensorType type = ctx.getInputType(0);
  if (type.getRank() != 2)
    return ctx.fail("needs a 2-D input");
  Type element = type.getElementType();
  if (ctx.hasAttr("dtype")) {
    int64_t dtype = ctx.getAttrInt("dtype", 0);
    element = convertElementType(dtype, ctx.getContext());
    if (!element)
      return ctx.fail("dtype " + onnxTypeName(dtype) + " is not supported");
  }
  TensorBuilder b(ctx.getBuilder(), ctx.getLoc());
  ArrayRef<int64_t> shape = type.getShape();
  Value rows = iotaAlong(ctx, shape, 0), columns = iotaAlong(ctx, shape, 1);
  Value offset = b.sub(columns, rows);
  Value diagonal = b.compare(CompareKind::eq, offset, i64Scalar(ctx, ctx.getAttrInt("k", 0)));
  ctx.setOutput(0, ctx.convert(diagonal, element));
  return success();
}

/// ReverseSequence with compile-time lengths: batch entry b reverses its
/// first lengths[b] time steps. With time and batch moved to the front and
/// flattened, that is one gather with a constant index per (step, entry).
static LogicalResult importReverseSequence(NodeContext &ctx) {
  RankedTensorType type = ctx.getInputType(0);
  if (type.getRank() < 2)
    return ctx.fail("needs an input of rank 2 or more");
  int64_t timeAxis = ctx.getAttrInt("time_axis", 0), batchAxis = ctx.getAttrInt("batch_axis", 1);
  if (!((timeAxis == 0 && batchAxis == 1) || (timeAxis == 1 && batchAxis == 0)))
    return ctx.fail("time_axis and batch_axis must be 0 and 1, in either order");
  FailureOr<std::vector<int64_t>> lengths = ctx.getConstantInts(1, "sequence_lens");
  if (failed(lengths))
    return failure();
  ArrayRef<int64_t> shape = type.getShape();
  int64_t steps = shape[timeAxis], batch = shape[batchAxis];
  if ((int64_t)lengths->size() != batch)
    return ctx.fail("sequence_lens holds " + std::to_string(lengths->size()) +
                    " lengths for a batch of " + std::to_string(batch));
  std::vector<int64_t> sources;
  for (int64_t t = 0; t < steps; ++t)
    for (int64_t e = 0; e < batch; ++e) {
      int64_t length = (*lengths)[e];
      if (length < 0 || length > steps)
        return ctx.fail("sequence length " + std::to_string(length) + " lies outside [0, " +
                        std::to_string(steps) + "]");
      int64_t source = t < length ? length - 1 - t : t;
      sources.push_back(source * batch + e);
    }
  TensorBuilder b(ctx.getBuilder(), ctx.getLoc());
  SmallVector<int64_t> swap;
  for (int64_t d = 0; d < type.getRank(); ++d)
    swap.push_back(d < 2 ? 1 - d : d);
  Value x = ctx.getInput(0);
  if (timeAxis == 1)
    x = b.transpose(x, swap);
  SmallVector<int64_t> flat{steps * batch};
  llvm::append_range(flat, shape.drop_front(2));
  Value indices = ctx.constant(
      HostTensor::fromInts(ctx.getBuilder().getI64Type(), {steps * batch}, std::move(sources)));
  auto gatherType = RankedTensorType::get(flat, type.getElementType());
  Value gathered =
      GatherOp::create(ctx.getBuilder(), ctx.getLoc(), gatherType, b.reshape(x, flat), indices, 0);
  SmallVector<int64_t> timeMajor{steps, batch};
  llvm::append_range(timeMajor, shape.drop_front(2));
  Value result = b.reshape(gathered, timeMajor);
  ctx.setOutput(0, timeAxis == 1 ? b.transpose(result, swap) : result);
  return success();
}

void cleave::importer::registerIndexingRules(RuleTable &table) {
  table.add("ArgMax", [](NodeContext &ctx) { return importArgExtremum(ctx, true); });
  table.add("ArgMin", [](NodeContext &ctx) { return importArgExtremum(ctx, false); });
  table.add("Hardmax", importHardmax);
  table.add("TopK", importTopK);
  table.add("OneHot", importOneHot);
  table.add("Compress", importCompress);
  table.add("EyeLike", importEyeLike);
  table.add("ReverseSequence", importReverseSequence);
}
