//===- Resize.cpp - import rules for Resize and Upsample ------------------===//
//
// Nearest, linear and cubic resizing are separable: each resized axis is a
// cleave.gather with indices computed here (nearest), or a weighted sum of
// two (linear) or four (cubic) gathers with constant weights. Coordinates
// follow ONNX's reference implementation (onnx/backend/test/case/node/
// resize.py): source position from the coordinate transformation,
// neighbours clamped to the edge.
//
//===----------------------------------------------------------------------===//
#include "compiler/Importer/NodeContext.h"

#include "onnx/onnx_pb.h"

#include <array>
#include <cmath>

using namespace mlir;
using namespace mlir::cleave;
using namespace mlir::cleave::importer;

namespace {
/// How one output index maps to a source coordinate.
struct AxisMapping {
  std::string transform;
  int64_t inSize, outSize;
  double scale; // output length / input length
  // tf_crop_and_resize's region of interest, as fractions of the input.
  double roiStart = 0, roiEnd = 1;
};
} // namespace

static FailureOr<double> sourceCoordinate(NodeContext &ctx, const AxisMapping &axis, int64_t o) {
  const std::string &mode = axis.transform;
  double x = o, scale = axis.scale;
  // The reference measures the output length as scale * input length, which
  // is not an integer when the scale is given and does not divide evenly.
  double outLength = scale * axis.inSize;
  if (mode == "half_pixel")
    return (x + 0.5) / scale - 0.5;
  if (mode == "pytorch_half_pixel")
    return outLength > 1 ? (x + 0.5) / scale - 0.5 : -0.5;
  if (mode == "align_corners")
    return outLength == 1 ? 0.0 : x * (axis.inSize - 1) / (outLength - 1);
  if (mode == "asymmetric")
    return x / scale;
  if (mode == "tf_half_pixel_for_nn")
    return (x + 0.5) / scale;
  if (mode == "tf_crop_and_resize") {
    double start = axis.roiStart * (axis.inSize - 1);
    double extent = (axis.roiEnd - axis.roiStart) * (axis.inSize - 1);
    return outLength == 1 ? start + extent / 2 : start + x * extent / (outLength - 1);
  }
  return ctx.fail("coordinate_transformation_mode '" + mode +
                  "' is not supported (half_pixel, pytorch_half_pixel, align_corners, "
                  "asymmetric, tf_half_pixel_for_nn, tf_crop_and_resize are)");
}

static Value gatherAlong(NodeContext &ctx, Value input, ArrayRef<int64_t> indices, int64_t axis) {
  auto type = cast<RankedTensorType>(input.getType());
  SmallVector<int64_t> shape(type.getShape());
  shape[axis] = indices.size();
  Type i64 = ctx.getBuilder().getI64Type();
  Value indexValue = ctx.constant(HostTensor::fromInts(
      i64, {(int64_t)indices.size()}, std::vector<int64_t>(indices.begin(), indices.end())));
  return GatherOp::create(ctx.getBuilder(), ctx.getLoc(),
                          RankedTensorType::get(shape, type.getElementType()), input, indexValue,
                          axis);
}

/// Cubic convolution weights of the four neighbours floor - 1 .. floor + 2
/// at distance `ratio` past floor (Keys, with ONNX's cubic_coeff_a).
static std::array<double, 4> cubicWeights(double ratio, double a) {
  auto near = [&](double t) { return ((a + 2) * t - (a + 3)) * t * t + 1; };
  auto far = [&](double t) { return ((a * t - 5 * a) * t + 8 * a) * t - 4 * a; };
  return {far(ratio + 1), near(ratio), near(1 - ratio), far(2 - ratio)};
}

