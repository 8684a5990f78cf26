//===- Shape.cpp - import rules for shape and data-movement ONNX ops ------===//
//
// Exporters compute shapes with Shape/Gather/Unsqueeze/Concat/Range chains.
// With static shapes those are compile-time constants: each rule folds when
// its inputs are known (and the result small), and emits cleave ops when
// real data flows through it.
//
//===----------------------------------------------------------------------===//
#include "compiler/Importer/NodeContext.h"

#include "onnx/onnx_pb.h"

#include "llvm/Support/MathExtras.h"

#include <numeric>

using namespace mlir;
using namespace mlir::cleave;
using namespace mlir::cleave::importer;

static Type elementTypeOf(NodeContext &ctx, size_t input) {
  return ctx.getInputType(input).getElementType();
}

/// Passes a value through a pure reshape, folding constants.
static void setReshaped(NodeContext &ctx, std::vector<int64_t> shape) {
  if (const HostTensor *input = ctx.getConstantInput(0)) {
    ctx.setOutput(0, input->reshaped(std::move(shape)));
    return;
  }
  ctx.setOutput(0, ctx.reshape(ctx.getInput(0), shape));
}

static LogicalResult importShape(NodeContext &ctx) {
  ArrayRef<int64_t> shape = ctx.getInputShape(0);
  int64_t rank = shape.size();
  // Opset 15 added start/end to take a slice of the shape.
  int64_t start = ctx.getAttrInt("start", 0), end = ctx.getAttrInt("end", rank);
  if (start < 0)
    start += rank;
  if (end < 0)
    end += rank;
  start = std::clamp<int64_t>(start, 0, rank);
  end = std::clamp<int64_t>(end, start, rank);
  std::vector<int64_t> dims(shape.begin() + start, shape.begin() + end);
  int64_t count = dims.size();
  ctx.setOutput(0, HostTensor::fromInts(ctx.getBuilder().getI64Type(), {count}, dims));
  return success();
}

static LogicalResult importSize(NodeContext &ctx) {
  ctx.setOutput(
      0, HostTensor::fromInts(ctx.getBuilder().getI64Type(), {}, {product(ctx.getInputShape(0))}));
  return success();
}

static LogicalResult importReshape(NodeContext &ctx) {
  FailureOr<std::vector<int64_t>> requested = ctx.getConstantInts(1, "the target shape");
  if (failed(requested))
    return failure();
  ArrayRef<int64_t> input = ctx.getInputShape(0);
  bool allowZero = ctx.getAttrInt("allowzero", 0) != 0;
  std::vector<int64_t> shape = *requested;
  int64_t inferred = -1, known = 1;
  for (size_t i = 0; i < shape.size(); ++i) {
    if (shape[i] == 0 && !allowZero) {
      if (i >= input.size())
        return ctx.fail("target shape copies dimension " + std::to_string(i) +
                        " which the input does not have");
      shape[i] = input[i];
    }
    if (shape[i] == -1) {
      if (inferred >= 0)
        return ctx.fail("target shape has more than one -1");
      inferred = i;
      continue;
    }
    if (shape[i] < 0)
      return ctx.fail("target shape has a negative dimension " + std::to_string(shape[i]));
    if (llvm::MulOverflow(known, shape[i], known))
      return ctx.fail("target shape holds more elements than int64 can count");
  }
  int64_t total = product(input);
  if (inferred >= 0) {
    if (known == 0 || total % known != 0)
      return ctx.fail("cannot infer the -1 dimension: " + std::to_string(total) +
                      " elements do not divide by " + std::to_string(known));
    shape[inferred] = total / known;
  } else if (known != total) {
    return ctx.fail("target shape holds " + std::to_string(known) + " elements but the input has " +
                    std::to_string(total));
  }
  setReshaped(ctx, shape);
  return success();
}

static LogicalResult importFlatten(NodeContext &ctx) {
  ArrayRef<int64_t> input = ctx.getInputShape(0);
  int64_t rank = input.size();
  int64_t axis = ctx.getAttrInt("axis", 1);
  if (axis < 0)
    axis += rank;
  if (axis < 0 || axis > rank)
    return ctx.fail("axis " + std::to_string(axis) + " is out of range");
  setReshaped(ctx, {product(input.take_front(axis)), product(input.drop_front(axis))});
  return success();
}

