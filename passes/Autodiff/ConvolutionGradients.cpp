//===- ConvolutionGradients.cpp - gradients of conv2d and pool2d ----------===//
#include "passes/Autodiff/GradientRules.h"

using namespace mlir;
using namespace mlir::cleave;
using namespace mlir::cleave::autodiff;

static void conv2dGradient(GradientContext &ctx, Conv2dOp op) {
  Value g = ctx.resultGrad();
  if (ctx.needs(0))
    ctx.setGrad(0, ctx.b().create<Conv2dGradInputOp>(op.getInput().getType(), g, op.getFilter(),
                                                     op.getStridesAttr(), op.getPaddingAttr(),
                                                     op.getDilationsAttr(), op.getGroupsAttr()));
  if (ctx.needs(1))
    ctx.setGrad(1, ctx.b().create<Conv2dGradFilterOp>(op.getFilter().getType(), op.getInput(), g,
                                                      op.getStridesAttr(), op.getPaddingAttr(),
                                                      op.getDilationsAttr(), op.getGroupsAttr()));
  if (op.getBias() && ctx.needs(2))
    ctx.setGrad(2, ctx.b().reduce(ReduceKind::sum, g, {0, 2, 3}, /*keepDims=*/false));
}

static void pool2dGradient(GradientContext &ctx, Pool2dOp op) {
  auto grad = ctx.b().create<Pool2dGradOp>(op.getInput().getType(), op.getKindAttr(), op.getInput(),
                                           ctx.resultGrad(), op.getKernelAttr(),
                                           op.getStridesAttr(), op.getPaddingAttr(),
                                           op.getCountIncludePadAttr(), op.getCeilModeAttr());
  ctx.setGrad(0, grad);
}

/// conv2d_grad_input (ONNX ConvTranspose) is x -> A_w^T x, with A_w the
/// convolution: its input gradient is the convolution A_w g, its filter
/// gradient the filter gradient of that convolution against x.
static void conv2dGradInputGradient(GradientContext &ctx, Conv2dGradInputOp op) {
  Value g = ctx.resultGrad();
  if (ctx.needs(0))
    ctx.setGrad(0, ctx.b().create<Conv2dOp>(op.getResultGrad().getType(), g, op.getFilter(),
                                            Value(), op.getStridesAttr(), op.getPaddingAttr(),
                                            op.getDilationsAttr(), op.getGroupsAttr()));
  if (ctx.needs(1))
    ctx.setGrad(1, ctx.b().create<Conv2dGradFilterOp>(
                       op.getFilter().getType(), g, op.getResultGrad(), op.getStridesAttr(),
                       op.getPaddingAttr(), op.getDilationsAttr(), op.getGroupsAttr()));
}

void mlir::cleave::autodiff::registerConvolutionGradients(GradientTable &table) {
  table.add<Conv2dOp>(conv2dGradient);
  table.add<Pool2dOp>(pool2dGradient);
  table.add<Conv2dGradInputOp>(conv2dGradInputGradient);
}