/// Resizes `input` along `axis`: each output index is a weighted sum of
/// `taps` neighbours (1 for nearest, 2 for linear, 4 for cubic), one
/// gather per tap.
static FailureOr<Value> resizeAxis(NodeContext &ctx, Value input, int64_t axis,
                                   const AxisMapping &mapping, const std::string &mode,
                                   const std::string &nearestMode, double cubicA,
                                   bool excludeOutside, double extrapolation) {
  int taps = mode == "nearest" ? 1 : mode == "cubic" ? 4 : 2;
  std::vector<SmallVector<int64_t>> indices(taps);
  std::vector<std::vector<double>> weights(taps);
  auto clamp = [&](int64_t i) { return std::clamp<int64_t>(i, 0, mapping.inSize - 1); };
  // tf_crop_and_resize gives positions outside the input the extrapolation
  // value.
  SmallVector<int64_t> outside;
  bool anyOutside = false;
  for (int64_t o = 0; o < mapping.outSize; ++o) {
    FailureOr<double> x = sourceCoordinate(ctx, mapping, o);
    if (failed(x))
      return failure();
    bool out = mapping.transform == "tf_crop_and_resize" && (*x < 0 || *x > mapping.inSize - 1);
    outside.push_back(out);
    anyOutside |= out;
    double floor = std::floor(*x), ratio = *x - floor;
    int64_t base = (int64_t)floor;
    if (mode == "linear") {
      indices[0].push_back(clamp(base));
      indices[1].push_back(clamp(base + 1));
      weights[0].push_back(1 - ratio);
      weights[1].push_back(ratio);
      continue;
    }
    if (mode == "cubic") {
      // On an integer coordinate the reference takes the neighbours of
      // x - 1 at ratio 1 (the same four points, the same weights).
      if (ratio == 0) {
        base -= 1;
        ratio = 1;
      }
      std::array<double, 4> w = cubicWeights(ratio, cubicA);
      double total = 0;
      for (int k = 0; k < 4; ++k) {
        int64_t source = base - 1 + k;
        if (excludeOutside && (source < 0 || source >= mapping.inSize))
          w[k] = 0;
        total += w[k];
      }
      for (int k = 0; k < 4; ++k) {
        indices[k].push_back(clamp(base - 1 + k));
        weights[k].push_back(excludeOutside ? w[k] / total : w[k]);
      }
      continue;
    }
    bool up;
    if (ratio == 0)
      up = false;
    else if (nearestMode == "round_prefer_floor")
      up = ratio > 0.5;
    else if (nearestMode == "round_prefer_ceil")
      up = ratio >= 0.5;
    else if (nearestMode == "floor")
      up = false;
    else if (nearestMode == "ceil")
      up = true;
    else
      return ctx.fail("nearest_mode '" + nearestMode +
                      "' must be round_prefer_floor, round_prefer_ceil, floor or ceil");
    indices[0].push_back(clamp(base + (up ? 1 : 0)));
    weights[0].push_back(1);
  }
  // Taps with all-zero weights (linear on integer coordinates, e.g. an
  // exact 2x downsampling) are left out; one tap of weight 1 is a gather.
  Value sum;
  for (int k = 0; k < taps; ++k) {
    if (llvm::all_of(weights[k], [](double w) { return w == 0; }))
      continue;
    Value gathered = gatherAlong(ctx, input, indices[k], axis);
    if (taps == 1 || llvm::all_of(weights[k], [](double w) { return w == 1; })) {
      if (!sum && taps == 1) {
        sum = gathered;
        break;
      }
    } else {
      auto type = cast<RankedTensorType>(gathered.getType());
      std::vector<int64_t> weightShape(type.getRank(), 1);
      weightShape[axis] = mapping.outSize;
      Value weight =
          ctx.constant(HostTensor::fromDoubles(type.getElementType(), weightShape, weights[k]));
      FailureOr<Value> scaled = ctx.binary(BinaryKind::mul, gathered, weight);
      if (failed(scaled))
        return failure();
      gathered = *scaled;
    }
    FailureOr<Value> added = ctx.accumulate(sum, gathered);
    if (failed(added))
      return failure();
    sum = *added;
  }
  if (!sum)
    return ctx.fail("resizing gives all-zero weights");
  if (!anyOutside)
    return sum;
  // Later axes interpolate between equal extrapolation values, so setting
  // them per axis sets every position outside along any axis.
  auto type = cast<RankedTensorType>(sum.getType());
  std::vector<int64_t> maskShape(type.getRank(), 1);
  maskShape[axis] = mapping.outSize;
  std::vector<int64_t> maskValues(outside.begin(), outside.end());
  Value mask =
      ctx.constant(HostTensor::fromInts(ctx.getBuilder().getI1Type(), maskShape, maskValues));
  return ctx.select(mask, ctx.scalar(type.getElementType(), extrapolation), sum);
}