/// Axes from the `axes` attribute (older opsets) or input 1 (opset 13+).
static FailureOr<std::optional<std::vector<int64_t>>> getAxesOperand(NodeContext &ctx) {
  if (ctx.hasAttr("axes"))
    return std::optional<std::vector<int64_t>>(ctx.getAttrInts("axes"));
  if (!ctx.hasInput(1))
    return std::optional<std::vector<int64_t>>();
  FailureOr<std::vector<int64_t>> axes = ctx.getConstantInts(1, "axes");
  if (failed(axes))
    return failure();
  return std::optional<std::vector<int64_t>>(*axes);
}

static LogicalResult importSqueeze(NodeContext &ctx) {
  ArrayRef<int64_t> input = ctx.getInputShape(0);
  auto axes = getAxesOperand(ctx);
  if (failed(axes))
    return failure();
  std::vector<bool> drop(input.size(), false);
  if (!*axes) {
    for (size_t i = 0; i < input.size(); ++i)
      drop[i] = input[i] == 1;
  } else {
    for (int64_t axis : **axes) {
      FailureOr<int64_t> normalized = ctx.normalizeAxis(axis, input.size());
      if (failed(normalized))
        return failure();
      if (input[*normalized] != 1)
        return ctx.fail("cannot squeeze dimension " + std::to_string(*normalized) + " of size " +
                        std::to_string(input[*normalized]));
      drop[*normalized] = true;
    }
  }
  std::vector<int64_t> shape;
  for (size_t i = 0; i < input.size(); ++i)
    if (!drop[i])
      shape.push_back(input[i]);
  setReshaped(ctx, shape);
  return success();
}

static LogicalResult importUnsqueeze(NodeContext &ctx) {
  ArrayRef<int64_t> input = ctx.getInputShape(0);
  auto axes = getAxesOperand(ctx);
  if (failed(axes))
    return failure();
  if (!*axes)
    return ctx.fail("needs axes");
  int64_t rank = input.size() + (*axes)->size();
  std::vector<bool> inserted(rank, false);
  for (int64_t axis : **axes) {
    FailureOr<int64_t> normalized = ctx.normalizeAxis(axis, rank);
    if (failed(normalized))
      return failure();
    if (inserted[*normalized])
      return ctx.fail("axis " + std::to_string(axis) + " appears twice");
    inserted[*normalized] = true;
  }
  std::vector<int64_t> shape;
  size_t next = 0;
  for (int64_t i = 0; i < rank; ++i)
    shape.push_back(inserted[i] ? 1 : input[next++]);
  setReshaped(ctx, shape);
  return success();
}

static HostTensor transposeHost(const HostTensor &input, ArrayRef<int64_t> permutation) {
  std::vector<int64_t> shape;
  for (int64_t dim : permutation)
    shape.push_back(input.getShape()[dim]);
  HostTensor result(input.getElementType(), shape);
  std::vector<int64_t> inputStrides = computeStrides(input.getShape());
  std::vector<int64_t> index(shape.size(), 0);
  for (int64_t flat = 0; flat < result.getNumElements(); ++flat) {
    int64_t source = 0;
    for (size_t dim = 0; dim < shape.size(); ++dim)
      source += index[dim] * inputStrides[permutation[dim]];
    result.setFrom(flat, input, source);
    for (int64_t dim = static_cast<int64_t>(shape.size()) - 1; dim >= 0; --dim) {
      if (++index[dim] < shape[dim])
        break;
      index[dim] = 0;
    }
  }
  return result;
}

