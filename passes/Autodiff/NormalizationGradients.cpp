//===- NormalizationGradients.cpp - softmax, norms, losses, dropout -------===//
#include "passes/Autodiff/GradientRules.h"

using namespace mlir;
using namespace mlir::cleave;
using namespace mlir::cleave::autodiff;

static void softmaxGradient(GradientContext &ctx, SoftmaxOp op) {
  auto grad = ctx.b().create<SoftmaxGradOp>(op.getType(), op.getResult(), ctx.resultGrad(),
                                            op.getAxisAttr(), op.getLogAttr());
  ctx.setGrad(0, grad);
}

static void layerNormGradient(GradientContext &ctx, LayerNormOp op) {
  Type scaleType = op.getScale().getType();
  auto grad = ctx.b().create<LayerNormGradOp>(TypeRange{op.getType(), scaleType, scaleType},
                                              op.getInput(), op.getScale(), ctx.resultGrad(),
                                              op.getAxisAttr(), op.getEpsilonAttr());
  ctx.setGrad(0, grad.getInputGrad());
  ctx.setGrad(1, grad.getScaleGrad());
  if (op.getBias())
    ctx.setGrad(2, grad.getBiasGrad());
}

static void batchNormGradient(GradientContext &ctx, BatchNormOp op) {
  // Only the normalised output reaches the loss; the updated running
  // statistics are state, written back after the step.
  if (!ctx.resultGrad(0))
    return;
  Type scaleType = op.getScale().getType();
  auto grad = ctx.b().create<BatchNormGradOp>(
      TypeRange{op.getInput().getType(), scaleType, scaleType}, op.getInput(), op.getScale(),
      ctx.resultGrad(0), op.getEpsilonAttr());
  ctx.setGrad(0, grad.getInputGrad());
  ctx.setGrad(1, grad.getScaleGrad());
  ctx.setGrad(2, grad.getBiasGrad());
}

static void crossEntropyGradient(GradientContext &ctx, CrossEntropyOp op) {
  ctx.setGrad(0, ctx.b().create<CrossEntropyGradOp>(
                     op.getLogits().getType(), op.getLogits(), op.getLabels(), ctx.resultGrad(),
                     op.getIgnoreIndexAttr(), op.getLabelSmoothingAttr(), op.getSumAttr()));
}

void mlir::cleave::autodiff::registerNormalizationGradients(GradientTable &table) {
  table.add<SoftmaxOp>(softmaxGradient);
  table.add<LayerNormOp>(layerNormGradient);
  table.add<BatchNormOp>(batchNormGradient);
  table.add<CrossEntropyOp>(crossEntropyGradient);
}
