//===- GatherScatter.cpp - import rules for element-wise gathers, scatters -===//
//
// GatherElements, ScatterElements (and its deprecated name Scatter),
// ScatterND and GatherND become cleave.gather / cleave.scatter_add on the
// data flattened to one dimension (or to rows), at offsets computed from the
// indices: exact, and with the gradients the gather/scatter_add pair has.
// A scatter without reduction writes each update where a scatter of ones
// marks a hit and keeps the data elsewhere.
//
//===----------------------------------------------------------------------===//
#include "compiler/Importer/NodeContext.h"

#include "llvm/ADT/DenseMap.h"

#include <numeric>

using namespace mlir;
using namespace mlir::cleave;
using namespace mlir::cleave::importer;

static RankedTensorType typeOf(Value value) { return cast<RankedTensorType>(value.getType()); }

/// Row-major offsets into `dataShape` of the elements GatherElements reads:
/// position p of `indices` (rank of the data) names the element at p with
/// p[axis] replaced by indices[p]; negative indices count from the end.
/// Constant indices give a constant (an out-of-range index fails); run-time
/// ones give i64 IR built from iotas, without a large baked-in constant, and
/// an out-of-range index gives an offset past the end, which the gather or
/// scatter_add kernel reports at run time (rather than reading a neighbour).
static FailureOr<Value> elementOffsets(NodeContext &ctx, const HostTensor *constantIndices,
                                       Value indices, ArrayRef<int64_t> dataShape, int64_t axis) {
  Type i64 = ctx.getBuilder().getI64Type();
  ArrayRef<int64_t> indexShape =
      constantIndices ? ArrayRef<int64_t>(constantIndices->getShape()) : typeOf(indices).getShape();
  if (indexShape.size() != dataShape.size())
    return ctx.fail("indices must have the data's rank " + std::to_string(dataShape.size()));
  for (size_t d = 0; d < dataShape.size(); ++d)
    if ((int64_t)d != axis && indexShape[d] > dataShape[d])
      return ctx.fail("indices dimension " + std::to_string(d) + " (" +
                      std::to_string(indexShape[d]) + ") exceeds the data's (" +
                      std::to_string(dataShape[d]) + ")");
  std::vector<int64_t> strides = computeStrides(dataShape);
  int64_t size = dataShape[axis];
  if (constantIndices) {
    HostTensor offsets(i64, std::vector<int64_t>(indexShape));
    std::vector<int64_t> indexStrides = computeStrides(indexShape);
    for (int64_t i = 0; i < offsets.getNumElements(); ++i) {
      int64_t index = constantIndices->getInt(i);
      if (index < -size || index >= size)
        return ctx.fail("index " + std::to_string(index) +
                        " is out of range for a dimension of size " + std::to_string(size));
      if (index < 0)
        index += size;
      int64_t offset = 0, rest = i;
      for (size_t d = 0; d < indexShape.size(); ++d) {
        int64_t coordinate = rest / indexStrides[d];
        rest %= indexStrides[d];
        offset += ((int64_t)d == axis ? index : coordinate) * strides[d];
      }
      offsets.setInt(i, offset);
    }
    return ctx.constant(offsets);
  }
  Value index = ctx.convert(indices, i64);
  FailureOr<Value> aboveMin = ctx.compare(CompareKind::ge, index, ctx.scalar(i64, -size));
  FailureOr<Value> belowMax = ctx.compare(CompareKind::lt, index, ctx.scalar(i64, size));
  if (failed(aboveMin) || failed(belowMax))
    return failure();
  FailureOr<Value> valid = ctx.binary(BinaryKind::logical_and, *aboveMin, *belowMax);
  if (failed(valid))
    return failure();
  FailureOr<Value> negative = ctx.compare(CompareKind::lt, index, ctx.scalar(i64, 0));
  FailureOr<Value> wrapped = ctx.binary(BinaryKind::add, index, ctx.scalar(i64, size));
  if (failed(negative) || failed(wrapped))
    return failure();
  FailureOr<Value> offsets = ctx.select(*negative, *wrapped, index);
  if (strides[axis] != 1)
    offsets = ctx.binary(BinaryKind::mul, *offsets, ctx.scalar(i64, strides[axis]));
  // The other coordinates contribute coordinate * stride: a strided iota
  // along each dimension, broadcast over the rest.
  for (size_t d = 0; d < indexShape.size() && succeeded(offsets); ++d) {
    if ((int64_t)d == axis || indexShape[d] == 1)
      continue;
    auto type = RankedTensorType::get({indexShape[d]}, i64);
    Value iota = IotaOp::create(ctx.getBuilder(), ctx.getLoc(), type, 0, strides[d]);
    SmallVector<int64_t> shape(indexShape.size(), 1);
    shape[d] = indexShape[d];
    offsets = ctx.binary(BinaryKind::add, *offsets, ctx.reshape(iota, shape));
  }
  if (failed(offsets))
    return failure();
  return ctx.select(*valid, *offsets, ctx.scalar(i64, product(dataShape)));
}