/// Resize (opset 10 and 11+) and Upsample (7, 9). Before opset 11 the
/// coordinates are asymmetric and nearest rounds down.
static LogicalResult importResize(NodeContext &ctx) {
  bool upsample = ctx.getOpType() == "Upsample";
  bool modern = !upsample && ctx.getOpset() >= 11;
  RankedTensorType type = ctx.getInputType(0);
  ArrayRef<int64_t> inShape = type.getShape();
  int64_t rank = inShape.size();
  std::string mode = ctx.getAttrString("mode", "nearest");
  if (!modern && mode == "bilinear")
    mode = "linear";
  if (mode != "nearest" && mode != "linear" && !(modern && mode == "cubic"))
    return ctx.fail("mode '" + mode + "' is not supported (nearest, linear and cubic are)");
  if (mode != "nearest" && !isa<FloatType>(type.getElementType()))
    return ctx.fail(mode + " resizing needs a float input");

  std::vector<double> scales;
  std::vector<int64_t> sizes;
  if (upsample && ctx.getOpset() < 9) {
    if (const onnx::AttributeProto *attr = ctx.findAttr("scales"))
      scales.assign(attr->floats().begin(), attr->floats().end());
  } else {
    size_t scalesInput = modern ? 2 : 1;
    if (ctx.hasInput(scalesInput)) {
      const HostTensor *value = ctx.getConstantInput(scalesInput);
      if (!value)
        return ctx.fail("scales (input " + std::to_string(scalesInput) +
                        ") must be known at compile time; Cleave needs static shapes");
      for (int64_t i = 0; i < value->getNumElements(); ++i)
        scales.push_back(value->getDouble(i));
    }
    if (modern && ctx.hasInput(3)) {
      FailureOr<std::vector<int64_t>> value = ctx.getConstantShape(3, "sizes");
      if (failed(value))
        return failure();
      sizes = *value;
    }
  }
  if (!scales.empty() && !sizes.empty())
    return ctx.fail("give scales or sizes, not both");
  if (scales.empty() && sizes.empty())
    return ctx.fail("needs scales or sizes");
  if ((int64_t)(scales.size() + sizes.size()) != rank)
    return ctx.fail("scales or sizes need one entry per input dimension (" + std::to_string(rank) +
                    ")");

  std::string transform =
      modern ? ctx.getAttrString("coordinate_transformation_mode", "half_pixel") : "asymmetric";
  std::string nearestMode =
      modern ? ctx.getAttrString("nearest_mode", "round_prefer_floor") : std::string("floor");
  std::vector<double> roi;
  if (transform == "tf_crop_and_resize") {
    const HostTensor *value = ctx.hasInput(1) ? ctx.getConstantInput(1) : nullptr;
    if (!value || value->getNumElements() != 2 * rank)
      return ctx.fail("tf_crop_and_resize needs a constant roi of " + std::to_string(2 * rank) +
                      " values (starts, then ends)");
    for (int64_t i = 0; i < 2 * rank; ++i)
      roi.push_back(value->getDouble(i));
  }
  Value result = ctx.getInput(0);
  for (int64_t d = 0; d < rank; ++d) {
    AxisMapping mapping{transform, inShape[d], 0, 0};
    if (!roi.empty()) {
      mapping.roiStart = roi[d];
      mapping.roiEnd = roi[rank + d];
    }
    if (!sizes.empty()) {
      if (sizes[d] <= 0)
        return ctx.fail("sizes must be positive");
      mapping.outSize = sizes[d];
      mapping.scale = double(sizes[d]) / inShape[d];
    } else {
      if (!(scales[d] > 0))
        return ctx.fail("scales must be positive");
      mapping.scale = scales[d];
      mapping.outSize = (int64_t)std::floor(inShape[d] * scales[d]);
      if (mapping.outSize <= 0)
        return ctx.fail("scale " + std::to_string(scales[d]) + " leaves dimension " +
                        std::to_string(d) + " empty");
    }
    if (mapping.outSize == inShape[d] && mapping.scale == 1.0 &&
        (roi.empty() || (mapping.roiStart == 0 && mapping.roiEnd == 1)))
      continue;
    FailureOr<Value> resized = resizeAxis(
        ctx, result, d, mapping, mode, nearestMode, ctx.getAttrFloat("cubic_coeff_a", -0.75),
        ctx.getAttrInt("exclude_outside", 0), ctx.getAttrFloat("extrapolation_value", 0.0));
    if (failed(resized))
      return failure();
    result = *resized;
  }
  ctx.setOutput(0, result);
  return success();
}

void cleave::importer::registerResizeRules(RuleTable &table) {
  table.add("Resize", importResize);
  table.add("Upsample", importResize);
}