static LogicalResult importTranspose(NodeContext &ctx) {
  int64_t rank = ctx.getInputType(0).getRank();
  std::vector<int64_t> permutation(rank);
  for (int64_t i = 0; i < rank; ++i)
    permutation[i] = rank - 1 - i;
  permutation = ctx.getAttrInts("perm", permutation);
  std::vector<bool> seen(rank, false);
  if ((int64_t)permutation.size() != rank)
    return ctx.fail("perm has " + std::to_string(permutation.size()) + " entries for rank " +
                    std::to_string(rank));
  for (int64_t dim : permutation) {
    if (dim < 0 || dim >= rank || seen[dim])
      return ctx.fail("perm is not a permutation");
    seen[dim] = true;
  }
  if (const HostTensor *input = ctx.getConstantInput(0)) {
    ctx.setOutput(0, transposeHost(*input, permutation));
    return success();
  }
  ctx.setOutput(0, ctx.transpose(ctx.getInput(0), permutation));
  return success();
}

/// One dimension of an ONNX slice after clamping, as start/step/count.
struct SliceDim {
  int64_t start, step, count;
};

static SliceDim clampSlice(int64_t start, int64_t end, int64_t step, int64_t size) {
  if (start < 0)
    start += size;
  if (end < 0)
    end += size;
  if (step > 0) {
    start = std::clamp<int64_t>(start, 0, size);
    end = std::clamp<int64_t>(end, 0, size);
  } else {
    start = std::clamp<int64_t>(start, 0, size - 1);
    end = std::clamp<int64_t>(end, -1, size - 1);
  }
  // Written so that no INT64_MAX/INT64_MIN step or sentinel can overflow.
  int64_t distance = step > 0 ? end - start : start - end;
  int64_t magnitude = step > 0 ? step : (step == INT64_MIN ? INT64_MAX : -step);
  int64_t count = distance > 0 ? 1 + (distance - 1) / magnitude : 0;
  // A single element needs no step; keep the op's strides small.
  return {start, count > 1 ? step : 1, count};
}

static LogicalResult importSlice(NodeContext &ctx) {
  ArrayRef<int64_t> input = ctx.getInputShape(0);
  int64_t rank = input.size();
  std::vector<int64_t> starts, ends, axes, steps;
  if (ctx.getOpset() < 10) {
    starts = ctx.getAttrInts("starts");
    ends = ctx.getAttrInts("ends");
    axes = ctx.getAttrInts("axes");
  } else {
    auto read = [&](size_t index, StringRef what, std::vector<int64_t> &out) -> LogicalResult {
      if (!ctx.hasInput(index))
        return success();
      FailureOr<std::vector<int64_t>> values = ctx.getConstantInts(index, what);
      if (failed(values))
        return failure();
      out = *values;
      return success();
    };
    if (failed(read(1, "starts", starts)) || failed(read(2, "ends", ends)) ||
        failed(read(3, "axes", axes)) || failed(read(4, "steps", steps)))
      return failure();
  }
  if (starts.size() != ends.size())
    return ctx.fail("starts and ends differ in length");
  if (axes.empty())
    for (size_t i = 0; i < starts.size(); ++i)
      axes.push_back(i);
  if (steps.empty())
    steps.assign(starts.size(), 1);
  if (axes.size() != starts.size() || steps.size() != starts.size())
    return ctx.fail("starts, ends, axes and steps differ in length");

  std::vector<SliceDim> dims;
  for (int64_t size : input)
    dims.push_back({0, 1, size});
  for (size_t i = 0; i < starts.size(); ++i) {
    FailureOr<int64_t> axis = ctx.normalizeAxis(axes[i], rank);
    if (failed(axis))
      return failure();
    if (steps[i] == 0)
      return ctx.fail("step must not be 0");
    dims[*axis] = clampSlice(starts[i], ends[i], steps[i], input[*axis]);
  }
  std::vector<int64_t> shape;
  for (const SliceDim &dim : dims)
    shape.push_back(dim.count);

  if (const HostTensor *constant = ctx.getConstantInput(0)) {
    HostTensor result(constant->getElementType(), shape);
    std::vector<int64_t> strides = computeStrides(input);
    std::vector<int64_t> index(rank, 0);
    for (int64_t flat = 0; flat < result.getNumElements(); ++flat) {
      int64_t source = 0;
      for (int64_t d = 0; d < rank; ++d)
        source += (dims[d].start + index[d] * dims[d].step) * strides[d];
      result.setFrom(flat, *constant, source);
      for (int64_t d = rank - 1; d >= 0; --d) {
        if (++index[d] < shape[d])
          break;
        index[d] = 0;
      }
    }
    ctx.setOutput(0, std::move(result));
    return success();
  }
  SmallVector<int64_t> sliceStarts, sliceStrides;
  for (const SliceDim &dim : dims) {
    if (dim.step < 0 && dim.count > 1)
      return ctx.fail("negative slice steps on run-time data are not supported");
    sliceStarts.push_back(dim.start);
    sliceStrides.push_back(std::max<int64_t>(dim.step, 1));
  }
  auto type = RankedTensorType::get(shape, elementTypeOf(ctx, 0));
  ctx.setOutput(0, SliceOp::create(ctx.getBuilder(), ctx.getLoc(), type, ctx.getInput(0),
                                   sliceStarts, sliceStrides));
  return success();
}

