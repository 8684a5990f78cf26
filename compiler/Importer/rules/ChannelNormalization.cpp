//===- ChannelNormalization.cpp - import rules for LRN and MVN -----------===//
//
// LocalResponseNormalization and MeanVarianceNormalization, built from
// elementwise ops, slices and reductions (so their gradients come from
// those):
//   LRN: x / (bias + alpha / size * s)^beta, s[c] the sum of x^2 over the
//        channels c - floor((size-1)/2) .. c + ceil((size-1)/2): zeros
//        concatenated on both sides of x^2 and `size` shifted slices added;
//   MVN: (x - mean) / (sqrt(mean(x^2) - mean^2) + 1e-9) over `axes`, ONNX's
//        own function body.
//
//===----------------------------------------------------------------------===//
#include "compiler/Importer/NodeContext.h"

#include "dialects/Cleave/IR/TensorBuilder.h"

using namespace mlir;
using namespace mlir::cleave;
using namespace mlir::cleave::importer;

static LogicalResult importLRN(NodeContext &ctx) {
  RankedTensorType type = ctx.getInputType(0);
  if (type.getRank() < 2 || !isa<FloatType>(type.getElementType()))
    return ctx.fail("needs a float input of rank 2 or more ([N, C, ...])");
  int64_t size = ctx.getAttrInt("size", 0);
  if (size < 1)
    return ctx.fail("size must be at least 1, not " + std::to_string(size));
  double alpha = ctx.getAttrFloat("alpha", 0.0001), beta = ctx.getAttrFloat("beta", 0.75);
  double bias = ctx.getAttrFloat("bias", 1.0);
  TensorBuilder b(ctx.getBuilder(), ctx.getLoc());
  Type element = type.getElementType();
  Value x = ctx.getInput(0);
  Value squared = b.mul(x, x);
  int64_t before = (size - 1) / 2, after = size - 1 - before;
  ArrayRef<int64_t> shape = type.getShape();
  int64_t channels = shape[1];
  SmallVector<Value> parts;
  auto zeros = [&](int64_t count) {
    SmallVector<int64_t> blockShape(shape);
    blockShape[1] = count;
    return b.broadcastTo(b.scalar(element, 0.0), blockShape);
  };
  if (before)
    parts.push_back(zeros(before));
  parts.push_back(squared);
  if (after)
    parts.push_back(zeros(after));
  Value padded = squared;
  if (parts.size() > 1) {
    SmallVector<int64_t> paddedShape(shape);
    paddedShape[1] = channels + size - 1;
    padded = ConcatOp::create(ctx.getBuilder(), ctx.getLoc(),
                              RankedTensorType::get(paddedShape, element), parts, 1);
  }
  Value sum;
  for (int64_t offset = 0; offset < size; ++offset) {
    SmallVector<int64_t> starts(shape.size(), 0), strides(shape.size(), 1);
    starts[1] = offset;
    Value window = SliceOp::create(ctx.getBuilder(), ctx.getLoc(), type, padded, starts, strides);
    sum = sum ? b.add(sum, window) : window;
  }
  Value base = b.add(b.mul(sum, b.scalar(element, alpha / size)), b.scalar(element, bias));
  Value denominator = b.binary(BinaryKind::pow, base, b.scalar(element, beta));
  ctx.setOutput(0, b.div(x, denominator));
  return success();
}

static LogicalResult importMVN(NodeContext &ctx) {
  RankedTensorType type = ctx.getInputType(0);
  if (!isa<FloatType>(type.getElementType()))
    return ctx.fail("only float inputs are supported");
  std::vector<int64_t> axes = ctx.getAttrInts("axes", {0, 2, 3});
  SmallVector<int64_t> normalized;
  for (int64_t axis : axes) {
    FailureOr<int64_t> value = ctx.normalizeAxis(axis, type.getRank());
    if (failed(value))
      return failure();
    if (!llvm::is_contained(normalized, *value))
      normalized.push_back(*value);
  }
  llvm::sort(normalized);
  TensorBuilder b(ctx.getBuilder(), ctx.getLoc());
  Type element = type.getElementType();
  Value x = ctx.getInput(0);
  Value mean = b.reduce(ReduceKind::mean, x, normalized, true);
  Value meanOfSquares = b.reduce(ReduceKind::mean, b.mul(x, x), normalized, true);
  Value variance = b.sub(meanOfSquares, b.mul(mean, mean));
  Value deviation = b.add(b.unary(UnaryKind::sqrt, variance), b.scalar(element, 1e-9));
  ctx.setOutput(0, b.div(b.sub(x, mean), deviation));
  return success();
}

void cleave::importer::registerChannelNormalizationRules(RuleTable &table) {
  table.add("LRN", importLRN);
  table.add("MeanVarianceNormalization", importMVN);
}
