//===- Windows.cpp - import rules for ONNX's signal windows --------------===//
//
// HannWindow, HammingWindow and BlackmanWindow are generalised cosine
// windows a0 - a1 cos(2 pi n / N) + a2 cos(4 pi n / N), n = 0..size-1, with
// N = size (periodic) or size - 1 (symmetric). They are computed in f64 from
// an iota and cast to the requested type, so the small terms near the
// window's ends come out as exactly as ONNX's reference computes them.
//
//===----------------------------------------------------------------------===//
#include "compiler/Importer/NodeContext.h"

#include "dialects/Cleave/IR/TensorBuilder.h"

#include <cmath>

using namespace mlir;
using namespace mlir::cleave;
using namespace mlir::cleave::importer;

static LogicalResult importCosineWindow(NodeContext &ctx, double a0, double a1, double a2) {
  FailureOr<double> sizeValue = ctx.getConstantScalar(0, "size");
  if (failed(sizeValue))
    return failure();
  int64_t size = static_cast<int64_t>(*sizeValue);
  if (size < 1)
    return ctx.fail("size must be at least 1 (empty tensors are not supported), not " +
                    std::to_string(size));
  int64_t dtype = ctx.getAttrInt("output_datatype", 1);
  Type element = convertElementType(dtype, ctx.getContext());
  if (!element)
    return ctx.fail("output_datatype " + onnxTypeName(dtype) + " is not supported");
  bool periodic = ctx.getAttrInt("periodic", 1) != 0;
  int64_t period = periodic ? size : size - 1;
  TensorBuilder b(ctx.getBuilder(), ctx.getLoc());
  Type f64 = ctx.getBuilder().getF64Type();
  Type i64 = ctx.getBuilder().getI64Type();
  Value n = b.convert(
      IotaOp::create(ctx.getBuilder(), ctx.getLoc(), RankedTensorType::get({size}, i64), 0, 1),
      f64);
  // A one-element symmetric window has N = 0: its single value is a0 - a1 + a2.
  double step = period == 0 ? 0.0 : 2.0 * M_PI / static_cast<double>(period);
  Value angle = b.mul(n, b.scalar(f64, step));
  Value window = b.sub(b.scalar(f64, a0), b.mul(b.unary(UnaryKind::cos, angle), b.scalar(f64, a1)));
  if (a2 != 0.0) {
    Value doubled = b.mul(angle, b.scalar(f64, 2.0));
    window = b.add(window, b.mul(b.unary(UnaryKind::cos, doubled), b.scalar(f64, a2)));
  }
  ctx.setOutput(0, b.convert(window, element));
  return success();
}

void cleave::importer::registerWindowRules(RuleTable &table) {
  table.add("HannWindow", [](NodeContext &ctx) { return importCosineWindow(ctx, 0.5, 0.5, 0.0); });
  table.add("HammingWindow", [](NodeContext &ctx) {
    return importCosineWindow(ctx, 25.0 / 46.0, 21.0 / 46.0, 0.0);
  });
  table.add("BlackmanWindow",
            [](NodeContext &ctx) { return importCosineWindow(ctx, 0.42, 0.5, 0.08); });
}
