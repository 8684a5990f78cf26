//===- TensorBuilder.cpp - build cleave ops with their result types -------===//
#include "dialects/Cleave/IR/TensorBuilder.h"

#include "mlir/Dialect/Traits.h"

using namespace mlir;
using namespace mlir::cleave;

bool mlir::cleave::broadcastShapes(ArrayRef<int64_t> a, ArrayRef<int64_t> b,
                                   SmallVectorImpl<int64_t> &result) {
  return OpTrait::util::getBroadcastedShape(a, b, result);
}

ArrayRef<int64_t> TensorBuilder::shapeOf(Value value) {
  return cast<RankedTensorType>(value.getType()).getShape();
}

Type TensorBuilder::elementTypeOf(Value value) {
  return cast<RankedTensorType>(value.getType()).getElementType();
}

Value TensorBuilder::splat(RankedTensorType type, double value) {
  Attribute element;
  if (auto floatType = dyn_cast<FloatType>(type.getElementType()))
    element = builder.getFloatAttr(floatType, value);
  else
    element = builder.getIntegerAttr(type.getElementType(), static_cast<int64_t>(value));
  return builder.create<ConstantOp>(loc, DenseElementsAttr::get(type, element));
}

Value TensorBuilder::scalar(Type elementType, double value) {
  return splat(RankedTensorType::get({}, elementType), value);
}

Value TensorBuilder::unary(UnaryKind kind, Value input) {
  return builder.create<UnaryOp>(loc, input.getType(), kind, input);
}

Value TensorBuilder::binary(BinaryKind kind, Value lhs, Value rhs) {
  SmallVector<int64_t> shape;
  (void)broadcastShapes(shapeOf(lhs), shapeOf(rhs), shape);
  auto type = RankedTensorType::get(shape, elementTypeOf(lhs));
  return builder.create<BinaryOp>(loc, type, kind, lhs, rhs);
}

Value TensorBuilder::scale(Value value, double factor) {
  if (factor == 1.0)
    return value;
  return mul(value, scalar(elementTypeOf(value), factor));
}

Value TensorBuilder::compare(CompareKind kind, Value lhs, Value rhs) {
  SmallVector<int64_t> shape;
  (void)broadcastShapes(shapeOf(lhs), shapeOf(rhs), shape);
  auto type = RankedTensorType::get(shape, builder.getI1Type());
  return builder.create<CompareOp>(loc, type, kind, lhs, rhs);
}

Value TensorBuilder::select(Value condition, Value onTrue, Value onFalse) {
  SmallVector<int64_t> partial, shape;
  (void)broadcastShapes(shapeOf(condition), shapeOf(onTrue), partial);
  (void)broadcastShapes(partial, shapeOf(onFalse), shape);
  auto type = RankedTensorType::get(shape, elementTypeOf(onTrue));
  return builder.create<SelectOp>(loc, type, condition, onTrue, onFalse);
}

Value TensorBuilder::convert(Value input, Type elementType) {
  if (elementTypeOf(input) == elementType)
    return input;
  return builder.create<CastOp>(loc, RankedTensorType::get(shapeOf(input), elementType), input);
}

Value TensorBuilder::reshape(Value input, ArrayRef<int64_t> shape) {
  if (shapeOf(input) == shape)
    return input;
  return builder.create<ReshapeOp>(loc, RankedTensorType::get(shape, elementTypeOf(input)), input);
}

Value TensorBuilder::transpose(Value input, ArrayRef<int64_t> permutation) {
  SmallVector<int64_t> shape;
  for (int64_t dim : permutation)
    shape.push_back(shapeOf(input)[dim]);
  return builder.create<TransposeOp>(loc, RankedTensorType::get(shape, elementTypeOf(input)), input,
                                     permutation);
}

Value TensorBuilder::broadcastTo(Value input, ArrayRef<int64_t> shape) {
  if (shapeOf(input) == shape)
    return input;
  return builder.create<BroadcastOp>(loc, RankedTensorType::get(shape, elementTypeOf(input)),
                                     input);
}

SmallVector<int64_t> mlir::cleave::reducedShape(ArrayRef<int64_t> shape, ArrayRef<int64_t> axes,
                                                bool keepDims) {
  SmallVector<int64_t> result;
  for (auto [dim, size] : llvm::enumerate(shape)) {
    if (!llvm::is_contained(axes, (int64_t)dim))
      result.push_back(size);
    else if (keepDims)
      result.push_back(1);
  }
  return result;
}

Value TensorBuilder::reduce(ReduceKind kind, Value input, ArrayRef<int64_t> axes, bool keepDims) {
  if (axes.empty())
    return input;
  auto type =
      RankedTensorType::get(reducedShape(shapeOf(input), axes, keepDims), elementTypeOf(input));
  return builder.create<ReduceOp>(loc, type, kind, input, axes, keepDims);
}

Value TensorBuilder::sumAll(Value input) {
  SmallVector<int64_t> axes;
  for (int64_t dim = 0; dim < (int64_t)shapeOf(input).size(); ++dim)
    axes.push_back(dim);
  return reduce(ReduceKind::sum, input, axes, /*keepDims=*/false);
}

Value TensorBuilder::sumToShape(Value input, ArrayRef<int64_t> shape) {
  ArrayRef<int64_t> from = shapeOf(input);
  if (from == shape)
    return input;
  int64_t extra = from.size() - shape.size();
  SmallVector<int64_t> axes;
  for (int64_t dim = 0; dim < (int64_t)from.size(); ++dim)
    if (dim < extra || (shape[dim - extra] == 1 && from[dim] != 1))
      axes.push_back(dim);
  Value summed = reduce(ReduceKind::sum, input, axes, /*keepDims=*/true);
  return reshape(summed, shape);
}

Value TensorBuilder::matmul(Value lhs, Value rhs, bool transposeA, bool transposeB) {
  ArrayRef<int64_t> a = shapeOf(lhs), b = shapeOf(rhs);
  SmallVector<int64_t> shape;
  (void)broadcastShapes(a.drop_back(2), b.drop_back(2), shape);
  shape.push_back(transposeA ? a.back() : a[a.size() - 2]);
  shape.push_back(transposeB ? b[b.size() - 2] : b.back());
  auto op =
      builder.create<MatmulOp>(loc, RankedTensorType::get(shape, elementTypeOf(lhs)), lhs, rhs);
  op.setTransposeA(transposeA);
  op.setTransposeB(transposeB);
  return op;
}
