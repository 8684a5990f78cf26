//===- Convolution.cpp - import rules for Conv, ConvTranspose and pooling -===//
//
// The dialect's window ops are 2-D. Other ranks map onto them exactly:
// - 1-D windows are 2-D windows over a height of 1;
// - 3-D pooling is separable (a max over a box is a max over depth of
//   maxima over height x width; an average divides by a box's size, which
//   is a product per axis even where padding is not counted), so it is a
//   pool2d over (H, W) followed by one over D;
// - a 3-D convolution is a sum over the KD depth taps of 2-D convolutions
//   of depth slices;
// - dilated MaxPool, and MaxPool with its Indices output, is an elementwise
//   max of strided slices, one per window tap;
// - ConvTranspose is cleave.conv2d_grad_input (the transpose of the
//   convolution with the same geometry), whose gradients are a conv2d and a
//   conv2d_grad_filter; in 3-D, one per depth tap, placed along the depth
//   with slice_scatter.
//
//===----------------------------------------------------------------------===//
#include "compiler/Importer/NodeContext.h"
#include "dialects/Cleave/IR/TensorBuilder.h"
#include "dialects/Cleave/IR/WindowShapes.h"

#include <cmath>
#include <numeric>

using namespace mlir;
using namespace mlir::cleave;
using namespace mlir::cleave::importer;

/// Window geometry common to Conv, ConvTranspose, MaxPool and AveragePool
/// over 1-3 spatial dimensions, with explicit padding [begin..., end...].
struct Window {
  SmallVector<int64_t> kernel, strides, dilations, padding;
  int64_t rank() const { return kernel.size(); }

  /// The same window as 2-D: a 1-D window gets a leading height of 1.
  Window as2d() const {
    if (rank() == 2)
      return *this;
    return Window{
        {1, kernel[0]}, {1, strides[0]}, {1, dilations[0]}, {0, padding[0], 0, padding[1]}};
  }
  /// The (H, W) part of a 3-D window.
  Window inner2d() const {
    return Window{{kernel[1], kernel[2]},
                  {strides[1], strides[2]},
                  {dilations[1], dilations[2]},
                  {padding[1], padding[2], padding[4], padding[5]}};
  }
};

static RankedTensorType typeOf(Value value) { return cast<RankedTensorType>(value.getType()); }

/// Reads kernel_shape/strides/dilations/pads/auto_pad for `spatial`
/// dimensions of the input. ConvTranspose resolves auto_pad itself.
static FailureOr<Window> readWindow(NodeContext &ctx, ArrayRef<int64_t> kernel,
                                    bool resolveAutoPad = true) {
  ArrayRef<int64_t> input = ctx.getInputShape(0);
  int64_t spatial = (int64_t)input.size() - 2;
  if (spatial < 1 || spatial > 3)
    return ctx.fail("only 1-D, 2-D and 3-D windows over [N, C, spatial...] inputs are "
                    "supported; input has rank " +
                    std::to_string(input.size()));
  if (!isa<FloatType>(ctx.getInputType(0).getElementType()))
    return ctx.fail("only float inputs are supported");
  Window window;
  window.kernel.assign(kernel.begin(), kernel.end());
  std::vector<int64_t> strides = ctx.getAttrInts("strides", std::vector<int64_t>(spatial, 1));
  std::vector<int64_t> dilations = ctx.getAttrInts("dilations", std::vector<int64_t>(spatial, 1));
  std::vector<int64_t> pads = ctx.getAttrInts("pads", std::vector<int64_t>(2 * spatial, 0));
  if ((int64_t)kernel.size() != spatial || (int64_t)strides.size() != spatial ||
      (int64_t)dilations.size() != spatial || (int64_t)pads.size() != 2 * spatial)
    return ctx.fail("kernel_shape, strides, dilations and pads must describe " +
                    std::to_string(spatial) + " spatial dimensions");
  for (int64_t i = 0; i < spatial; ++i)
    if (kernel[i] < 1 || strides[i] < 1 || dilations[i] < 1)
      return ctx.fail("kernel_shape, strides and dilations must be positive");
  for (int64_t pad : pads)
    if (pad < 0)
      return ctx.fail("pads must not be negative");
  window.strides.assign(strides.begin(), strides.end());
  window.dilations.assign(dilations.begin(), dilations.end());
  window.padding.assign(pads.begin(), pads.end());
  if (!resolveAutoPad)
    return window;
  std::string autoPad = ctx.getAttrString("auto_pad", "NOTSET");
  if (autoPad == "VALID") {
    window.padding.assign(2 * spatial, 0);
  } else if (autoPad == "SAME_UPPER" || autoPad == "SAME_LOWER") {
    // Pad so that output = ceil(input / stride); an odd total puts the
    // extra element after (UPPER) or before (LOWER).
    for (int64_t i = 0; i < spatial; ++i) {
      int64_t in = input[2 + i], stride = strides[i];
      int64_t out = (in + stride - 1) / stride;
      int64_t span = dilations[i] * (kernel[i] - 1) + 1;
      int64_t total = std::max<int64_t>(0, (out - 1) * stride + span - in);
      int64_t small = total / 2, large = total - small;
      window.padding[i] = autoPad == "SAME_UPPER" ? small : large;
      window.padding[spatial + i] = autoPad == "SAME_UPPER" ? large : small;
    }
  } else if (autoPad != "NOTSET") {
    return ctx.fail("unknown auto_pad '" + autoPad + "'");
  }
  return window;
}

