//===- HostTensor.cpp - compile-time tensor values for folding ------------===//
#include "compiler/Importer/HostTensor.h"

#include "onnx/onnx_pb.h"

#include "llvm/ADT/APFloat.h"
#include "llvm/Support/MathExtras.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <type_traits>

using namespace mlir;
using namespace mlir::cleave::importer;

int64_t mlir::cleave::importer::product(llvm::ArrayRef<int64_t> shape) {
  int64_t count = 1;
  for (int64_t size : shape)
    count *= size;
  return count;
}

std::optional<int64_t> mlir::cleave::importer::getElementCount(llvm::ArrayRef<int64_t> shape) {
  int64_t count = 1;
  for (int64_t size : shape)
    if (size < 0 || llvm::MulOverflow(count, size, count))
      return std::nullopt;
  return count;
}

HostTensor::HostTensor(Type elementType, std::vector<int64_t> shape)
    : elementType(elementType), shape(std::move(shape)) {
  if (isFloat())
    doubles.assign(getNumElements(), 0.0);
  else
    ints.assign(getNumElements(), 0);
}

/// A tensor holding `values` in order, each stored as setInt or setDouble
/// (by the type they come in) stores it.
template <typename T>
static HostTensor fromValues(Type elementType, std::vector<int64_t> shape,
                             const std::vector<T> &values) {
  HostTensor tensor(elementType, std::move(shape));
  for (size_t i = 0; i < values.size(); ++i) {
    if constexpr (std::is_floating_point_v<T>)
      tensor.setDouble(i, values[i]);
    else
      tensor.setInt(i, values[i]);
  }
  return tensor;
}

HostTensor HostTensor::fromInts(Type elementType, std::vector<int64_t> shape,
                                const std::vector<int64_t> &values) {
  return fromValues(elementType, std::move(shape), values);
}

HostTensor HostTensor::fromDoubles(Type elementType, std::vector<int64_t> shape,
                                   const std::vector<double> &values) {
  return fromValues(elementType, std::move(shape), values);
}

int64_t HostTensor::getNumElements() const { return product(shape); }

/// `value` rounded (to nearest, ties to even) to the precision of
/// `floatType`, so that folded arithmetic sees what the program would.
static double roundTo(FloatType floatType, double value) {
  if (floatType.isF64())
    return value;
  if (floatType.isF32())
    return static_cast<float>(value);
  APFloat converted(value);
  bool losesInfo = false;
  converted.convert(floatType.getFloatSemantics(), APFloat::rmNearestTiesToEven, &losesInfo);
  converted.convert(APFloat::IEEEdouble(), APFloat::rmNearestTiesToEven, &losesInfo);
  return converted.convertToDouble();
}

int64_t mlir::cleave::importer::truncateToInt64(double value) {
  if (std::isnan(value))
    return 0;
  // 2^63 - 1024 is the largest double below 2^63.
  return static_cast<int64_t>(std::clamp(value, -0x1p63, 0x1p63 - 1024));
}

int64_t HostTensor::getInt(int64_t index) const {
  return isFloat() ? truncateToInt64(doubles[index]) : ints[index];
}

double HostTensor::getDouble(int64_t index) const {
  return isFloat() ? doubles[index] : static_cast<double>(ints[index]);
}

/// `value` wrapped to the width of integer type `type` (i1: value != 0).
static int64_t wrapTo(Type type, int64_t value) {
  unsigned width = type.getIntOrFloatBitWidth();
  if (width == 1)
    return value != 0;
  if (width >= 64)
    return value;
  return APInt(64, static_cast<uint64_t>(value)).trunc(width).getSExtValue();
}

void HostTensor::setInt(int64_t index, int64_t value) {
  if (isFloat())
    doubles[index] = roundTo(cast<FloatType>(elementType), static_cast<double>(value));
  else
    ints[index] = wrapTo(elementType, value);
}

void HostTensor::setDouble(int64_t index, double value) {
  if (isFloat()) {
    doubles[index] = roundTo(cast<FloatType>(elementType), value);
  } else if (elementType.isSignlessInteger(1)) {
    ints[index] = value != 0.0;
  } else {
    ints[index] = wrapTo(elementType, truncateToInt64(value));
  }
}

void HostTensor::setFrom(int64_t index, const HostTensor &source, int64_t sourceIndex) {
  if (isFloat())
    setDouble(index, source.getDouble(sourceIndex));
  else
    setInt(index, source.getInt(sourceIndex));
}

std::vector<int64_t> HostTensor::toInts() const {
  std::vector<int64_t> values(getNumElements());
  for (int64_t i = 0; i < getNumElements(); ++i)
    values[i] = getInt(i);
  return values;
}

RankedTensorType HostTensor::getType() const { return RankedTensorType::get(shape, elementType); }