/// `data` flattened and gathered at `offsets`: the result has the offsets'
/// shape.
static Value gatherAtOffsets(NodeContext &ctx, Value data, Value offsets) {
  RankedTensorType dataType = typeOf(data);
  Value flat = ctx.reshape(data, {product(dataType.getShape())});
  auto type = RankedTensorType::get(typeOf(offsets).getShape(), dataType.getElementType());
  return GatherOp::create(ctx.getBuilder(), ctx.getLoc(), type, flat, offsets, 0);
}

static LogicalResult importGatherElements(NodeContext &ctx) {
  ArrayRef<int64_t> dataShape = ctx.getInputShape(0);
  FailureOr<int64_t> axis = ctx.normalizeAxis(ctx.getAttrInt("axis", 0), dataShape.size());
  if (failed(axis))
    return failure();
  const HostTensor *indices = ctx.getConstantInput(1);
  FailureOr<Value> offsets =
      elementOffsets(ctx, indices, indices ? Value() : ctx.getInput(1), dataShape, *axis);
  if (failed(offsets))
    return failure();
  ctx.setOutput(0, gatherAtOffsets(ctx, ctx.getInput(0), *offsets));
  return success();
}

/// ScatterElements/ScatterND with reduction "mul" (see scatterInto), on a
/// frame scattered along axis 0.
static LogicalResult scatterMultiply(NodeContext &ctx, Value data, Value updates, Value offsets,
                                     int64_t axis, ArrayRef<int64_t> resultShape) {
  auto constant = offsets.getDefiningOp<ConstantOp>();
  if (!constant || axis != 0)
    return ctx.fail("reduction 'mul' needs indices known at compile time");
  RankedTensorType dataType = typeOf(data);
  Type element = dataType.getElementType(), i1 = ctx.getBuilder().getI1Type();
  SmallVector<int64_t> values(cast<DenseElementsAttr>(constant.getValue()).getValues<int64_t>());
  int64_t rows = dataType.getDimSize(0);
  std::vector<int64_t> round(values.size());
  llvm::DenseMap<int64_t, int64_t> seen;
  int64_t rounds = 0;
  for (auto [t, offset] : llvm::enumerate(values)) {
    round[t] = seen[offset]++;
    rounds = std::max(rounds, round[t] + 1);
  }
  // Masks broadcast over the slice dimensions.
  std::vector<int64_t> positionShape(typeOf(offsets).getShape().begin(),
                                     typeOf(offsets).getShape().end());
  positionShape.resize(typeOf(updates).getRank(), 1);
  std::vector<int64_t> rowShape(dataType.getRank(), 1);
  rowShape[0] = rows;
  Value result = data;
  for (int64_t r = 0; r < rounds; ++r) {
    HostTensor inRound(i1, positionShape), hit(i1, rowShape);
    for (auto [t, offset] : llvm::enumerate(values)) {
      inRound.setInt(t, round[t] == r);
      if (round[t] == r)
        hit.setInt(offset, 1);
    }
    FailureOr<Value> picked = ctx.select(ctx.constant(inRound), updates, ctx.scalar(element, 0.0));
    if (failed(picked))
      return failure();
    Value factors =
        ScatterAddOp::create(ctx.getBuilder(), ctx.getLoc(), dataType, *picked, offsets, 0);
    FailureOr<Value> product = ctx.binary(BinaryKind::mul, result, factors);
    if (failed(product))
      return failure();
    FailureOr<Value> next = ctx.select(ctx.constant(hit), *product, result);
    if (failed(next))
      return failure();
    result = *next;
  }
  ctx.setOutput(0, ctx.reshape(result, resultShape));
  return success();
}