/// Output extents of `window` over the input's spatial dimensions.
static FailureOr<SmallVector<int64_t>> outputSizes(NodeContext &ctx, const Window &window,
                                                   bool ceilMode) {
  ArrayRef<int64_t> input = ctx.getInputShape(0);
  SmallVector<int64_t> sizes;
  for (int64_t i = 0; i < window.rank(); ++i) {
    int64_t size =
        windowOutputSize(input[2 + i], window.kernel[i], window.strides[i], window.padding[i],
                         window.padding[window.rank() + i], window.dilations[i], ceilMode);
    if (size <= 0)
      return ctx.fail("the window does not fit in spatial dimension " + std::to_string(i) +
                      " (size " + std::to_string(input[2 + i]) + " with its padding)");
    sizes.push_back(size);
  }
  return sizes;
}

/// [d0, d1, rest...] with a 1 inserted at index 2: 1-D data as 2-D.
static SmallVector<int64_t> withUnitHeight(ArrayRef<int64_t> shape) {
  SmallVector<int64_t> result(shape.take_front(2));
  result.push_back(1);
  llvm::append_range(result, shape.drop_front(2));
  return result;
}

static Value conv2d(NodeContext &ctx, Value input, Value filter, Value bias, const Window &window,
                    int64_t groups) {
  ArrayRef<int64_t> in = typeOf(input).getShape(), f = typeOf(filter).getShape();
  SmallVector<int64_t> shape = {in[0], f[0]};
  for (int i = 0; i < 2; ++i)
    shape.push_back(windowOutputSize(in[2 + i], window.kernel[i], window.strides[i],
                                     window.padding[i], window.padding[2 + i], window.dilations[i],
                                     false));
  auto type = RankedTensorType::get(shape, typeOf(input).getElementType());
  return Conv2dOp::create(ctx.getBuilder(), ctx.getLoc(), type, input, filter, bias, window.strides,
                          window.padding, window.dilations, groups);
}

