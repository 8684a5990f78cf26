//===- DataMovementGradients.cpp - gradients of data-movement ops ---------===//
//
// Each rule moves the gradient back to where the forward read it from.
//
//===----------------------------------------------------------------------===//
#include "passes/Autodiff/GradientRules.h"

using namespace mlir;
using namespace mlir::cleave;
using namespace mlir::cleave::autodiff;

static void reshapeGradient(GradientContext &ctx) {
  auto op = ctx.getOp<ReshapeOp>();
  ctx.setGrad(0, ctx.b().reshape(ctx.resultGrad(), op.getInput().getType().getShape()));
}

static void broadcastGradient(GradientContext &ctx) {
  auto op = ctx.getOp<BroadcastOp>();
  ctx.setGrad(0, ctx.b().sumToShape(ctx.resultGrad(), op.getInput().getType().getShape()));
}

static void transposeGradient(GradientContext &ctx) {
  auto op = ctx.getOp<TransposeOp>();
  ArrayRef<int64_t> permutation = op.getPermutation();
  SmallVector<int64_t> inverse(permutation.size());
  for (auto [i, dim] : llvm::enumerate(permutation))
    inverse[dim] = i;
  ctx.setGrad(0, ctx.b().transpose(ctx.resultGrad(), inverse));
}

static void sliceGradient(GradientContext &ctx) {
  auto op = ctx.getOp<SliceOp>();
  ctx.setGrad(0, ctx.b().getBuilder().create<SliceScatterOp>(
                     ctx.b().getLoc(), op.getInput().getType(), ctx.resultGrad(),
                     op.getStartsAttr(), op.getStridesAttr()));
}

static void concatGradient(GradientContext &ctx) {
  auto op = ctx.getOp<ConcatOp>();
  OpBuilder &builder = ctx.b().getBuilder();
  int64_t axis = op.getAxis(), offset = 0;
  int64_t rank = op.getType().getRank();
  for (auto [i, input] : llvm::enumerate(op.getInputs())) {
    auto type = cast<RankedTensorType>(input.getType());
    if (ctx.needs(i)) {
      SmallVector<int64_t> starts(rank, 0), strides(rank, 1);
      starts[axis] = offset;
      ctx.setGrad(
          i, builder.create<SliceOp>(ctx.b().getLoc(), type, ctx.resultGrad(), starts, strides));
    }
    offset += type.getDimSize(axis);
  }
}

static void gatherGradient(GradientContext &ctx) {
  auto op = ctx.getOp<GatherOp>();
  ctx.setGrad(0, ctx.b().getBuilder().create<ScatterAddOp>(
                     ctx.b().getLoc(), op.getInput().getType(), ctx.resultGrad(), op.getIndices(),
                     op.getAxisAttr()));
}

/// scatter_add is linear in its updates: each update's gradient is the
/// result gradient where it was added, a gather (the updates' gradient of
/// ONNX ScatterElements and ScatterND).
static void scatterAddGradient(GradientContext &ctx) {
  auto op = ctx.getOp<ScatterAddOp>();
  ctx.setGrad(0, GatherOp::create(ctx.b().getBuilder(), ctx.b().getLoc(), op.getUpdates().getType(),
                                  ctx.resultGrad(), op.getIndices(), op.getAxisAttr()));
}

/// slice_scatter places its source at a window: the gradient is that window.
static void sliceScatterGradient(GradientContext &ctx) {
  auto op = ctx.getOp<SliceScatterOp>();
  ctx.setGrad(0, SliceOp::create(ctx.b().getBuilder(), ctx.b().getLoc(), op.getSource().getType(),
                                 ctx.resultGrad(), op.getStartsAttr(), op.getStridesAttr()));
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