static LogicalResult importConcat(NodeContext &ctx) {
  if (failed(ctx.requireAllInputs()))
    return failure();
  int64_t rank = ctx.getInputType(0).getRank();
  FailureOr<int64_t> axis = ctx.normalizeAxis(ctx.getAttrInt("axis", 0), rank);
  if (failed(axis))
    return failure();
  std::vector<int64_t> shape(ctx.getInputShape(0));
  shape[*axis] = 0;
  for (size_t i = 0; i < ctx.getNumInputs(); ++i) {
    ArrayRef<int64_t> part = ctx.getInputShape(i);
    if ((int64_t)part.size() != rank)
      return ctx.fail("inputs have different ranks");
    for (int64_t d = 0; d < rank; ++d)
      if (d != *axis && part[d] != shape[d])
        return ctx.fail("input " + std::to_string(i) + " differs in dimension " +
                        std::to_string(d));
    shape[*axis] += part[*axis];
  }
  if (ctx.allInputsConstant() && fitsFolding(shape)) {
    HostTensor result(elementTypeOf(ctx, 0), shape);
    int64_t outer = product(ArrayRef<int64_t>(shape).take_front(*axis));
    int64_t inner = product(ArrayRef<int64_t>(shape).drop_front(*axis + 1));
    int64_t offset = 0;
    for (size_t i = 0; i < ctx.getNumInputs(); ++i) {
      const HostTensor *part = ctx.getConstantInput(i);
      int64_t extent = part->getShape()[*axis];
      for (int64_t o = 0; o < outer; ++o)
        for (int64_t k = 0; k < extent * inner; ++k) {
          int64_t target = (o * shape[*axis] + offset) * inner + k;
          int64_t source = o * extent * inner + k;
          result.setFrom(target, *part, source);
        }
      offset += extent;
    }
    ctx.setOutput(0, std::move(result));
    return success();
  }
  SmallVector<Value> inputs;
  for (size_t i = 0; i < ctx.getNumInputs(); ++i)
    inputs.push_back(ctx.getInput(i));
  auto type = RankedTensorType::get(shape, elementTypeOf(ctx, 0));
  ctx.setOutput(0, ConcatOp::create(ctx.getBuilder(), ctx.getLoc(), type, inputs, *axis));
  return success();
}

static LogicalResult importSplit(NodeContext &ctx) {
  ArrayRef<int64_t> input = ctx.getInputShape(0);
  FailureOr<int64_t> axis = ctx.normalizeAxis(ctx.getAttrInt("axis", 0), input.size());
  if (failed(axis))
    return failure();
  FailureOr<std::vector<int64_t>> split =
      ctx.getAttrOrConstantInts(ctx.getOpset() < 13, "split", 1, "split sizes");
  if (failed(split))
    return failure();
  std::vector<int64_t> sizes = std::move(*split);
  int64_t outputs = ctx.getNumOutputs();
  if (sizes.empty()) {
    if (input[*axis] % outputs != 0)
      return ctx.fail("dimension " + std::to_string(*axis) + " of size " +
                      std::to_string(input[*axis]) + " does not split evenly into " +
                      std::to_string(outputs) + " outputs");
    sizes.assign(outputs, input[*axis] / outputs);
  }
  if (llvm::any_of(sizes, [&](int64_t size) { return size < 0 || size > input[*axis]; }))
    return ctx.fail("split sizes must lie in [0, " + std::to_string(input[*axis]) + "]");
  if ((int64_t)sizes.size() != outputs ||
      std::accumulate(sizes.begin(), sizes.end(), int64_t{0}) != input[*axis])
    return ctx.fail("split sizes do not add up to dimension " + std::to_string(*axis));
  Value source = ctx.getInput(0);
  int64_t offset = 0;
  for (int64_t i = 0; i < outputs; ++i) {
    SmallVector<int64_t> starts(input.size(), 0), strides(input.size(), 1);
    starts[*axis] = offset;
    std::vector<int64_t> shape(input);
    shape[*axis] = sizes[i];
    auto type = RankedTensorType::get(shape, elementTypeOf(ctx, 0));
    ctx.setOutput(i,
                  SliceOp::create(ctx.getBuilder(), ctx.getLoc(), type, source, starts, strides));
    offset += sizes[i];
  }
  return success();
}