/// 3-D convolution: for each depth tap kd, the depth slices it reads
/// (d * stride + kd * dilation in the padded input) are convolved in 2-D
/// with filter[:, :, kd] as one batch of N * OD images; the taps are summed.
static FailureOr<Value> conv3d(NodeContext &ctx, Value input, Value filter, Value bias,
                               const Window &window, int64_t groups, int64_t outDepth) {
  ArrayRef<int64_t> in = typeOf(input).getShape(), f = typeOf(filter).getShape();
  Type element = typeOf(input).getElementType();
  int64_t n = in[0], c = in[1], depth = in[2], h = in[3], w = in[4];
  int64_t padBefore = window.padding[0], padAfter = window.padding[3];
  // [N, D, C, H, W], padded with zeros along D.
  Value slices = ctx.transpose(input, {0, 2, 1, 3, 4});
  if (padBefore || padAfter) {
    SmallVector<Value> parts;
    auto zeros = [&](int64_t count) {
      return ctx.broadcastTo(ctx.scalar(element, 0.0), {n, count, c, h, w});
    };
    if (padBefore)
      parts.push_back(zeros(padBefore));
    parts.push_back(slices);
    if (padAfter)
      parts.push_back(zeros(padAfter));
    auto type = RankedTensorType::get({n, depth + padBefore + padAfter, c, h, w}, element);
    slices = ConcatOp::create(ctx.getBuilder(), ctx.getLoc(), type, parts, 1);
  }
  Window plane = window.inner2d();
  Value sum;
  for (int64_t kd = 0; kd < window.kernel[0]; ++kd) {
    auto sliceType = RankedTensorType::get({n, outDepth, c, h, w}, element);
    Value taken = SliceOp::create(ctx.getBuilder(), ctx.getLoc(), sliceType, slices,
                                  ArrayRef<int64_t>{0, kd * window.dilations[0], 0, 0, 0},
                                  ArrayRef<int64_t>{1, window.strides[0], 1, 1, 1});
    auto tapType = RankedTensorType::get({f[0], f[1], 1, f[3], f[4]}, element);
    Value tap =
        SliceOp::create(ctx.getBuilder(), ctx.getLoc(), tapType, filter,
                        ArrayRef<int64_t>{0, 0, kd, 0, 0}, ArrayRef<int64_t>{1, 1, 1, 1, 1});
    Value out = conv2d(ctx, ctx.reshape(taken, {n * outDepth, c, h, w}),
                       ctx.reshape(tap, {f[0], f[1], f[3], f[4]}), Value(), plane, groups);
    FailureOr<Value> added = ctx.accumulate(sum, out);
    if (failed(added))
      return failure();
    sum = *added;
  }
  ArrayRef<int64_t> planeShape = typeOf(sum).getShape();
  Value result = ctx.transpose(ctx.reshape(sum, {n, outDepth, f[0], planeShape[2], planeShape[3]}),
                               {0, 2, 1, 3, 4});
  if (!bias)
    return result;
  return ctx.binary(BinaryKind::add, result, ctx.reshape(bias, {f[0], 1, 1, 1}));
}

static LogicalResult importConv(NodeContext &ctx) {
  ArrayRef<int64_t> filter = ctx.getInputShape(1);
  ArrayRef<int64_t> input = ctx.getInputShape(0);
  if (filter.size() != input.size())
    return ctx.fail("the filter's rank " + std::to_string(filter.size()) +
                    " differs from the input's " + std::to_string(input.size()));
  std::vector<int64_t> filterWindow(filter.begin() + std::min<size_t>(2, filter.size()),
                                    filter.end());
  std::vector<int64_t> kernel = ctx.getAttrInts("kernel_shape", filterWindow);
  if (kernel != filterWindow)
    return ctx.fail("kernel_shape disagrees with the filter's shape");
  FailureOr<Window> window = readWindow(ctx, kernel);
  if (failed(window))
    return failure();
  int64_t groups = ctx.getAttrInt("group", 1);
  if (groups <= 0 || input[1] % groups != 0 || filter[1] * groups != input[1] ||
      filter[0] % groups != 0)
    return ctx.fail("filter channels " + std::to_string(filter[1]) + " x groups " +
                    std::to_string(groups) + " do not match input channels " +
                    std::to_string(input[1]));
  FailureOr<SmallVector<int64_t>> sizes = outputSizes(ctx, *window, false);
  if (failed(sizes))
    return failure();
  Value bias = ctx.hasInput(2) ? ctx.getInput(2) : Value();
  if (window->rank() == 3) {
    return ctx.setOutput(
        0, conv3d(ctx, ctx.getInput(0), ctx.getInput(1), bias, *window, groups, (*sizes)[0]));
  }
  Value x = ctx.getInput(0), w = ctx.getInput(1);
  if (window->rank() == 1) {
    x = ctx.reshape(x, withUnitHeight(input));
    w = ctx.reshape(w, withUnitHeight(filter));
  }
  Value result = conv2d(ctx, x, w, bias, window->as2d(), groups);
  SmallVector<int64_t> shape = {input[0], filter[0]};
  llvm::append_range(shape, *sizes);
  ctx.setOutput(0, ctx.reshape(result, shape));
  return success();
}

