//===- Padding.cpp - import rules for ONNX Pad and Tile ------------------===//
//
// Both only move data, so both are built from data-movement ops that
// already have gradients, costs and sharding rules:
//   Pad, constant mode: a concat of the input with broadcast fill blocks;
//   Pad, edge/reflect/wrap: one gather per padded axis with a constant
//     index vector (edge repeats index 0 and n-1, reflect mirrors without
//     repeating the border, wrap counts modulo n), whose gradient sums
//     the copies back into their source (scatter_add);
//   negative pads: a slice;
//   Tile: reshape to [1, d0, 1, d1, ...], broadcast to [r0, d0, r1, d1, ...],
//     reshape to [r0 * d0, r1 * d1, ...].
//
//===----------------------------------------------------------------------===//
#include "compiler/Importer/NodeContext.h"

#include "dialects/Cleave/IR/TensorBuilder.h"

using namespace mlir;
using namespace mlir::cleave;
using namespace mlir::cleave::importer;

namespace {
enum class PadMode { constant, edge, reflect, wrap };
} // namespace

/// The source position of output position `i` (counted from the first
/// padded element, so the input starts at `before`) along an axis of size n.
static int64_t padSource(PadMode mode, int64_t i, int64_t before, int64_t n) {
  int64_t position = i - before;
  switch (mode) {
  case PadMode::edge:
    return std::clamp<int64_t>(position, 0, n - 1);
  case PadMode::wrap:
    return ((position % n) + n) % n;
  case PadMode::reflect: {
    if (n == 1)
      return 0;
    // NumPy's reflect: period 2(n - 1), the border not repeated.
    int64_t period = 2 * (n - 1);
    int64_t folded = ((position % period) + period) % period;
    return folded < n ? folded : period - folded;
  }
  case PadMode::constant:
    break;
  }
  return position;
}

