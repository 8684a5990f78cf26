//===- ConvolutionGradients.cpp - gradients of conv2d and pool2d ----------===//
#include "passes/Autodiff/GradientRules.h"

using namespace mlir;
using namespace mlir::cleave;
using namespace mlir::cleave::autodiff;

static void conv2dGradient(GradientContext &ctx) {
  auto op = ctx.getOp<Conv2dOp>();
  OpBuilder &builder = ctx.b().getBuilder();
  Location loc = ctx.b().getLoc();
  Value g = ctx.resultGrad();
  if (ctx.needs(0))
    ctx.setGrad(0, builder.create<Conv2dGradInputOp>(
                       loc, op.getInput().getType(), g, op.getFilter(), op.getStridesAttr(),
                       op.getPaddingAttr(), op.getDilationsAttr(), op.getGroupsAttr()));
  if (ctx.needs(1))
    ctx.setGrad(1, builder.create<Conv2dGradFilterOp>(loc, op.getFilter().getType(), op.getInput(),
                                                      g, op.getStridesAttr(), op.getPaddingAttr(),
                                                      op.getDilationsAttr(), op.getGroupsAttr()));
  if (op.getBias() && ctx.needs(2))
    ctx.setGrad(2, ctx.b().reduce(ReduceKind::sum, g, {0, 2, 3}, /*keepDims=*/false));
}

static void pool2dGradient(GradientContext &ctx) {
  auto op = ctx.getOp<Pool2dOp>();
  auto grad = ctx.b().getBuilder().create<Pool2dGradOp>(
      ctx.b().getLoc(), op.getInput().getType(), op.getKindAttr(), op.getInput(), ctx.resultGrad(),
      op.getKernelAttr(), op.getStridesAttr(), op.getPaddingAttr(), op.getCountIncludePadAttr(),
      op.getCeilModeAttr());
  ctx.setGrad(0, grad);
}

/// conv2d_grad_input (ONNX ConvTranspose) is x -> A_w^T x, with A_w the
/// convolution: its input gradient is the convolution A_w g, its filter
/// gradient the filter gradient of that convolution against x.
static void conv2dGradInputGradient(GradientContext &ctx) {
  auto op = ctx.getOp<Conv2dGradInputOp>();
  OpBuilder &builder = ctx.b().getBuilder();
  Location loc = ctx.b().getLoc();
  Value g = ctx.resultGrad();
  if (ctx.needs(0))
    ctx.setGrad(0, Conv2dOp::create(builder, loc, op.getResultGrad().getType(), g, op.getFilter(),
                                    Value(), op.getStridesAttr(), op.getPaddingAttr(),
                                    op.getDilationsAttr(), op.getGroupsAttr()));
  if (ctx.needs(1))
    ctx.setGrad(1, Conv2dGradFilterOp::create(builder, loc, op.getFilter().getType(), g,
                                              op.getResultGrad(), op.getStridesAttr(),
                                              op.getPaddingAttr(), op.getDilationsAttr(),
                                              op.getGroupsAttr()));
}

void mlir::cleave::autodiff::registerConvolutionGradients(GradientTable &table) {
  table.add<Conv2dOp>(conv2dGradient);
  table.add<Pool2dOp>(pool2dGradient);
  table.add<Conv2dGradInputOp>(conv2dGradInputGradient);
}