/// Adds ConvTranspose's optional bias to `result` and sets the output.
static LogicalResult setConvTransposeOutput(NodeContext &ctx, Value result, int64_t outChannels,
                                            int64_t spatial) {
  if (ctx.hasInput(2)) {
    if (ctx.getInputShape(2) != ArrayRef<int64_t>{outChannels})
      return ctx.fail("bias must have shape [" + std::to_string(outChannels) + "]");
    SmallVector<int64_t> biasShape(spatial + 1, 1);
    biasShape[0] = outChannels;
    FailureOr<Value> biased =
        ctx.binary(BinaryKind::add, result, ctx.reshape(ctx.getInput(2), biasShape));
    if (failed(biased))
      return failure();
    result = *biased;
  }
  ctx.setOutput(0, result);
  return success();
}

/// 3-D ConvTranspose, the transpose of conv3d's decomposition: each input
/// depth slice d contributes, through filter tap kd, a 2-D transposed
/// convolution to output depth d * stride + kd * dilation (before the
/// depth padding is cut off). Each tap's contributions are placed with a
/// slice_scatter and the taps summed.
static FailureOr<Value> convTranspose3d(NodeContext &ctx, const Window &window, int64_t groups,
                                        int64_t outChannels, int64_t depthOutputPadding,
                                        ArrayRef<int64_t> sizes) {
  ArrayRef<int64_t> in = ctx.getInputShape(0), f = ctx.getInputShape(1);
  Type element = ctx.getInputType(0).getElementType();
  int64_t n = in[0], c = in[1], depth = in[2];
  int64_t span = window.dilations[0] * (window.kernel[0] - 1) + 1;
  int64_t fullDepth = window.strides[0] * (depth - 1) + depthOutputPadding + span;
  Window plane = window.inner2d();
  Value slices =
      ctx.reshape(ctx.transpose(ctx.getInput(0), {0, 2, 1, 3, 4}), {n * depth, c, in[3], in[4]});
  auto planeType = RankedTensorType::get({n * depth, outChannels, sizes[1], sizes[2]}, element);
  auto fullType = RankedTensorType::get({n, fullDepth, outChannels, sizes[1], sizes[2]}, element);
  Value sum;
  for (int64_t kd = 0; kd < window.kernel[0]; ++kd) {
    auto tapType = RankedTensorType::get({f[0], f[1], 1, f[3], f[4]}, element);
    Value tap =
        SliceOp::create(ctx.getBuilder(), ctx.getLoc(), tapType, ctx.getInput(1),
                        ArrayRef<int64_t>{0, 0, kd, 0, 0}, ArrayRef<int64_t>{1, 1, 1, 1, 1});
    Value planes = Conv2dGradInputOp::create(ctx.getBuilder(), ctx.getLoc(), planeType, slices,
                                             ctx.reshape(tap, {f[0], f[1], f[3], f[4]}),
                                             plane.strides, plane.padding, plane.dilations, groups);
    Value placed =
        SliceScatterOp::create(ctx.getBuilder(), ctx.getLoc(), fullType,
                               ctx.reshape(planes, {n, depth, outChannels, sizes[1], sizes[2]}),
                               ArrayRef<int64_t>{0, kd * window.dilations[0], 0, 0, 0},
                               ArrayRef<int64_t>{1, window.strides[0], 1, 1, 1});
    FailureOr<Value> added = ctx.accumulate(sum, placed);
    if (failed(added))
      return failure();
    sum = *added;
  }
  auto croppedType = RankedTensorType::get({n, sizes[0], outChannels, sizes[1], sizes[2]}, element);
  Value cropped = SliceOp::create(ctx.getBuilder(), ctx.getLoc(), croppedType, sum,
                                  ArrayRef<int64_t>{0, window.padding[0], 0, 0, 0},
                                  ArrayRef<int64_t>{1, 1, 1, 1, 1});
  return ctx.transpose(cropped, {0, 2, 1, 3, 4});
}