DenseElementsAttr HostTensor::toAttr() const {
  RankedTensorType type = getType();
  if (auto floatType = dyn_cast<FloatType>(elementType)) {
    std::vector<APFloat> values;
    values.reserve(doubles.size());
    for (double value : doubles) {
      APFloat converted(value);
      bool losesInfo = false;
      converted.convert(floatType.getFloatSemantics(), APFloat::rmNearestTiesToEven, &losesInfo);
      values.push_back(converted);
    }
    return DenseElementsAttr::get(type, values);
  }
  unsigned width = elementType.getIntOrFloatBitWidth();
  std::vector<APInt> values;
  values.reserve(ints.size());
  for (int64_t value : ints)
    values.push_back(APInt(width, static_cast<uint64_t>(value), /*isSigned=*/true,
                           /*implicitTrunc=*/true));
  return DenseElementsAttr::get(type, values);
}

HostTensor HostTensor::reshaped(std::vector<int64_t> newShape) const {
  HostTensor result = *this;
  result.shape = std::move(newShape);
  return result;
}

HostTensor HostTensor::castTo(Type newElementType) const {
  HostTensor result(newElementType, shape);
  for (int64_t i = 0; i < getNumElements(); ++i) {
    if (isFloat())
      result.setDouble(i, doubles[i]);
    else
      result.setInt(i, ints[i]);
  }
  return result;
}

//===----------------------------------------------------------------------===//
// Decoding TensorProto
//===----------------------------------------------------------------------===//

template <typename T> static T readLittleEndian(const std::string &raw, int64_t index) {
  T value;
  std::memcpy(&value, raw.data() + index * sizeof(T), sizeof(T));
  return value;
}

static double halfBitsToDouble(uint16_t bits, const llvm::fltSemantics &semantics) {
  APFloat value(semantics, APInt(16, bits));
  bool losesInfo = false;
  value.convert(APFloat::IEEEdouble(), APFloat::rmNearestTiesToEven, &losesInfo);
  return value.convertToDouble();
}

/// How many values `proto` stores inline, or -1 for an element type the
/// decoder below does not read.
static int64_t storedValueCount(const onnx::TensorProto &proto) {
  int64_t width;
  switch (proto.data_type()) {
  case onnx::TensorProto::DOUBLE:
  case onnx::TensorProto::INT64:
    width = 8;
    break;
  case onnx::TensorProto::FLOAT:
  case onnx::TensorProto::INT32:
    width = 4;
    break;
  case onnx::TensorProto::FLOAT16:
  case onnx::TensorProto::BFLOAT16:
  case onnx::TensorProto::INT16:
    width = 2;
    break;
  case onnx::TensorProto::INT8:
  case onnx::TensorProto::UINT8:
  case onnx::TensorProto::BOOL:
    width = 1;
    break;
  default:
    return -1;
  }
  if (proto.has_raw_data())
    return proto.raw_data().size() % width ? -1 : proto.raw_data().size() / width;
  switch (proto.data_type()) {
  case onnx::TensorProto::FLOAT:
    return proto.float_data_size();
  case onnx::TensorProto::DOUBLE:
    return proto.double_data_size();
  case onnx::TensorProto::INT64:
    return proto.int64_data_size();
  default: // the narrow types travel in int32_data
    return proto.int32_data_size();
  }
}

/// Element `i` of an integer tensor narrower than 64 bits: from raw_data as
/// a T, or from int32_data, where ONNX keeps all of them.
template <typename T> static int64_t readNarrowInteger(const onnx::TensorProto &proto, int64_t i) {
  return proto.has_raw_data() ? readLittleEndian<T>(proto.raw_data(), i) : proto.int32_data(i);
}