/// Scatters `updates` into `data` (both already in the scatter's frame:
/// `updates` has the shape a gather from `data` at `offsets` along `axis`
/// would have). Reduction "none" replaces the addressed elements, "add" adds
/// to them, "mul" multiplies them in. Repeated indices sum their updates,
/// which ONNX defines for "add" and leaves undefined for "none". "mul" needs
/// indices known at compile time: it multiplies in rounds, the k-th update
/// of each element in round k, so that no round scatters twice to one
/// element.
static LogicalResult scatterInto(NodeContext &ctx, Value data, Value updates, Value offsets,
                                 int64_t axis, ArrayRef<int64_t> resultShape) {
  RankedTensorType dataType = typeOf(data);
  if (!isa<FloatType>(dataType.getElementType()))
    return ctx.fail("only float data is supported (scatters are built on cleave.scatter_add)");
  if (typeOf(updates).getElementType() != dataType.getElementType())
    return ctx.fail("updates must have the data's element type");
  std::string reduction = ctx.getAttrString("reduction", "none");
  if (reduction != "none" && reduction != "add" && reduction != "mul")
    return ctx.fail("reduction '" + reduction + "' is not supported (none, add and mul are)");
  if (reduction == "mul")
    return scatterMultiply(ctx, data, updates, offsets, axis, resultShape);
  OpBuilder &builder = ctx.getBuilder();
  auto scatter = [&](Value source) {
    return ScatterAddOp::create(builder, ctx.getLoc(), dataType, source, offsets, axis).getResult();
  };
  Value scattered = scatter(updates);
  FailureOr<Value> result;
  if (reduction == "add") {
    result = ctx.binary(BinaryKind::add, data, scattered);
  } else {
    Type element = dataType.getElementType();
    Value hits = scatter(ctx.broadcastTo(ctx.scalar(element, 1.0), typeOf(updates).getShape()));
    FailureOr<Value> hit = ctx.compare(CompareKind::gt, hits, ctx.scalar(element, 0.0));
    if (failed(hit))
      return failure();
    result = ctx.select(*hit, scattered, data);
  }
  if (failed(result))
    return failure();
  ctx.setOutput(0, ctx.reshape(*result, resultShape));
  return success();
}

static LogicalResult importScatterElements(NodeContext &ctx) {
  ArrayRef<int64_t> dataShape = ctx.getInputShape(0);
  FailureOr<int64_t> axis = ctx.normalizeAxis(ctx.getAttrInt("axis", 0), dataShape.size());
  if (failed(axis))
    return failure();
  if (ctx.getInputShape(2) != ctx.getInputShape(1))
    return ctx.fail("updates must have the shape of indices");
  const HostTensor *indices = ctx.getConstantInput(1);
  FailureOr<Value> offsets =
      elementOffsets(ctx, indices, indices ? Value() : ctx.getInput(1), dataShape, *axis);
  if (failed(offsets))
    return failure();
  Value flat = ctx.reshape(ctx.getInput(0), {product(dataShape)});
  return scatterInto(ctx, flat, ctx.getInput(2), *offsets, 0, dataShape);
}