/// ConvTranspose as the input gradient of the convolution that maps its
/// output back to its input: X [N, Cin, ...] is that convolution's result,
/// W [Cin, Cout/groups, k...] its filter.
static LogicalResult importConvTranspose(NodeContext &ctx) {
  ArrayRef<int64_t> input = ctx.getInputShape(0), filter = ctx.getInputShape(1);
  if (filter.size() != input.size())
    return ctx.fail("the filter's rank differs from the input's");
  std::vector<int64_t> filterWindow(filter.begin() + std::min<size_t>(2, filter.size()),
                                    filter.end());
  std::vector<int64_t> kernel = ctx.getAttrInts("kernel_shape", filterWindow);
  if (kernel != filterWindow)
    return ctx.fail("kernel_shape disagrees with the filter's shape");
  FailureOr<Window> window = readWindow(ctx, kernel, /*resolveAutoPad=*/false);
  if (failed(window))
    return failure();
  int64_t spatial = window->rank();
  int64_t groups = ctx.getAttrInt("group", 1);
  if (groups <= 0 || filter[0] != input[1] || input[1] % groups != 0)
    return ctx.fail("the filter's first dimension must be the input channels (" +
                    std::to_string(input[1]) + "), divisible by group");
  int64_t outChannels = filter[1] * groups;
  std::vector<int64_t> outputPadding =
      ctx.getAttrInts("output_padding", std::vector<int64_t>(spatial, 0));
  if ((int64_t)outputPadding.size() != spatial)
    return ctx.fail("output_padding must have one entry per spatial dimension");
  std::string autoPad = ctx.getAttrString("auto_pad", "NOTSET");
  std::vector<int64_t> outputShape = ctx.getAttrInts("output_shape");
  if (autoPad == "SAME_UPPER" || autoPad == "SAME_LOWER") {
    if (outputShape.empty())
      for (int64_t i = 0; i < spatial; ++i)
        outputShape.push_back(input[2 + i] * window->strides[i]);
  } else if (autoPad == "VALID") {
    window->padding.assign(2 * spatial, 0);
  } else if (autoPad != "NOTSET") {
    return ctx.fail("unknown auto_pad '" + autoPad + "'");
  }
  if (outputShape.size() > (size_t)spatial)
    outputShape.erase(outputShape.begin(), outputShape.end() - spatial);
  SmallVector<int64_t> padEnd(window->padding.begin() + spatial, window->padding.end());
  SmallVector<int64_t> sizes;
  for (int64_t i = 0; i < spatial; ++i) {
    int64_t span = window->dilations[i] * (kernel[i] - 1) + 1;
    int64_t full = window->strides[i] * (input[2 + i] - 1) + outputPadding[i] + span;
    if (!outputShape.empty()) {
      // ONNX: total padding = full - output_shape, split with the odd one
      // at the end (SAME_UPPER) or the start; a negative total (a larger
      // output than the full one) extends the end like output_padding.
      int64_t total = full - outputShape[i];
      int64_t half = total >= 0 ? total / 2 : -((-total + 1) / 2);
      int64_t begin = autoPad == "SAME_UPPER" ? half : total - half;
      window->padding[i] = begin;
      padEnd[i] = total - begin;
    }
    if (window->padding[i] < 0)
      return ctx.fail("output_shape asks for a negative padding at the start of dimension " +
                      std::to_string(i));
    sizes.push_back(full - window->padding[i] - padEnd[i]);
    if (padEnd[i] < 0) {
      outputPadding[i] -= padEnd[i];
      padEnd[i] = 0;
    }
    if (outputPadding[i] < 0 || outputPadding[i] >= window->strides[i])
      return ctx.fail("output_padding must lie in [0, stride) (the extra positions map to no "
                      "input of the matching convolution)");
    if (sizes.back() <= 0)
      return ctx.fail("the output of spatial dimension " + std::to_string(i) + " is empty");
  }
  for (int64_t i = 0; i < spatial; ++i)
    window->padding[spatial + i] = padEnd[i];

  Type element = ctx.getInputType(0).getElementType();
  if (spatial == 3) {
    FailureOr<Value> result =
        convTranspose3d(ctx, *window, groups, outChannels, outputPadding[0], sizes);
    if (failed(result))
      return failure();
    return setConvTransposeOutput(ctx, *result, outChannels, spatial);
  }
  Window plane = window->as2d();
  Value x = ctx.getInput(0), w = ctx.getInput(1);
  SmallVector<int64_t> planeSizes(sizes);
  if (spatial == 1) {
    x = ctx.reshape(x, withUnitHeight(input));
    w = ctx.reshape(w, withUnitHeight(filter));
    planeSizes.insert(planeSizes.begin(), 1);
  }
  auto planeType =
      RankedTensorType::get({input[0], outChannels, planeSizes[0], planeSizes[1]}, element);
  Value result = Conv2dGradInputOp::create(ctx.getBuilder(), ctx.getLoc(), planeType, x, w,
                                           plane.strides, plane.padding, plane.dilations, groups);
  SmallVector<int64_t> shape = {input[0], outChannels};
  llvm::append_range(shape, sizes);
  return setConvTransposeOutput(ctx, ctx.reshape(result, shape), outChannels, spatial);
}