static LogicalResult importGather(NodeContext &ctx) {
  ArrayRef<int64_t> input = ctx.getInputShape(0);
  FailureOr<int64_t> axis = ctx.normalizeAxis(ctx.getAttrInt("axis", 0), input.size());
  if (failed(axis))
    return failure();
  ArrayRef<int64_t> indexShape = ctx.getInputShape(1);
  std::vector<int64_t> shape(input.begin(), input.begin() + *axis);
  shape.insert(shape.end(), indexShape.begin(), indexShape.end());
  shape.insert(shape.end(), input.begin() + *axis + 1, input.end());

  const HostTensor *indices = ctx.getConstantInput(1);
  std::optional<HostTensor> normalizedIndices;
  if (indices) {
    // Negative indices count from the end; out-of-range ones are an error
    // here rather than a wild read at run time.
    normalizedIndices = *indices;
    for (int64_t i = 0; i < indices->getNumElements(); ++i) {
      int64_t index = indices->getInt(i);
      if (index < 0)
        index += input[*axis];
      if (index < 0 || index >= input[*axis])
        return ctx.fail("index " + std::to_string(indices->getInt(i)) +
                        " is out of range for a dimension of size " + std::to_string(input[*axis]));
      normalizedIndices->setInt(i, index);
    }
  }
  const HostTensor *data = ctx.getConstantInput(0);
  if (data && normalizedIndices && fitsFolding(shape)) {
    HostTensor result(data->getElementType(), shape);
    int64_t outer = product(input.take_front(*axis));
    int64_t inner = product(input.drop_front(*axis + 1));
    int64_t count = normalizedIndices->getNumElements();
    for (int64_t o = 0; o < outer; ++o)
      for (int64_t n = 0; n < count; ++n)
        for (int64_t k = 0; k < inner; ++k) {
          int64_t source = (o * input[*axis] + normalizedIndices->getInt(n)) * inner + k;
          int64_t target = (o * count + n) * inner + k;
          result.setFrom(target, *data, source);
        }
    ctx.setOutput(0, std::move(result));
    return success();
  }
  Value indexValue = normalizedIndices ? ctx.constant(*normalizedIndices) : ctx.getInput(1);
  auto type = RankedTensorType::get(shape, elementTypeOf(ctx, 0));
  ctx.setOutput(0, GatherOp::create(ctx.getBuilder(), ctx.getLoc(), type, ctx.getInput(0),
                                    indexValue, *axis));
  return success();
}

static LogicalResult importExpand(NodeContext &ctx) {
  FailureOr<std::vector<int64_t>> requested = ctx.getConstantShape(1, "the target shape");
  if (failed(requested))
    return failure();
  std::vector<int64_t> shape;
  if (!broadcastShapes(ctx.getInputShape(0), *requested, shape))
    return ctx.fail("input does not broadcast to the requested shape");
  const HostTensor *input = ctx.getConstantInput(0);
  if (input && fitsFolding(shape)) {
    HostTensor result(input->getElementType(), shape);
    forEachBroadcastIndex(shape, {input->getShape()}, [&](int64_t flat, ArrayRef<int64_t> offsets) {
      result.setFrom(flat, *input, offsets[0]);
    });
    ctx.setOutput(0, std::move(result));
    return success();
  }
  ctx.setOutput(0, ctx.broadcastTo(ctx.getInput(0), shape));
  return success();
}

