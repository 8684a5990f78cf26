//===- NormalizationCalls.cpp - softmax, layer and batch norm calls -------===//
#include "compiler/Codegen/Rules.h"

#include "dialects/Cleave/IR/CleaveOps.h"

using namespace mlir;
using namespace mlir::cleave;
using namespace mlir::cleave::codegen;

static LogicalResult emitSoftmax(CallContext &ctx, SoftmaxOp softmax) {
  if (failed(ctx.requireF32(softmax.getResult())))
    return failure();
  return ctx.callKernel(softmax.getLog() ? "log_softmax" : "softmax", ctx.ptr(softmax.getInput()),
                        ctx.ptr(softmax.getResult()),
                        outerNInner(softmax.getType().getShape(), softmax.getAxis()));
}

static LogicalResult emitSoftmaxGrad(CallContext &ctx, SoftmaxGradOp grad) {
  return ctx.callKernel(grad.getLog() ? "log_softmax_grad" : "softmax_grad",
                        ctx.ptr(grad.getResult()), ctx.ptr(grad.getResultGrad()),
                        ctx.ptr(grad.getInputGrad()),
                        outerNInner(grad.getResult().getType().getShape(), grad.getAxis()));
}

static LogicalResult emitLayerNorm(CallContext &ctx, LayerNormOp norm) {
  if (failed(ctx.requireF32(norm.getResult())))
    return failure();
  ArrayRef<int64_t> shape = norm.getType().getShape();
  int64_t rows = product(shape.take_front(norm.getAxis()));
  int64_t cols = product(shape.drop_front(norm.getAxis()));
  return ctx.callKernel("layer_norm", ctx.ptr(norm.getInput()), ctx.ptr(norm.getScale()),
                        norm.getBias() ? ctx.ptr(norm.getBias()) : "nullptr",
                        ctx.ptr(norm.getResult()), rows, cols,
                        floatLiteral(norm.getEpsilon().convertToDouble(), true));
}

static LogicalResult emitLayerNormGrad(CallContext &ctx, LayerNormGradOp grad) {
  ArrayRef<int64_t> shape = grad.getInput().getType().getShape();
  int64_t rows = product(shape.take_front(grad.getAxis()));
  int64_t cols = product(shape.drop_front(grad.getAxis()));
  ctx.addScratch("K::layer_norm_grad_scratch_bytes(" + std::to_string(rows) + ")");
  return ctx.callKernel("layer_norm_grad", ctx.ptr(grad.getInput()), ctx.ptr(grad.getScale()),
                        ctx.ptr(grad.getResultGrad()), ctx.optionalPtr(grad.getInputGrad()),
                        ctx.optionalPtr(grad.getScaleGrad()), ctx.optionalPtr(grad.getBiasGrad()),
                        rows, cols, floatLiteral(grad.getEpsilon().convertToDouble(), true),
                        "scratch");
}

static LogicalResult emitBatchNorm(CallContext &ctx, BatchNormOp norm) {
  ArrayRef<int64_t> shape = norm.getInput().getType().getShape();
  return ctx.callKernel("batch_norm_train", ctx.ptr(norm.getInput()), ctx.ptr(norm.getScale()),
                        ctx.ptr(norm.getBias()), ctx.ptr(norm.getRunningMean()),
                        ctx.ptr(norm.getRunningVar()), ctx.ptr(norm.getResult()),
                        ctx.ptr(norm.getNewRunningMean()), ctx.ptr(norm.getNewRunningVar()),
                        shape[0], shape[1], product(shape.drop_front(2)),
                        floatLiteral(norm.getEpsilon().convertToDouble(), true),
                        floatLiteral(norm.getMomentum().convertToDouble(), true));
}

static LogicalResult emitBatchNormGrad(CallContext &ctx, BatchNormGradOp grad) {
  ArrayRef<int64_t> shape = grad.getInput().getType().getShape();
  return ctx.callKernel("batch_norm_grad", ctx.ptr(grad.getInput()), ctx.ptr(grad.getScale()),
                        ctx.ptr(grad.getResultGrad()), ctx.optionalPtr(grad.getInputGrad()),
                        ctx.optionalPtr(grad.getScaleGrad()), ctx.optionalPtr(grad.getBiasGrad()),
                        shape[0], shape[1], product(shape.drop_front(2)),
                        floatLiteral(grad.getEpsilon().convertToDouble(), true));
}

void mlir::cleave::codegen::registerNormalizationCalls(RuleTable &table) {
  table.addCalls(emitSoftmax, emitSoftmaxGrad, emitLayerNorm, emitLayerNormGrad, emitBatchNorm,
                 emitBatchNormGrad);
}