static Value pool2d(NodeContext &ctx, PoolKind kind, Value input, const Window &window,
                    bool ceilMode, bool countIncludePad) {
  ArrayRef<int64_t> in = typeOf(input).getShape();
  SmallVector<int64_t> shape = {in[0], in[1]};
  for (int i = 0; i < 2; ++i)
    shape.push_back(windowOutputSize(in[2 + i], window.kernel[i], window.strides[i],
                                     window.padding[i], window.padding[2 + i], 1, ceilMode));
  auto type = RankedTensorType::get(shape, typeOf(input).getElementType());
  auto op = Pool2dOp::create(ctx.getBuilder(), ctx.getLoc(), type, kind, input, window.kernel,
                             window.strides, window.padding);
  op.setCeilMode(ceilMode);
  op.setCountIncludePad(countIncludePad);
  return op.getResult();
}

/// Max pooling by window taps, for what cleave.pool2d does not do: dilated
/// windows and MaxPool's Indices output. The input is padded with -inf
/// (also past the end where ceil_mode's last window reaches); each tap is a
/// strided slice, and the result their elementwise max (ties go to the
/// earlier tap, the first maximum, as PyTorch's gradient does). With
/// `indices`, each tap's flat input positions, (n * C + c) * H * W + h * W + w
/// (h + w * H with column-major `storageOrder` 1), are built from iotas and
/// the index of the first maximum kept alongside.
static FailureOr<std::pair<Value, Value>> maxPoolByTaps(NodeContext &ctx, Value input,
                                                        const Window &window,
                                                        ArrayRef<int64_t> sizes, bool indices,
                                                        int64_t storageOrder) {
  auto type = typeOf(input);
  Type element = type.getElementType(), i64 = ctx.getBuilder().getI64Type();
  ArrayRef<int64_t> original = type.getShape();
  SmallVector<int64_t> shape(original);
  Value padded = input;
  for (int i = 0; i < 2; ++i) {
    int64_t reach =
        (sizes[i] - 1) * window.strides[i] + (window.kernel[i] - 1) * window.dilations[i] + 1;
    int64_t before = window.padding[i];
    int64_t after = std::max<int64_t>(window.padding[2 + i], reach - before - shape[2 + i]);
    SmallVector<Value> parts;
    auto fill = [&](int64_t count) {
      SmallVector<int64_t> fillShape(shape);
      fillShape[2 + i] = count;
      return ctx.broadcastTo(ctx.scalar(element, -INFINITY), fillShape);
    };
    if (before)
      parts.push_back(fill(before));
    parts.push_back(padded);
    if (after)
      parts.push_back(fill(after));
    shape[2 + i] += before + after;
    if (parts.size() > 1)
      padded = ConcatOp::create(ctx.getBuilder(), ctx.getLoc(),
                                RankedTensorType::get(shape, element), parts, 2 + i);
  }
  int64_t n = original[0], c = original[1], h = original[2], w = original[3];
  int64_t rowStride = storageOrder == 0 ? w : 1, colStride = storageOrder == 0 ? 1 : h;
  auto iota = [&](int64_t count, int64_t start, int64_t step, int64_t dim) {
    Value sequence = IotaOp::create(ctx.getBuilder(), ctx.getLoc(),
                                    RankedTensorType::get({count}, i64), start, step);
    SmallVector<int64_t> iotaShape(4, 1);
    iotaShape[dim] = count;
    return ctx.reshape(sequence, iotaShape);
  };
  Value planes; // (n * C + c) * H * W, as [N, C, 1, 1]
  if (indices)
    planes = ctx.reshape(IotaOp::create(ctx.getBuilder(), ctx.getLoc(),
                                        RankedTensorType::get({n * c}, i64), 0, h * w),
                         {n, c, 1, 1});
  auto outType = RankedTensorType::get({n, c, sizes[0], sizes[1]}, element);
  // Every tap has outType and the index parts ([N, C, 1, 1], [1, 1, H', 1],
  // [1, 1, 1, W'], all i64) broadcast by construction: nothing below can
  // fail to type, so the unchecked TensorBuilder builds it.
  TensorBuilder b(ctx.getBuilder(), ctx.getLoc());
  Value best, bestIndex;
  for (int64_t kh = 0; kh < window.kernel[0]; ++kh)
    for (int64_t kw = 0; kw < window.kernel[1]; ++kw) {
      Value tap = SliceOp::create(
          ctx.getBuilder(), ctx.getLoc(), outType, padded,
          ArrayRef<int64_t>{0, 0, kh * window.dilations[0], kw * window.dilations[1]},
          ArrayRef<int64_t>{1, 1, window.strides[0], window.strides[1]});
      Value tapIndex;
      if (indices) {
        Value rows = iota(sizes[0], (kh * window.dilations[0] - window.padding[0]) * rowStride,
                          window.strides[0] * rowStride, 2);
        Value cols = iota(sizes[1], (kw * window.dilations[1] - window.padding[1]) * colStride,
                          window.strides[1] * colStride, 3);
        tapIndex = b.add(b.add(planes, rows), cols);
      }
      if (!best) {
        best = tap;
        bestIndex = tapIndex;
        continue;
      }
      if (indices)
        bestIndex = b.select(b.compare(CompareKind::gt, tap, best), tapIndex, bestIndex);
      best = b.binary(BinaryKind::max, best, tap);
    }
  if (indices && bestIndex.getType() != RankedTensorType::get(outType.getShape(), i64))
    bestIndex = ctx.broadcastTo(bestIndex, outType.getShape());
  return std::make_pair(best, bestIndex);
}