static LogicalResult importRange(NodeContext &ctx) {
  // The bounds decide the result's length, so they must be known.
  FailureOr<double> first = ctx.getConstantScalar(0, "start");
  if (failed(first))
    return failure();
  FailureOr<double> limit = ctx.getConstantScalar(1, "limit");
  if (failed(limit))
    return failure();
  FailureOr<double> step = ctx.getConstantScalar(2, "delta");
  if (failed(step))
    return failure();
  Type elementType = elementTypeOf(ctx, 0);
  if (*step == 0)
    return ctx.fail("delta must not be 0");
  double length = std::ceil((*limit - *first) / *step);
  if (!(length < 1e15))
    return ctx.fail("the range holds too many elements");
  int64_t count = length > 0 ? static_cast<int64_t>(length) : 0;
  if (count <= kMaxFoldedElements) {
    HostTensor result(elementType, {count});
    const HostTensor &start = *ctx.getConstantInput(0), &delta = *ctx.getConstantInput(2);
    for (int64_t i = 0; i < count; ++i) {
      if (result.isFloat())
        result.setDouble(i, *first + i * *step);
      else
        result.setInt(i, static_cast<int64_t>(uint64_t(start.getInt(0)) +
                                              uint64_t(i) * uint64_t(delta.getInt(0))));
    }
    ctx.setOutput(0, std::move(result));
    return success();
  }
  if (*first != std::floor(*first) || *step != std::floor(*step))
    return ctx.fail("a long Range needs integral start and delta");
  auto type = RankedTensorType::get({count}, elementType);
  ctx.setOutput(0, IotaOp::create(ctx.getBuilder(), ctx.getLoc(), type, truncateToInt64(*first),
                                  truncateToInt64(*step)));
  return success();
}

static FailureOr<HostTensor> tensorAttr(NodeContext &ctx, const onnx::TensorProto &proto) {
  Type elementType = convertElementType(proto.data_type(), ctx.getContext());
  if (!elementType)
    return ctx.fail("holds a tensor of unsupported type " + onnxTypeName(proto.data_type()));
  llvm::Expected<HostTensor> value = HostTensor::fromProto(proto, elementType);
  if (!value)
    return ctx.fail(llvm::toString(value.takeError()));
  return std::move(*value);
}

static LogicalResult importConstantOfShape(NodeContext &ctx) {
  FailureOr<std::vector<int64_t>> shape = ctx.getConstantShape(0, "the shape");
  if (failed(shape))
    return failure();
  HostTensor fill(ctx.getBuilder().getF32Type(), {1});
  if (const onnx::AttributeProto *value = ctx.findAttr("value")) {
    FailureOr<HostTensor> tensor = tensorAttr(ctx, value->t());
    if (failed(tensor))
      return failure();
    if (tensor->getNumElements() != 1)
      return ctx.fail("value must hold one element, not " +
                      std::to_string(tensor->getNumElements()));
    fill = *tensor;
  }
  if (fitsFolding(*shape)) {
    HostTensor result(fill.getElementType(), *shape);
    for (int64_t i = 0; i < result.getNumElements(); ++i) {
      result.setFrom(i, fill, 0);
    }
    ctx.setOutput(0, std::move(result));
    return success();
  }
  ctx.setOutput(0, ctx.broadcastTo(ctx.constant(fill.reshaped({})), *shape));
  return success();
}