/// Offsets of ScatterND/GatherND's index tuples: indices [b..., t..., k]
/// address data [b..., d0..dk-1, rest...] (the first `batchDims` dimensions
/// shared); with data reshaped to [prod(b..., d0..dk-1), rest...] the tuple
/// at position p is the row batch(p) * prod(d0..dk-1) + sum_j i_j stride_j.
/// The result has the shape indices.shape[:-1]. Run-time tuples with an
/// index outside [-size, size) point past the end, which the gather or
/// scatter_add kernel reports.
static FailureOr<Value> tupleOffsets(NodeContext &ctx, ArrayRef<int64_t> dataShape,
                                     int64_t batchDims) {
  ArrayRef<int64_t> indexShape = ctx.getInputShape(1);
  int64_t k = indexShape.back();
  ArrayRef<int64_t> tupleShape = indexShape.drop_back();
  ArrayRef<int64_t> addressed = dataShape.slice(batchDims, k);
  std::vector<int64_t> strides = computeStrides(addressed);
  int64_t tupleSpan = product(addressed);
  int64_t rows = product(dataShape.take_front(batchDims)) * tupleSpan;
  // Tuples per batch element: the batch index of tuple t is t / perBatch.
  int64_t perBatch = product(tupleShape.drop_front(batchDims));
  Type i64 = ctx.getBuilder().getI64Type();
  if (const HostTensor *indices = ctx.getConstantInput(1)) {
    HostTensor host(i64, std::vector<int64_t>(tupleShape));
    for (int64_t t = 0; t < host.getNumElements(); ++t) {
      int64_t offset = (t / perBatch) * tupleSpan;
      for (int64_t j = 0; j < k; ++j) {
        int64_t index = indices->getInt(t * k + j), size = addressed[j];
        if (index < -size || index >= size)
          return ctx.fail("index " + std::to_string(index) +
                          " is out of range for a dimension of size " + std::to_string(size));
        offset += (index < 0 ? index + size : index) * strides[j];
      }
      host.setInt(t, offset);
    }
    return ctx.constant(host);
  }
  Value index = ctx.convert(ctx.getInput(1), i64);
  Value sizes = ctx.constant(
      HostTensor::fromInts(i64, {k}, std::vector<int64_t>(addressed.begin(), addressed.end())));
  FailureOr<Value> negative = ctx.compare(CompareKind::lt, index, ctx.scalar(i64, 0));
  FailureOr<Value> wrapped = ctx.binary(BinaryKind::add, index, sizes);
  if (failed(negative) || failed(wrapped))
    return failure();
  FailureOr<Value> normalized = ctx.select(*negative, *wrapped, index);
  if (failed(normalized))
    return failure();
  FailureOr<Value> scaled = ctx.binary(BinaryKind::mul, *normalized,
                                       ctx.constant(HostTensor::fromInts(i64, {k}, strides)));
  if (failed(scaled))
    return failure();
  int64_t last = indexShape.size() - 1;
  FailureOr<Value> offsets = ctx.reduce(ReduceKind::sum, *scaled, {last}, false);
  // The batch part: a strided iota along each batch dimension.
  std::vector<int64_t> batchStrides = computeStrides(dataShape.take_front(batchDims));
  for (int64_t b = 0; b < batchDims && succeeded(offsets); ++b) {
    if (tupleShape[b] == 1)
      continue;
    auto type = RankedTensorType::get({tupleShape[b]}, i64);
    Value iota =
        IotaOp::create(ctx.getBuilder(), ctx.getLoc(), type, 0, batchStrides[b] * tupleSpan);
    SmallVector<int64_t> shape(tupleShape.size(), 1);
    shape[b] = tupleShape[b];
    offsets = ctx.binary(BinaryKind::add, *offsets, ctx.reshape(iota, shape));
  }
  if (failed(offsets))
    return failure();
  FailureOr<Value> inRange = ctx.compare(CompareKind::lt, *normalized, sizes);
  FailureOr<Value> notNegative = ctx.compare(CompareKind::ge, *normalized, ctx.scalar(i64, 0));
  if (failed(inRange) || failed(notNegative))
    return failure();
  FailureOr<Value> valid = ctx.binary(BinaryKind::logical_and, *inRange, *notNegative);
  if (failed(valid))
    return failure();
  Value allValid = ctx.reduce(ReduceKind::min, ctx.convert(*valid, i64), {last}, false);
  FailureOr<Value> tupleValid = ctx.compare(CompareKind::ne, allValid, ctx.scalar(i64, 0));
  if (failed(tupleValid))
    return failure();
  return ctx.select(*tupleValid, *offsets, ctx.scalar(i64, rows));
}

