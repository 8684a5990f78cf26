//===- DataMovementGradients.cpp - gradients of data-movement ops ---------===//
//
// Each rule moves the gradient back to where the forward read it from.
//
//===----------------------------------------------------------------------===//
#include "passes/Autodiff/GradientRules.h"

using namespace mlir;
using namespace mlir::cleave;
using namespace mlir::cleave::autodiff;

/// Operand 0's gradient through a linear data movement whose adjoint is
/// AdjointOpT (slice and slice_scatter, gather and scatter_add are such
/// pairs): the adjoint of the result gradient over the forward op's own
/// window or indices (`where`), typed as `operand`.
template <typename AdjointOpT, typename... Where>
static void setAdjoint(GradientContext &ctx, Value operand, Where... where) {
  ctx.setGrad(0, ctx.b().create<AdjointOpT>(operand.getType(), ctx.resultGrad(), where...));
}

static void reshapeGradient(GradientContext &ctx, ReshapeOp op) {
  ctx.setGrad(0, ctx.b().reshape(ctx.resultGrad(), op.getInput().getType().getShape()));
}

static void broadcastGradient(GradientContext &ctx, BroadcastOp op) {
  ctx.setGrad(0, ctx.b().sumToShape(ctx.resultGrad(), op.getInput().getType().getShape()));
}

static void transposeGradient(GradientContext &ctx, TransposeOp op) {
  ArrayRef<int64_t> permutation = op.getPermutation();
  SmallVector<int64_t> inverse(permutation.size());
  for (auto [i, dim] : llvm::enumerate(permutation))
    inverse[dim] = i;
  ctx.setGrad(0, ctx.b().transpose(ctx.resultGrad(), inverse));
}

static void sliceGradient(GradientContext &ctx, SliceOp op) {
  setAdjoint<SliceScatterOp>(ctx, op.getInput(), op.getStartsAttr(), op.getStridesAttr());
}

static void concatGradient(GradientContext &ctx, ConcatOp op) {
  int64_t axis = op.getAxis(), offset = 0;
  int64_t rank = op.getType().getRank();
  for (auto [i, input] : llvm::enumerate(op.getInputs())) {
    auto type = cast<RankedTensorType>(input.getType());
    if (ctx.needs(i)) {
      SmallVector<int64_t> starts(rank, 0), strides(rank, 1);
      starts[axis] = offset;
      ctx.setGrad(i, ctx.b().create<SliceOp>(type, ctx.resultGrad(), starts, strides));
    }
    offset += type.getDimSize(axis);
  }
}

static void gatherGradient(GradientContext &ctx, GatherOp op) {
  setAdjoint<ScatterAddOp>(ctx, op.getInput(), op.getIndices(), op.getAxisAttr());
}

/// scatter_add is linear in its updates: each update's gradient is the
/// result gradient where it was added, a gather (the updates' gradient of
/// ONNX ScatterElements and ScatterND).
static void scatterAddGradient(GradientContext &ctx, ScatterAddOp op) {
  setAdjoint<GatherOp>(ctx, op.getUpdates(), op.getIndices(), op.getAxisAttr());
}

/// slice_scatter places its source at a window: the gradient is that window.
static void sliceScatterGradient(GradientContext &ctx, SliceScatterOp op) {
  setAdjoint<SliceOp>(ctx, op.getSource(), op.getStartsAttr(), op.getStridesAttr());
}

void mlir::cleave::autodiff::registerDataMovementGradients(GradientTable &table) {
  table.add<ReshapeOp>(reshapeGradient);
  table.add<BroadcastOp>(broadcastGradient);
  table.add<TransposeOp>(transposeGradient);
  table.add<SliceOp>(sliceGradient);
  table.add<ConcatOp>(concatGradient);
  table.add<GatherOp>(gatherGradient);
  table.add<ScatterAddOp>(scatterAddGradient);
  table.add<SliceScatterOp>(sliceScatterGradient);
}
