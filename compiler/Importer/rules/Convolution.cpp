//===- Convolution.cpp - import rules for Conv and pooling ----------------===//
#include "compiler/Importer/NodeContext.h"
#include "dialects/Cleave/IR/WindowShapes.h"

using namespace mlir;
using namespace mlir::cleave;
using namespace mlir::cleave::importer;

/// Window geometry common to Conv, MaxPool and AveragePool, resolved to
/// explicit [top, left, bottom, right] padding.
struct Window {
  SmallVector<int64_t> kernel, strides, dilations, padding;
};

static FailureOr<Window> readWindow(NodeContext &ctx, ArrayRef<int64_t> kernel) {
  ArrayRef<int64_t> input = ctx.getInputShape(0);
  if (input.size() != 4)
    return ctx.fail("only 2-D windows over NCHW inputs are supported; input has rank " +
                    std::to_string(input.size()));
  if (!isa<FloatType>(ctx.getInputType(0).getElementType()))
    return ctx.fail("only float inputs are supported");
  Window window;
  window.kernel.assign(kernel.begin(), kernel.end());
  std::vector<int64_t> strides = ctx.getAttrInts("strides", {1, 1});
  std::vector<int64_t> dilations = ctx.getAttrInts("dilations", {1, 1});
  std::vector<int64_t> pads = ctx.getAttrInts("pads", {0, 0, 0, 0});
  if (kernel.size() != 2 || strides.size() != 2 || dilations.size() != 2 || pads.size() != 4)
    return ctx.fail("kernel_shape, strides, dilations and pads must describe 2 spatial "
                    "dimensions");
  for (int i = 0; i < 2; ++i)
    if (kernel[i] < 1 || strides[i] < 1 || dilations[i] < 1)
      return ctx.fail("kernel_shape, strides and dilations must be positive");
  for (int64_t pad : pads)
    if (pad < 0)
      return ctx.fail("pads must not be negative");
  window.strides.assign(strides.begin(), strides.end());
  window.dilations.assign(dilations.begin(), dilations.end());
  window.padding.assign(pads.begin(), pads.end());
  std::string autoPad = ctx.getAttrString("auto_pad", "NOTSET");
  if (autoPad == "VALID") {
    window.padding.assign(4, 0);
  } else if (autoPad == "SAME_UPPER" || autoPad == "SAME_LOWER") {
    // Pad so that output = ceil(input / stride); an odd total puts the
    // extra element after (UPPER) or before (LOWER).
    for (int i = 0; i < 2; ++i) {
      int64_t in = input[2 + i], stride = strides[i];
      int64_t out = (in + stride - 1) / stride;
      int64_t span = dilations[i] * (kernel[i] - 1) + 1;
      int64_t total = std::max<int64_t>(0, (out - 1) * stride + span - in);
      int64_t small = total / 2, large = total - small;
      window.padding[i] = autoPad == "SAME_UPPER" ? small : large;
      window.padding[2 + i] = autoPad == "SAME_UPPER" ? large : small;
    }
  } else if (autoPad != "NOTSET") {
    return ctx.fail("unknown auto_pad '" + autoPad + "'");
  }
  return window;
}

static FailureOr<RankedTensorType> outputType(NodeContext &ctx, int64_t channels,
                                              const Window &window, bool ceilMode) {
  ArrayRef<int64_t> input = ctx.getInputShape(0);
  SmallVector<int64_t> shape = {input[0], channels};
  for (int i = 0; i < 2; ++i) {
    int64_t size =
        windowOutputSize(input[2 + i], window.kernel[i], window.strides[i], window.padding[i],
                         window.padding[2 + i], window.dilations[i], ceilMode);
    if (size <= 0)
      return ctx.fail("the window does not fit in spatial dimension " + std::to_string(i) +
                      " (size " + std::to_string(input[2 + i]) + " with its padding)");
    shape.push_back(size);
  }
  return RankedTensorType::get(shape, ctx.getInputType(0).getElementType());
}

static LogicalResult importConv(NodeContext &ctx) {
  ArrayRef<int64_t> filter = ctx.getInputShape(1);
  if (filter.size() != 4)
    return ctx.fail("only 2-D convolutions (rank-4 filters) are supported");
  std::vector<int64_t> kernel = ctx.getAttrInts("kernel_shape", {filter[2], filter[3]});
  if (kernel.size() != 2 || kernel[0] != filter[2] || kernel[1] != filter[3])
    return ctx.fail("kernel_shape disagrees with the filter's shape");
  FailureOr<Window> window = readWindow(ctx, kernel);
  if (failed(window))
    return failure();
  ArrayRef<int64_t> input = ctx.getInputShape(0);
  int64_t groups = ctx.getAttrInt("group", 1);
  if (groups <= 0 || input[1] % groups != 0 || filter[1] * groups != input[1])
    return ctx.fail("filter channels " + std::to_string(filter[1]) + " x groups " +
                    std::to_string(groups) + " do not match input channels " +
                    std::to_string(input[1]));
  FailureOr<RankedTensorType> type = outputType(ctx, filter[0], *window, false);
  if (failed(type))
    return failure();
  Value bias = ctx.hasInput(2) ? ctx.getInput(2) : Value();
  ctx.setOutput(0, Conv2dOp::create(ctx.getBuilder(), ctx.getLoc(), *type, ctx.getInput(0),
                                    ctx.getInput(1), bias, window->strides, window->padding,
                                    window->dilations, groups));
  return success();
}

static LogicalResult importPool(NodeContext &ctx, PoolKind kind) {
  if (ctx.hasOutput(1))
    return ctx.fail("the Indices output of MaxPool is not supported");
  FailureOr<Window> window = readWindow(ctx, ctx.getAttrInts("kernel_shape"));
  if (failed(window))
    return failure();
  if (window->dilations[0] != 1 || window->dilations[1] != 1)
    return ctx.fail("dilated pooling is not supported");
  if (ctx.getAttrInt("storage_order", 0) != 0)
    return ctx.fail("column-major storage_order is not supported");
  bool ceilMode = ctx.getAttrInt("ceil_mode", 0) != 0;
  FailureOr<RankedTensorType> type = outputType(ctx, ctx.getInputShape(0)[1], *window, ceilMode);
  if (failed(type))
    return failure();
  auto op = Pool2dOp::create(ctx.getBuilder(), ctx.getLoc(), *type, kind, ctx.getInput(0),
                             window->kernel, window->strides, window->padding);
  op.setCeilMode(ceilMode);
  op.setCountIncludePad(kind == PoolKind::avg && ctx.getAttrInt("count_include_pad", 0) != 0);
  ctx.setOutput(0, op.getResult());
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
  table.add("MaxPool", [](NodeContext &ctx) { return importPool(ctx, PoolKind::max); });
  table.add("AveragePool", [](NodeContext &ctx) { return importPool(ctx, PoolKind::avg); });
  table.add("GlobalAveragePool",
            [](NodeContext &ctx) { return importGlobalPool(ctx, ReduceKind::mean); });
  table.add("GlobalMaxPool",
            [](NodeContext &ctx) { return importGlobalPool(ctx, ReduceKind::max); });
}