static LogicalResult importPad(NodeContext &ctx) {
  RankedTensorType type = ctx.getInputType(0);
  int64_t rank = type.getRank();
  std::string modeName = ctx.getAttrString("mode", "constant");
  PadMode mode;
  if (modeName == "constant")
    mode = PadMode::constant;
  else if (modeName == "edge")
    mode = PadMode::edge;
  else if (modeName == "reflect")
    mode = PadMode::reflect;
  else if (modeName == "wrap")
    mode = PadMode::wrap;
  else
    return ctx.fail("unknown mode '" + modeName + "'; supported: constant, edge, reflect, wrap");

  std::vector<int64_t> pads;
  std::vector<int64_t> axes;
  Value fill;
  TensorBuilder b(ctx.getBuilder(), ctx.getLoc());
  if (ctx.getOpset() < 11) {
    pads = ctx.getAttrInts(ctx.getOpset() < 2 ? "paddings" : "pads");
    fill = ctx.scalar(type.getElementType(), ctx.getAttrFloat("value", 0.0));
  } else {
    FailureOr<std::vector<int64_t>> values = ctx.getConstantInts(1, "pads");
    if (failed(values))
      return failure();
    pads = *values;
    if (ctx.hasInput(2)) {
      if (ctx.getInputType(2).getNumElements() != 1)
        return ctx.fail("constant_value must hold one value");
      if (ctx.getInputType(2).getElementType() != type.getElementType())
        return ctx.fail("constant_value and data have different element types");
      fill = ctx.reshape(ctx.getInput(2), {});
    } else {
      fill = ctx.scalar(type.getElementType(), 0.0);
    }
    if (ctx.hasInput(3)) {
      FailureOr<std::vector<int64_t>> axisValues = ctx.getConstantInts(3, "axes");
      if (failed(axisValues))
        return failure();
      axes = *axisValues;
    }
  }
  if (axes.empty())
    for (int64_t d = 0; d < rank; ++d)
      axes.push_back(d);
  if (pads.size() != 2 * axes.size())
    return ctx.fail("pads holds " + std::to_string(pads.size()) + " values; " +
                    std::to_string(2 * axes.size()) + " expected (begin and end per axis)");
  std::vector<int64_t> before(rank, 0), after(rank, 0);
  for (auto [i, axis] : llvm::enumerate(axes)) {
    FailureOr<int64_t> d = ctx.normalizeAxis(axis, rank, "pad axis");
    if (failed(d))
      return failure();
    before[*d] = pads[i];
    after[*d] = pads[i + axes.size()];
  }

  Value result = ctx.getInput(0);
  for (int64_t d = 0; d < rank; ++d) {
    SmallVector<int64_t> shape(TensorBuilder::shapeOf(result));
    // Negative pads remove elements.
    int64_t cropBefore = std::max<int64_t>(-before[d], 0);
    int64_t cropAfter = std::max<int64_t>(-after[d], 0);
    if (cropBefore + cropAfter >= shape[d])
      return ctx.fail("the negative pads of axis " + std::to_string(d) +
                      " remove all of it; empty tensors are not supported");
    if (cropBefore || cropAfter) {
      SmallVector<int64_t> starts(rank, 0), strides(rank, 1);
      starts[d] = cropBefore;
      shape[d] -= cropBefore + cropAfter;
      auto sliceType = RankedTensorType::get(shape, type.getElementType());
      result = SliceOp::create(ctx.getBuilder(), ctx.getLoc(), sliceType, result, starts, strides);
    }
    int64_t low = std::max<int64_t>(before[d], 0), high = std::max<int64_t>(after[d], 0);
    if (low == 0 && high == 0)
      continue;
    int64_t n = shape[d];
    if (mode == PadMode::constant) {
      SmallVector<Value> parts;
      auto block = [&](int64_t size) {
        SmallVector<int64_t> blockShape(shape);
        blockShape[d] = size;
        return b.broadcastTo(fill, blockShape);
      };
      if (low)
        parts.push_back(block(low));
      parts.push_back(result);
      if (high)
        parts.push_back(block(high));
      shape[d] = low + n + high;
      auto concatType = RankedTensorType::get(shape, type.getElementType());
      result = ConcatOp::create(ctx.getBuilder(), ctx.getLoc(), concatType, parts, d);
      continue;
    }
    int64_t count = low + n + high;
    std::vector<int64_t> sources(count);
    for (int64_t i = 0; i < count; ++i)
      sources[i] = padSource(mode, i, low, n);
    Value indices = ctx.constant(
        HostTensor::fromInts(ctx.getBuilder().getI64Type(), {count}, std::move(sources)));
    shape[d] = count;
    auto gatherType = RankedTensorType::get(shape, type.getElementType());
    result = GatherOp::create(ctx.getBuilder(), ctx.getLoc(), gatherType, result, indices, d);
  }
  ctx.setOutput(0, result);
  return success();
}

static LogicalResult importTile(NodeContext &ctx) {
  ArrayRef<int64_t> shape = ctx.getInputShape(0);
  int64_t rank = shape.size();
  FailureOr<std::vector<int64_t>> repeats = ctx.getConstantInts(1, "repeats");
  if (failed(repeats))
    return failure();
  if ((int64_t)repeats->size() != rank)
    return ctx.fail("repeats holds " + std::to_string(repeats->size()) + " values for a rank-" +
                    std::to_string(rank) + " input");
  SmallVector<int64_t> interleaved, stretched, tiled;
  for (int64_t d = 0; d < rank; ++d) {
    int64_t count = (*repeats)[d];
    if (count < 1)
      return ctx.fail("repeats must be at least 1 (empty tensors are not supported), got " +
                      std::to_string(count));
    interleaved.append({1, shape[d]});
    stretched.append({count, shape[d]});
    tiled.push_back(count * shape[d]);
  }
  Value x = ctx.getInput(0);
  if (ArrayRef<int64_t>(tiled) == shape) {
    ctx.setOutput(0, x);
    return success();
  }
  TensorBuilder b(ctx.getBuilder(), ctx.getLoc());
  ctx.setOutput(0, b.reshape(b.broadcastTo(b.reshape(x, interleaved), stretched), tiled));
  return success();
}

void cleave::importer::registerPaddingRules(RuleTable &table) {
  table.add("Pad", importPad);
  table.add("Tile", importTile);
}
