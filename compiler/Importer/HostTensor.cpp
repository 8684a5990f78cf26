//===- HostTensor.cpp - compile-time tensor values for folding ------------===//
#include "compiler/Importer/HostTensor.h"

#include "onnx/onnx_pb.h"

#include "llvm/ADT/APFloat.h"

#include <cmath>
#include <cstring>

using namespace mlir;
using namespace mlir::cleave::importer;

static int64_t product(llvm::ArrayRef<int64_t> shape) {
  int64_t count = 1;
  for (int64_t size : shape)
    count *= size;
  return count;
}

HostTensor::HostTensor(Type elementType, std::vector<int64_t> shape)
    : elementType(elementType), shape(std::move(shape)) {
  if (isFloat())
    doubles.assign(getNumElements(), 0.0);
  else
    ints.assign(getNumElements(), 0);
}

HostTensor HostTensor::fromInts(Type elementType, std::vector<int64_t> shape,
                                std::vector<int64_t> values) {
  HostTensor tensor(elementType, std::move(shape));
  for (size_t i = 0; i < values.size(); ++i)
    tensor.setInt(i, values[i]);
  return tensor;
}

HostTensor HostTensor::fromDoubles(Type elementType, std::vector<int64_t> shape,
                                   std::vector<double> values) {
  HostTensor tensor(elementType, std::move(shape));
  for (size_t i = 0; i < values.size(); ++i)
    tensor.setDouble(i, values[i]);
  return tensor;
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

int64_t HostTensor::getInt(int64_t index) const {
  return isFloat() ? static_cast<int64_t>(doubles[index]) : ints[index];
}

double HostTensor::getDouble(int64_t index) const {
  return isFloat() ? doubles[index] : static_cast<double>(ints[index]);
}

void HostTensor::setInt(int64_t index, int64_t value) {
  if (isFloat())
    doubles[index] = roundTo(cast<FloatType>(elementType), static_cast<double>(value));
  else
    ints[index] = elementType.isSignlessInteger(1) ? (value != 0) : value;
}

void HostTensor::setDouble(int64_t index, double value) {
  if (isFloat())
    doubles[index] = roundTo(cast<FloatType>(elementType), value);
  else
    ints[index] = elementType.isSignlessInteger(1) ? (value != 0.0) : static_cast<int64_t>(value);
}

std::vector<int64_t> HostTensor::toInts() const {
  std::vector<int64_t> values(getNumElements());
  for (int64_t i = 0; i < getNumElements(); ++i)
    values[i] = getInt(i);
  return values;
}

RankedTensorType HostTensor::getType() const {
  return RankedTensorType::get(shape, elementType);
}

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

llvm::Expected<HostTensor> HostTensor::fromProto(const onnx::TensorProto &proto,
                                                 Type elementType) {
  std::vector<int64_t> shape(proto.dims().begin(), proto.dims().end());
  HostTensor tensor(elementType, shape);
  int64_t count = tensor.getNumElements();
  auto fail = [&](const std::string &why) {
    return llvm::createStringError(llvm::inconvertibleErrorCode(),
                                   "tensor '" + proto.name() + "': " + why);
  };
  if (proto.data_location() == onnx::TensorProto::EXTERNAL)
    return fail("its values are in an external-data file, but the importer needs them to "
                "compute shapes");
  const std::string &raw = proto.raw_data();
  bool hasRaw = proto.has_raw_data();
  auto checkCount = [&](int64_t available) -> llvm::Error {
    if (available != count)
      return fail("holds " + std::to_string(available) + " values but its shape needs " +
                  std::to_string(count));
    return llvm::Error::success();
  };

  switch (proto.data_type()) {
  case onnx::TensorProto::FLOAT:
    if (hasRaw) {
      if (auto error = checkCount(raw.size() / 4))
        return std::move(error);
      for (int64_t i = 0; i < count; ++i)
        tensor.setDouble(i, readLittleEndian<float>(raw, i));
    } else {
      if (auto error = checkCount(proto.float_data_size()))
        return std::move(error);
      for (int64_t i = 0; i < count; ++i)
        tensor.setDouble(i, proto.float_data(i));
    }
    return tensor;
  case onnx::TensorProto::DOUBLE:
    if (hasRaw) {
      if (auto error = checkCount(raw.size() / 8))
        return std::move(error);
      for (int64_t i = 0; i < count; ++i)
        tensor.setDouble(i, readLittleEndian<double>(raw, i));
    } else {
      if (auto error = checkCount(proto.double_data_size()))
        return std::move(error);
      for (int64_t i = 0; i < count; ++i)
        tensor.setDouble(i, proto.double_data(i));
    }
    return tensor;
  case onnx::TensorProto::FLOAT16:
  case onnx::TensorProto::BFLOAT16: {
    const llvm::fltSemantics &semantics = proto.data_type() == onnx::TensorProto::FLOAT16
                                              ? APFloat::IEEEhalf()
                                              : APFloat::BFloat();
    if (hasRaw) {
      if (auto error = checkCount(raw.size() / 2))
        return std::move(error);
      for (int64_t i = 0; i < count; ++i)
        tensor.setDouble(i, halfBitsToDouble(readLittleEndian<uint16_t>(raw, i), semantics));
    } else {
      if (auto error = checkCount(proto.int32_data_size()))
        return std::move(error);
      for (int64_t i = 0; i < count; ++i)
        tensor.setDouble(i, halfBitsToDouble(static_cast<uint16_t>(proto.int32_data(i)), semantics));
    }
    return tensor;
  }
  case onnx::TensorProto::INT64:
    if (hasRaw) {
      if (auto error = checkCount(raw.size() / 8))
        return std::move(error);
      for (int64_t i = 0; i < count; ++i)
        tensor.setInt(i, readLittleEndian<int64_t>(raw, i));
    } else {
      if (auto error = checkCount(proto.int64_data_size()))
        return std::move(error);
      for (int64_t i = 0; i < count; ++i)
        tensor.setInt(i, proto.int64_data(i));
    }
    return tensor;
  case onnx::TensorProto::INT32:
  case onnx::TensorProto::INT16:
  case onnx::TensorProto::INT8:
  case onnx::TensorProto::UINT8:
  case onnx::TensorProto::BOOL: {
    int64_t width = proto.data_type() == onnx::TensorProto::INT32   ? 4
                    : proto.data_type() == onnx::TensorProto::INT16 ? 2
                                                                    : 1;
    if (hasRaw) {
      if (auto error = checkCount(raw.size() / width))
        return std::move(error);
      for (int64_t i = 0; i < count; ++i) {
        int64_t value = width == 4   ? readLittleEndian<int32_t>(raw, i)
                        : width == 2 ? readLittleEndian<int16_t>(raw, i)
                        : proto.data_type() == onnx::TensorProto::INT8
                            ? readLittleEndian<int8_t>(raw, i)
                            : readLittleEndian<uint8_t>(raw, i);
        tensor.setInt(i, value);
      }
    } else {
      if (auto error = checkCount(proto.int32_data_size()))
        return std::move(error);
      for (int64_t i = 0; i < count; ++i)
        tensor.setInt(i, proto.int32_data(i));
    }
    return tensor;
  }
  default:
    return fail("element type " + onnx::TensorProto::DataType_Name(
                                      static_cast<onnx::TensorProto::DataType>(proto.data_type())) +
                " is not supported");
  }
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

void forEachBroadcastIndex(
    llvm::ArrayRef<int64_t> resultShape, llvm::ArrayRef<std::vector<int64_t>> operandShapes,
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
