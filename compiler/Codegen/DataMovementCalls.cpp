//===- DataMovementCalls.cpp - gather, scatter, transpose, slice, concat --===//
#include "compiler/Codegen/Rules.h"

#include "dialects/Cleave/IR/CleaveOps.h"

#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/FormatVariadic.h"

using namespace mlir;
using namespace mlir::cleave;
using namespace mlir::cleave::codegen;

static LogicalResult emitGather(CallContext &ctx, GatherOp gather) {
  ArrayRef<int64_t> shape = gather.getInput().getType().getShape();
  int64_t axis = gather.getAxis();
  ctx.out() << llvm::formatv(
      "    K::gather({0}, {1}, {2}, {3}, {4}, {5}, {6}, {7}, io.invalid_index);\n",
      ctx.ptr(gather.getInput()), ctx.ptr(gather.getIndices()), ctx.ptr(gather.getResult()),
      product(shape.take_front(axis)), shape[axis], gather.getIndices().getType().getNumElements(),
      product(shape.drop_front(axis + 1)), elementBytes(gather.getResult()));
  return success();
}

static LogicalResult emitScatterAdd(CallContext &ctx, ScatterAddOp scatter) {
  ArrayRef<int64_t> shape = scatter.getType().getShape();
  int64_t axis = scatter.getAxis();
  ctx.out() << llvm::formatv(
      "    K::scatter_add({0}, {1}, {2}, {3}, {4}, {5}, {6}, io.invalid_index);\n",
      ctx.ptr(scatter.getUpdates()), ctx.ptr(scatter.getIndices()), ctx.ptr(scatter.getResult()),
      product(shape.take_front(axis)), shape[axis], scatter.getIndices().getType().getNumElements(),
      product(shape.drop_front(axis + 1)));
  return success();
}

static LogicalResult emitTranspose(CallContext &ctx, TransposeOp transpose) {
  ctx.shapeArray("shape", transpose.getInput().getType().getShape());
  ctx.shapeArray("permutation", transpose.getPermutation());
  ctx.out() << llvm::formatv("    K::transpose({0}, {1}, {2}, shape, permutation, {3});\n",
                             ctx.ptr(transpose.getInput()), ctx.ptr(transpose.getResult()),
                             transpose.getType().getRank(), elementBytes(transpose.getResult()));
  return success();
}

/// slice and slice_scatter: the same strided window, read or written.
static void emitWindowCall(CallContext &ctx, StringRef kernel, Value source, Value result,
                           ArrayRef<int64_t> inputShape, ArrayRef<int64_t> starts,
                           ArrayRef<int64_t> strides, RankedTensorType output) {
  ctx.shapeArray("input_shape", inputShape);
  ctx.shapeArray("starts", starts);
  ctx.shapeArray("strides", strides);
  ctx.shapeArray("output_shape", output.getShape());
  ctx.out() << llvm::formatv("    K::{4}({0}, {1}, {2}, input_shape, starts, strides, "
                             "output_shape, {3});\n",
                             ctx.ptr(source), ctx.ptr(result), output.getRank(),
                             elementBytes(result), kernel);
}

static LogicalResult emitSlice(CallContext &ctx, SliceOp slice) {
  emitWindowCall(ctx, "slice", slice.getInput(), slice.getResult(),
                 slice.getInput().getType().getShape(), slice.getStarts(), slice.getStrides(),
                 slice.getType());
  return success();
}

static LogicalResult emitSliceScatter(CallContext &ctx, SliceScatterOp scatter) {
  emitWindowCall(ctx, "slice_scatter", scatter.getSource(), scatter.getResult(),
                 scatter.getSource().getType().getShape(), scatter.getStarts(),
                 scatter.getStrides(), scatter.getType());
  return success();
}

static LogicalResult emitConcat(CallContext &ctx, ConcatOp concat) {
  ArrayRef<int64_t> shape = concat.getType().getShape();
  int64_t axis = concat.getAxis();
  SmallVector<std::string> inputs;
  SmallVector<int64_t> sizes;
  for (Value input : concat.getInputs()) {
    inputs.push_back(ctx.ptr(input));
    sizes.push_back(typeOf(input).getDimSize(axis));
  }
  ctx.out() << "    const void *const inputs[] = {" << llvm::join(inputs, ", ") << "};\n";
  ctx.shapeArray("sizes", sizes);
  ctx.out() << llvm::formatv("    K::concat(inputs, sizes, {0}, {1}, {2}, {3}, {4});\n",
                             sizes.size(), ctx.ptr(concat.getResult()),
                             product(shape.take_front(axis)), product(shape.drop_front(axis + 1)),
                             elementBytes(concat.getResult()));
  return success();
}

static LogicalResult emitIota(CallContext &ctx, IotaOp iota) {
  Type element = iota.getType().getElementType();
  if (!element.isF32() && !element.isSignlessInteger(64))
    return iota.emitOpError() << "generates only f32 and i64 sequences";
  ctx.out() << llvm::formatv("    K::iota({0}, {1}, {2}, {3});\n", iota.getStart(), iota.getStep(),
                             iota.getType().getNumElements(), ctx.ptr(iota.getResult()));
  return success();
}

void mlir::cleave::codegen::registerDataMovementCalls(RuleTable &table) {
  table.addCalls(emitGather, emitScatterAdd, emitTranspose, emitSlice, emitSliceScatter, emitConcat,
                 emitIota);
}