static LogicalResult importConstant(NodeContext &ctx) {
  Builder &b = ctx.getBuilder();
  if (const onnx::AttributeProto *value = ctx.findAttr("value")) {
    FailureOr<HostTensor> tensor = tensorAttr(ctx, value->t());
    if (failed(tensor))
      return failure();
    ctx.setOutput(0, *tensor);
  } else if (const onnx::AttributeProto *value = ctx.findAttr("value_float")) {
    ctx.setOutput(0, HostTensor::fromDoubles(b.getF32Type(), {}, {value->f()}));
  } else if (const onnx::AttributeProto *value = ctx.findAttr("value_floats")) {
    ctx.setOutput(0, HostTensor::fromDoubles(b.getF32Type(), {value->floats_size()},
                                             {value->floats().begin(), value->floats().end()}));
  } else if (const onnx::AttributeProto *value = ctx.findAttr("value_int")) {
    ctx.setOutput(0, HostTensor::fromInts(b.getI64Type(), {}, {value->i()}));
  } else if (const onnx::AttributeProto *value = ctx.findAttr("value_ints")) {
    ctx.setOutput(0, HostTensor::fromInts(b.getI64Type(), {value->ints_size()},
                                          {value->ints().begin(), value->ints().end()}));
  } else {
    return ctx.fail("only dense tensor, float and int constants are supported");
  }
  return success();
}

static LogicalResult importTrilu(NodeContext &ctx) {
  ArrayRef<int64_t> input = ctx.getInputShape(0);
  if (input.size() < 2)
    return ctx.fail("input needs rank >= 2");
  int64_t k = 0;
  if (ctx.hasInput(1)) {
    FailureOr<double> value = ctx.getConstantScalar(1, "k");
    if (failed(value))
      return failure();
    k = truncateToInt64(*value);
  }
  bool upper = ctx.getAttrInt("upper", 1) != 0;
  int64_t rows = input[input.size() - 2], cols = input.back();
  // Keep element (i, j) when j - i >= k (upper) or j - i <= k (lower).
  auto keep = [&](int64_t i, int64_t j) { return upper ? j - i >= k : j - i <= k; };
  if (const HostTensor *constant = ctx.getConstantInput(0)) {
    HostTensor result = *constant;
    for (int64_t flat = 0; flat < result.getNumElements(); ++flat) {
      int64_t j = flat % cols, i = (flat / cols) % rows;
      if (!keep(i, j))
        result.setInt(flat, 0);
    }
    ctx.setOutput(0, std::move(result));
    return success();
  }
  HostTensor mask(ctx.getBuilder().getI1Type(), {rows, cols});
  if (!fitsFolding({rows, cols})) {
    // Large masks come from two iotas rather than a baked constant.
    Type i64 = ctx.getBuilder().getI64Type();
    Value rowIndex = ctx.reshape(
        IotaOp::create(ctx.getBuilder(), ctx.getLoc(), RankedTensorType::get({rows}, i64), 0, 1),
        {rows, 1});
    Value colIndex = ctx.reshape(
        IotaOp::create(ctx.getBuilder(), ctx.getLoc(), RankedTensorType::get({cols}, i64), 0, 1),
        {1, cols});
    FailureOr<Value> diagonal = ctx.binary(BinaryKind::sub, colIndex, rowIndex);
    if (failed(diagonal))
      return failure();
    FailureOr<Value> keepMask =
        ctx.compare(upper ? CompareKind::ge : CompareKind::le, *diagonal, ctx.scalar(i64, k));
    if (failed(keepMask))
      return failure();
    return ctx.setOutput(
        0, ctx.select(*keepMask, ctx.getInput(0), ctx.scalar(elementTypeOf(ctx, 0), 0.0)));
  }
  for (int64_t i = 0; i < rows; ++i)
    for (int64_t j = 0; j < cols; ++j)
      mask.setInt(i * cols + j, keep(i, j));
  return ctx.setOutput(
      0, ctx.select(ctx.constant(mask), ctx.getInput(0), ctx.scalar(elementTypeOf(ctx, 0), 0.0)));
}

void cleave::importer::registerShapeRules(RuleTable &table) {
  table.add("Shape", importShape);
  table.add("Size", importSize);
  table.add("Reshape", importReshape);
  table.add("Flatten", importFlatten);
  table.add("Squeeze", importSqueeze);
  table.add("Unsqueeze", importUnsqueeze);
  table.add("Transpose", importTranspose);
  table.add("Slice", importSlice);
  table.add("Concat", importConcat);
  table.add("Split", importSplit);
  table.add("Gather", importGather);
  table.add("Expand", importExpand);
  table.add("Range", importRange);
  table.add("ConstantOfShape", importConstantOfShape);
  table.add("Constant", importConstant);
  table.add("Trilu", importTrilu);
}
