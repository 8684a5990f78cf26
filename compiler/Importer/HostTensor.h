//===- HostTensor.h - compile-time tensor values for folding --------------===//
//
// Exporters compute shapes at run time (Shape -> Gather -> Unsqueeze ->
// Concat -> Reshape). With static shapes all of that is known while
// importing, so the importer evaluates it here instead of emitting IR.
// Integers (and booleans) are held exactly as int64; floats as double.
//
//===----------------------------------------------------------------------===//
#ifndef CLEAVE_COMPILER_IMPORTER_HOSTTENSOR_H
#define CLEAVE_COMPILER_IMPORTER_HOSTTENSOR_H

#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/BuiltinTypes.h"
#include "llvm/ADT/ArrayRef.h"
#include "llvm/Support/Error.h"

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace onnx {
class TensorProto;
}

namespace mlir::cleave::importer {

class HostTensor {
public:
  HostTensor() = default;
  /// A zero-filled tensor of `shape` with MLIR element type `elementType`.
  HostTensor(mlir::Type elementType, std::vector<int64_t> shape);

  static HostTensor fromInts(mlir::Type elementType, std::vector<int64_t> shape,
                             const std::vector<int64_t> &values);
  static HostTensor fromDoubles(mlir::Type elementType, std::vector<int64_t> shape,
                                const std::vector<double> &values);
  /// Decodes an ONNX TensorProto held inside the model (not external data).
  static llvm::Expected<HostTensor> fromProto(const onnx::TensorProto &proto,
                                              mlir::Type elementType);

  mlir::Type getElementType() const { return elementType; }
  const std::vector<int64_t> &getShape() const { return shape; }
  int64_t getRank() const { return static_cast<int64_t>(shape.size()); }
  int64_t getNumElements() const;
  bool isFloat() const { return mlir::isa<mlir::FloatType>(elementType); }

  int64_t getInt(int64_t index) const;
  double getDouble(int64_t index) const;
  void setInt(int64_t index, int64_t value);
  void setDouble(int64_t index, double value);
  /// Element `index` set to element `sourceIndex` of `source`, read as a
  /// double only when this tensor holds floats, so integers stay exact.
  void setFrom(int64_t index, const HostTensor &source, int64_t sourceIndex);
  /// All elements as int64 (floats truncated toward zero).
  std::vector<int64_t> toInts() const;

  mlir::RankedTensorType getType() const;
  mlir::DenseElementsAttr toAttr() const;

  /// Same elements in another shape (same element count).
  HostTensor reshaped(std::vector<int64_t> newShape) const;
  /// Elements converted to `newElementType` as ONNX Cast does.
  HostTensor castTo(mlir::Type newElementType) const;

private:
  mlir::Type elementType;
  std::vector<int64_t> shape;
  std::vector<int64_t> ints;   // integer and i1 elements
  std::vector<double> doubles; // float elements
};

/// `value` truncated toward zero, as ONNX Cast does. NaN and values beyond
/// int64 have no defined result; they get a fixed one (0, saturation)
/// instead of C++'s undefined behaviour.
int64_t truncateToInt64(double value);

/// The product of `shape`'s extents (1 for a scalar), unchecked: for shapes
/// that are already known to be valid (getElementCount checks).
int64_t product(llvm::ArrayRef<int64_t> shape);

/// The number of elements of `shape`, or nothing when a dimension is
/// negative or the product overflows int64 (shapes from a file or from
/// folded arithmetic are checked with this before anything is allocated).
std::optional<int64_t> getElementCount(llvm::ArrayRef<int64_t> shape);

/// Row-major strides of `shape`.
std::vector<int64_t> computeStrides(llvm::ArrayRef<int64_t> shape);

/// NumPy broadcast of two shapes; false when they do not broadcast.
bool broadcastShapes(llvm::ArrayRef<int64_t> a, llvm::ArrayRef<int64_t> b,
                     std::vector<int64_t> &result);

/// Visits every index of `resultShape` with the flat offsets it reads in
/// each of `operandShapes` under NumPy broadcasting.
void forEachBroadcastIndex(llvm::ArrayRef<int64_t> resultShape,
                           llvm::ArrayRef<std::vector<int64_t>> operandShapes,
                           const std::function<void(int64_t, llvm::ArrayRef<int64_t>)> &visit);

} // namespace mlir::cleave::importer

#endif // CLEAVE_COMPILER_IMPORTER_HOSTTENSOR_H
