//===- NormalizationGradients.cpp - softmax, norms, losses, dropout -------===//
#include "passes/Autodiff/GradientRules.h"

using namespace mlir;
using namespace mlir::cleave;
using namespace mlir::cleave::autodiff;

static void softmaxGradient(GradientContext &ctx) {
  auto op = ctx.getOp<SoftmaxOp>();
  OpBuilder &builder = ctx.b().getBuilder();
  auto grad = builder.create<SoftmaxGradOp>(ctx.b().getLoc(), op.getType(), op.getResult(),
                                            ctx.resultGrad(), op.getAxisAttr(), op.getLogAttr());
  ctx.setGrad(0, grad);
}

static void layerNormGradient(GradientContext &ctx) {
  auto op = ctx.getOp<LayerNormOp>();
  OpBuilder &builder = ctx.b().getBuilder();
  Type scaleType = op.getScale().getType();
  auto grad = builder.create<LayerNormGradOp>(
      ctx.b().getLoc(), TypeRange{op.getType(), scaleType, scaleType}, op.getInput(), op.getScale(),
      ctx.resultGrad(), op.getAxisAttr(), op.getEpsilonAttr());
  ctx.setGrad(0, grad.getInputGrad());
  ctx.setGrad(1, grad.getScaleGrad());
  if (op.getBias())
    ctx.setGrad(2, grad.getBiasGrad());
}

static void batchNormGradient(GradientContext &ctx) {
  auto op = ctx.getOp<BatchNormOp>();
  // Only the normalised output reaches the loss; the updated running
  // statistics are state, written back after the step.
  if (!ctx.resultGrad(0))
    return;
  OpBuilder &builder = ctx.b().getBuilder();
  Type scaleType = op.getScale().getType();
  auto grad = builder.create<BatchNormGradOp>(
      ctx.b().getLoc(), TypeRange{op.getInput().getType(), scaleType, scaleType}, op.getInput(),
      op.getScale(), ctx.resultGrad(0), op.getEpsilonAttr());
  ctx.setGrad(0, grad.getInputGrad());
  ctx.setGrad(1, grad.getScaleGrad());
  ctx.setGrad(2, grad.getBiasGrad());
}

static void crossEntropyGradient(GradientContext &ctx) {
  auto op = ctx.getOp<CrossEntropyOp>();
  ctx.setGrad(0, ctx.b().getBuilder().create<CrossEntropyGradOp>(
                     ctx.b().getLoc(), op.getLogits().getType(), op.getLogits(), op.getLabels(),
                     ctx.resultGrad(), op.getIgnoreIndexAttr(), op.getLabelSmoothingAttr(),
                     op.getSumAttr()));
}

void mlir::cleave::autodiff::registerNormalizationGradients(GradientTable &table) {
  table.add<SoftmaxOp>(softmaxGradient);
  table.add<LayerNormOp>(layerNormGradient);
  table.add<BatchNormOp>(batchNormGradient);
  table.add<CrossEntropyOp>(crossEntropyGradient);
}