llvm::Expected<HostTensor> HostTensor::fromProto(const onnx::TensorProto &proto, Type elementType) {
  auto fail = [&](const std::string &why) {
    return llvm::createStringError(llvm::inconvertibleErrorCode(),
                                   "tensor '" + proto.name() + "': " + why);
  };
  if (proto.data_location() == onnx::TensorProto::EXTERNAL)
    return fail("its values are in an external-data file, but the importer needs them to "
                "compute shapes");
  if (storedValueCount(proto) < 0)
    return fail("element type " +
                onnx::TensorProto::DataType_Name(
                    static_cast<onnx::TensorProto::DataType>(proto.data_type())) +
                " is not supported, or its raw data is not a whole number of elements");
  std::vector<int64_t> shape(proto.dims().begin(), proto.dims().end());
  // Compare before allocating: the dims of a corrupt file can ask for
  // anything.
  std::optional<int64_t> count = getElementCount(shape);
  if (!count)
    return fail("its dimensions are negative or their product overflows");
  if (storedValueCount(proto) != *count)
    return fail("holds " + std::to_string(storedValueCount(proto)) +
                " values but its shape needs " + std::to_string(*count));

  HostTensor tensor(elementType, shape);
  const std::string &raw = proto.raw_data();
  bool hasRaw = proto.has_raw_data();
  int32_t type = proto.data_type();
  for (int64_t i = 0; i < *count; ++i) {
    switch (type) {
    case onnx::TensorProto::FLOAT:
      tensor.setDouble(i, hasRaw ? readLittleEndian<float>(raw, i) : proto.float_data(i));
      break;
    case onnx::TensorProto::DOUBLE:
      tensor.setDouble(i, hasRaw ? readLittleEndian<double>(raw, i) : proto.double_data(i));
      break;
    case onnx::TensorProto::FLOAT16:
    case onnx::TensorProto::BFLOAT16: {
      const llvm::fltSemantics &semantics =
          type == onnx::TensorProto::FLOAT16 ? APFloat::IEEEhalf() : APFloat::BFloat();
      uint16_t bits =
          hasRaw ? readLittleEndian<uint16_t>(raw, i) : static_cast<uint16_t>(proto.int32_data(i));
      tensor.setDouble(i, halfBitsToDouble(bits, semantics));
      break;
    }
    case onnx::TensorProto::INT64:
      tensor.setInt(i, hasRaw ? readLittleEndian<int64_t>(raw, i) : proto.int64_data(i));
      break;
    case onnx::TensorProto::INT32:
      tensor.setInt(i, readNarrowInteger<int32_t>(proto, i));
      break;
    case onnx::TensorProto::INT16:
      tensor.setInt(i, readNarrowInteger<int16_t>(proto, i));
      break;
    case onnx::TensorProto::INT8:
      tensor.setInt(i, readNarrowInteger<int8_t>(proto, i));
      break;
    default: // UINT8, BOOL
      tensor.setInt(i, readNarrowInteger<uint8_t>(proto, i));
      break;
    }
  }
  return tensor;
}

//===----------------------------------------------------------------------===//
// Broadcasting helpers
//===----------------------------------------------------------------------===//

namespace mlir::cleave::importer {

std::vector<int64_t> computeStrides(llvm::ArrayRef<int64_t> shape) {
  std::vector<int64_t> strides(shape.size(), 1);
  for (int64_t dim = static_cast<int64_t>(shape.size()) - 2; dim >= 0; --dim)
    strides[dim] = strides[dim + 1] * shape[dim + 1];
  return strides;
}

bool broadcastShapes(llvm::ArrayRef<int64_t> a, llvm::ArrayRef<int64_t> b,
                     std::vector<int64_t> &result) {
  size_t rank = std::max(a.size(), b.size());
  result.assign(rank, 1);
  for (size_t i = 0; i < rank; ++i) {
    int64_t sa = i < rank - a.size() ? 1 : a[i - (rank - a.size())];
    int64_t sb = i < rank - b.size() ? 1 : b[i - (rank - b.size())];
    if (sa != sb && sa != 1 && sb != 1)
      return false;
    result[i] = sa == 1 ? sb : sa;
  }
  return true;
}

void forEachBroadcastIndex(llvm::ArrayRef<int64_t> resultShape,
                           llvm::ArrayRef<std::vector<int64_t>> operandShapes,
                           const std::function<void(int64_t, llvm::ArrayRef<int64_t>)> &visit) {
  size_t rank = resultShape.size();
  // Per operand, the stride each result dimension advances it by (0 where
  // the operand is broadcast along that dimension).
  std::vector<std::vector<int64_t>> operandStrides;
  for (const std::vector<int64_t> &shape : operandShapes) {
    std::vector<int64_t> own = computeStrides(shape);
    std::vector<int64_t> strides(rank, 0);
    size_t offset = rank - shape.size();
    for (size_t i = 0; i < shape.size(); ++i)
      strides[offset + i] = shape[i] == 1 ? 0 : own[i];
    operandStrides.push_back(std::move(strides));
  }
  int64_t count = product(resultShape);
  std::vector<int64_t> index(rank, 0);
  std::vector<int64_t> offsets(operandShapes.size(), 0);
  for (int64_t flat = 0; flat < count; ++flat) {
    for (size_t op = 0; op < operandShapes.size(); ++op) {
      int64_t offset = 0;
      for (size_t dim = 0; dim < rank; ++dim)
        offset += index[dim] * operandStrides[op][dim];
      offsets[op] = offset;
    }
    visit(flat, offsets);
    for (int64_t dim = static_cast<int64_t>(rank) - 1; dim >= 0; --dim) {
      if (++index[dim] < resultShape[dim])
        break;
      index[dim] = 0;
    }
  }
}

} // namespace mlir::cleave::importer
