//===- TensorBuilder.h - build cleave ops with their result types ---------===//
//
// Creating a cleave op means computing its result type (broadcast shapes,
// reduced shapes, transposed shapes). TensorBuilder does that once for the
// passes that generate IR — autodiff, the loss and the optimizer — so that
// each of them reads as arithmetic rather than type bookkeeping. Operands
// are assumed valid; the verifiers catch anything that is not.
//
//===----------------------------------------------------------------------===//
#ifndef CLEAVE_DIALECT_TENSORBUILDER_H
#define CLEAVE_DIALECT_TENSORBUILDER_H

#include "dialects/Cleave/IR/CleaveOps.h"

#include "mlir/IR/Builders.h"

namespace mlir::cleave {

/// NumPy broadcast of two shapes; false when they do not broadcast.
bool broadcastShapes(ArrayRef<int64_t> a, ArrayRef<int64_t> b, SmallVectorImpl<int64_t> &result);

/// The shape cleave.reduce gives `shape` reduced over `axes`: each axis
/// dropped, or kept as 1 with `keepDims`.
SmallVector<int64_t> reducedShape(ArrayRef<int64_t> shape, ArrayRef<int64_t> axes, bool keepDims);

class TensorBuilder {
public:
  TensorBuilder(OpBuilder &builder, Location loc) : builder(builder), loc(loc) {}

  OpBuilder &getBuilder() { return builder; }
  Location getLoc() const { return loc; }

  static ArrayRef<int64_t> shapeOf(Value value);
  static Type elementTypeOf(Value value);

  /// A 0-d constant of `elementType`.
  Value scalar(Type elementType, double value);
  /// A constant of `type` with every element `value`.
  Value splat(RankedTensorType type, double value);

  Value unary(UnaryKind kind, Value input);
  Value binary(BinaryKind kind, Value lhs, Value rhs);
  Value add(Value lhs, Value rhs) { return binary(BinaryKind::add, lhs, rhs); }
  Value sub(Value lhs, Value rhs) { return binary(BinaryKind::sub, lhs, rhs); }
  Value mul(Value lhs, Value rhs) { return binary(BinaryKind::mul, lhs, rhs); }
  Value div(Value lhs, Value rhs) { return binary(BinaryKind::div, lhs, rhs); }
  Value neg(Value input) { return unary(UnaryKind::neg, input); }
  /// `value` * `factor` for a compile-time factor (no op when it is 1).
  Value scale(Value value, double factor);
  Value compare(CompareKind kind, Value lhs, Value rhs);
  Value select(Value condition, Value onTrue, Value onFalse);
  Value convert(Value input, Type elementType);

  Value reshape(Value input, ArrayRef<int64_t> shape);
  Value transpose(Value input, ArrayRef<int64_t> permutation);
  Value broadcastTo(Value input, ArrayRef<int64_t> shape);
  Value reduce(ReduceKind kind, Value input, ArrayRef<int64_t> axes, bool keepDims);
  /// Sums over every axis, giving a 0-d tensor.
  Value sumAll(Value input);
  /// The inverse of NumPy broadcasting: sums `input` down to `shape` (drops
  /// extra leading dimensions, sums over dimensions `shape` has as 1).
  Value sumToShape(Value input, ArrayRef<int64_t> shape);
  Value matmul(Value lhs, Value rhs, bool transposeA, bool transposeB);
  /// An op with no helper above (the gradient ops, data movement), built at
  /// this builder's location.
  template <typename OpT, typename... Args> OpT create(Args &&...args) {
    return OpT::create(builder, loc, std::forward<Args>(args)...);
  }

private:
  OpBuilder &builder;
  Location loc;
};

} // namespace mlir::cleave

#endif // CLEAVE_DIALECT_TENSORBUILDER_H