static LogicalResult importPool(NodeContext &ctx, PoolKind kind) {
  FailureOr<Window> window = readWindow(ctx, ctx.getAttrInts("kernel_shape"));
  if (failed(window))
    return failure();
  bool dilated = llvm::any_of(window->dilations, [](int64_t d) { return d != 1; });
  bool withIndices = ctx.hasOutput(1);
  if ((dilated || withIndices) && (kind != PoolKind::max || window->rank() == 3))
    return ctx.fail("dilated pooling and MaxPool's Indices output are supported for 1-D and "
                    "2-D MaxPool only");
  int64_t storageOrder = ctx.getAttrInt("storage_order", 0);
  if (storageOrder != 0 && storageOrder != 1)
    return ctx.fail("storage_order must be 0 (row-major) or 1 (column-major)");
  bool ceilMode = ctx.getAttrInt("ceil_mode", 0) != 0;
  bool countIncludePad = kind == PoolKind::avg && ctx.getAttrInt("count_include_pad", 0) != 0;
  FailureOr<SmallVector<int64_t>> sizes = outputSizes(ctx, *window, ceilMode);
  if (failed(sizes))
    return failure();
  ArrayRef<int64_t> input = ctx.getInputShape(0);
  for (int64_t i = 0; i < window->rank(); ++i)
    if (window->padding[i] >= window->kernel[i] ||
        window->padding[window->rank() + i] >= window->kernel[i])
      return ctx.fail("padding must be smaller than the window");
  SmallVector<int64_t> shape = {input[0], input[1]};
  llvm::append_range(shape, *sizes);
  Value x = ctx.getInput(0);
  if (window->rank() == 3) {
    // Pool (H, W) of every depth slice, then D over the flattened plane.
    int64_t n = input[0], c = input[1], d = input[2];
    Value planes = pool2d(ctx, kind, ctx.reshape(x, {n, c * d, input[3], input[4]}),
                          window->inner2d(), ceilMode, countIncludePad);
    int64_t plane = (*sizes)[1] * (*sizes)[2];
    Window depth{{window->kernel[0], 1},
                 {window->strides[0], 1},
                 {1, 1},
                 {window->padding[0], 0, window->padding[3], 0}};
    Value pooled =
        pool2d(ctx, kind, ctx.reshape(planes, {n, c, d, plane}), depth, ceilMode, countIncludePad);
    ctx.setOutput(0, ctx.reshape(pooled, shape));
    return success();
  }
  if (window->rank() == 1)
    x = ctx.reshape(x, withUnitHeight(input));
  if (dilated || withIndices) {
    SmallVector<int64_t> planeSizes(*sizes);
    if (window->rank() == 1)
      planeSizes.insert(planeSizes.begin(), 1);
    // A 1-D input's positions are its 2-D form's with H = 1, in either order.
    FailureOr<std::pair<Value, Value>> pooled =
        maxPoolByTaps(ctx, x, window->as2d(), planeSizes, withIndices, storageOrder);
    if (failed(pooled))
      return failure();
    ctx.setOutput(0, ctx.reshape(pooled->first, shape));
    if (withIndices)
      ctx.setOutput(1, ctx.reshape(pooled->second, shape));
    return success();
  }
  ctx.setOutput(
      0, ctx.reshape(pool2d(ctx, kind, x, window->as2d(), ceilMode, countIncludePad), shape));
  return success();
}

static LogicalResult importGlobalPool(NodeContext &ctx, ReduceKind kind) {
  int64_t rank = ctx.getInputType(0).getRank();
  if (rank < 3)
    return ctx.fail("input needs rank >= 3 ([N, C, spatial...])");
  SmallVector<int64_t> axes;
  for (int64_t d = 2; d < rank; ++d)
    axes.push_back(d);
  ctx.setOutput(0, ctx.reduce(kind, ctx.getInput(0), axes, /*keepDims=*/true));
  return success();
}

void cleave::importer::registerConvolutionRules(RuleTable &table) {
  table.add("Conv", importConv);
  table.add("ConvTranspose", importConvTranspose);
  table.add("MaxPool", [](NodeContext &ctx) { return importPool(ctx, PoolKind::max); });
  table.add("AveragePool", [](NodeContext &ctx) { return importPool(ctx, PoolKind::avg); });
  table.add("GlobalAveragePool",
            [](NodeContext &ctx) { return importGlobalPool(ctx, ReduceKind::mean); });
  table.add("GlobalMaxPool",
            [](NodeContext &ctx) { return importGlobalPool(ctx, ReduceKind::max); });
}