/// Checks the index tuples' length k against the data (after `batchDims`
/// shared dimensions).
static FailureOr<int64_t> tupleLength(NodeContext &ctx, int64_t batchDims) {
  ArrayRef<int64_t> dataShape = ctx.getInputShape(0), indexShape = ctx.getInputShape(1);
  if (batchDims < 0 || (int64_t)indexShape.size() <= batchDims ||
      (int64_t)dataShape.size() <= batchDims)
    return ctx.fail("indices need rank > batch_dims, and so does the data");
  if (indexShape.take_front(batchDims) != dataShape.take_front(batchDims))
    return ctx.fail("the first batch_dims dimensions of data and indices must agree");
  int64_t k = indexShape.back();
  if (k < 1 || k > (int64_t)dataShape.size() - batchDims)
    return ctx.fail("the last dimension of indices (" + std::to_string(k) +
                    ") must lie in 1..the data's rank - batch_dims");
  return k;
}

/// ScatterND: each index tuple (the last dimension of `indices`, k long)
/// addresses a slice data[i0, ..., ik-1, :, ...]: a scatter along axis 0 of
/// the data with its first k dimensions flattened into one.
static LogicalResult importScatterND(NodeContext &ctx) {
  ArrayRef<int64_t> dataShape = ctx.getInputShape(0);
  FailureOr<int64_t> k = tupleLength(ctx, 0);
  if (failed(k))
    return failure();
  ArrayRef<int64_t> sliceShape = dataShape.drop_front(*k);
  SmallVector<int64_t> updatesShape(ctx.getInputShape(1).drop_back());
  llvm::append_range(updatesShape, sliceShape);
  if (ctx.getInputShape(2) != ArrayRef<int64_t>(updatesShape))
    return ctx.fail("updates must have shape indices.shape[:-1] + data.shape[k:]");
  FailureOr<Value> offsets = tupleOffsets(ctx, dataShape, 0);
  if (failed(offsets))
    return failure();
  SmallVector<int64_t> frame = {product(dataShape.take_front(*k))};
  llvm::append_range(frame, sliceShape);
  return scatterInto(ctx, ctx.reshape(ctx.getInput(0), frame), ctx.getInput(2), *offsets, 0,
                     dataShape);
}

/// GatherND: the slices ScatterND would write, read with one gather.
static LogicalResult importGatherND(NodeContext &ctx) {
  ArrayRef<int64_t> dataShape = ctx.getInputShape(0);
  int64_t batchDims = ctx.getAttrInt("batch_dims", 0);
  FailureOr<int64_t> k = tupleLength(ctx, batchDims);
  if (failed(k))
    return failure();
  FailureOr<Value> offsets = tupleOffsets(ctx, dataShape, batchDims);
  if (failed(offsets))
    return failure();
  ArrayRef<int64_t> sliceShape = dataShape.drop_front(batchDims + *k);
  SmallVector<int64_t> frame = {product(dataShape.take_front(batchDims + *k))};
  llvm::append_range(frame, sliceShape);
  SmallVector<int64_t> shape(ctx.getInputShape(1).drop_back());
  llvm::append_range(shape, sliceShape);
  auto type = RankedTensorType::get(shape, ctx.getInputType(0).getElementType());
  ctx.setOutput(0, GatherOp::create(ctx.getBuilder(), ctx.getLoc(), type,
                                    ctx.reshape(ctx.getInput(0), frame), *offsets, 0));
  return success();
}

void cleave::importer::registerGatherScatterRules(RuleTable &table) {
  table.add("GatherElements", importGatherElements);
  table.add("ScatterElements", importScatterElements);
  // Scatter (opsets 9-10) is ScatterElements under its old name.
  table.add("Scatter", importScatterElements);
  table.add("ScatterND", importScatterND);
  table.add("GatherND", importGatherND);
}
