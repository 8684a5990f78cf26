//===- TestTensors.cpp - node-test tensors <-> runtime buffers --------------===//
#include "TestTensors.h"

#include "compiler/Importer/HostTensor.h"
#include "compiler/Importer/NodeContext.h"

#include "mlir/IR/MLIRContext.h"
#include "llvm/ADT/APFloat.h"

#include <cmath>
#include <cstring>
#include <sstream>

using namespace mlir;
using namespace mlir::cleave;
using namespace mlir::cleave::nodetests;
using ::cleave::rt::DType;

int64_t BufferType::elements() const {
  int64_t count = 1;
  for (int64_t dim : shape)
    count *= dim;
  return count;
}

int64_t BufferType::bytes() const { return elements() * ::cleave::rt::dtype_bytes(dtype); }

static std::string shapeText(const std::vector<int64_t> &shape) {
  std::string text = "[";
  for (size_t i = 0; i < shape.size(); ++i)
    text += (i ? "," : "") + std::to_string(shape[i]);
  return text + "]";
}

std::string BufferType::str() const { return ::cleave::rt::dtype_name(dtype) + shapeText(shape); }

bool nodetests::dtypeOfOnnx(int32_t onnxType, DType &dtype) {
  // The ONNX element types the runtime has a dtype for.
  static const std::pair<int32_t, DType> runtimeTypes[] = {
      {onnx::TensorProto::FLOAT, DType::f32},   {onnx::TensorProto::DOUBLE, DType::f64},
      {onnx::TensorProto::FLOAT16, DType::f16}, {onnx::TensorProto::BFLOAT16, DType::bf16},
      {onnx::TensorProto::INT64, DType::i64},   {onnx::TensorProto::INT32, DType::i32},
      {onnx::TensorProto::INT8, DType::i8},     {onnx::TensorProto::BOOL, DType::i1},
  };
  for (auto [known, runtime] : runtimeTypes)
    if (known == onnxType) {
      dtype = runtime;
      return true;
    }
  return false;
}

static bool isFloat(DType dtype) {
  return dtype == DType::f32 || dtype == DType::f64 || dtype == DType::f16 || dtype == DType::bf16;
}

static const llvm::fltSemantics &halfSemantics(DType dtype) {
  return dtype == DType::f16 ? llvm::APFloat::IEEEhalf() : llvm::APFloat::BFloat();
}

/// Element `i` of a buffer of `T`s (unaligned reads are fine).
template <typename T> static T load(const void *buffer, int64_t i) {
  T value;
  std::memcpy(&value, static_cast<const char *>(buffer) + i * sizeof(T), sizeof(T));
  return value;
}

static int64_t readInteger(const void *buffer, DType dtype, int64_t i) {
  switch (dtype) {
  case DType::i64:
    return load<int64_t>(buffer, i);
  case DType::i32:
    return load<int32_t>(buffer, i);
  case DType::i8:
    return load<int8_t>(buffer, i);
  case DType::i1:
    return load<uint8_t>(buffer, i);
  default:
    return 0;
  }
}

static double readElement(const void *buffer, DType dtype, int64_t i) {
  switch (dtype) {
  case DType::f32:
    return load<float>(buffer, i);
  case DType::f64:
    return load<double>(buffer, i);
  case DType::f16:
  case DType::bf16:
    return llvm::APFloat(halfSemantics(dtype), llvm::APInt(16, load<uint16_t>(buffer, i)))
        .convertToDouble();
  case DType::i1:
    return load<uint8_t>(buffer, i) != 0;
  default:
    return static_cast<double>(readInteger(buffer, dtype, i));
  }
}

static void writeElement(void *buffer, DType dtype, int64_t i, double real, int64_t integer) {
  auto store = [&](auto value) {
    std::memcpy(static_cast<char *>(buffer) + i * sizeof(value), &value, sizeof(value));
  };
  switch (dtype) {
  case DType::f32:
    store(static_cast<float>(real));
    break;
  case DType::f64:
    store(real);
    break;
  case DType::f16:
  case DType::bf16: {
    llvm::APFloat value(real);
    bool lost;
    value.convert(halfSemantics(dtype), llvm::APFloat::rmNearestTiesToEven, &lost);
    store(static_cast<uint16_t>(value.bitcastToAPInt().getZExtValue()));
    break;
  }
  case DType::i64:
    store(integer);
    break;
  case DType::i32:
    store(static_cast<int32_t>(integer));
    break;
  case DType::i8:
    store(static_cast<int8_t>(integer));
    break;
  case DType::i1:
    store(static_cast<uint8_t>(integer != 0));
    break;
  }
}

/// The values of `tensor` decoded by the importer's own reader, after
/// checking its dtype and shape against `type`.
static std::string decode(const onnx::TensorProto &tensor, const BufferType &type,
                          std::optional<importer::HostTensor> &values) {
  static MLIRContext context(MLIRContext::Threading::DISABLED);
  DType dtype;
  if (!dtypeOfOnnx(tensor.data_type(), dtype))
    return "its element type " + importer::onnxTypeName(tensor.data_type()) + " has no buffer type";
  std::vector<int64_t> shape(tensor.dims().begin(), tensor.dims().end());
  BufferType got{dtype, shape};
  if (dtype != type.dtype || shape != type.shape)
    return "the test tensor is " + got.str() + " but the program's is " + type.str();
  llvm::Expected<importer::HostTensor> host = importer::HostTensor::fromProto(
      tensor, importer::convertElementType(tensor.data_type(), &context));
  if (!host)
    return llvm::toString(host.takeError());
  values = std::move(*host);
  return "";
}

std::string nodetests::writeTestTensor(const onnx::TensorProto &tensor, const BufferType &type,
                                       void *dst) {
  std::optional<importer::HostTensor> values;
  if (std::string error = decode(tensor, type, values); !error.empty())
    return error;
  bool real = isFloat(type.dtype);
  for (int64_t i = 0; i < type.elements(); ++i)
    writeElement(dst, type.dtype, i, real ? values->getDouble(i) : 0.0,
                 real ? 0 : values->getInt(i));
  return "";
}

/// numpy.testing.assert_allclose's test for one element (equal_nan=True).
static bool close(double actual, double expected) {
  if (std::isnan(expected) || std::isnan(actual))
    return std::isnan(expected) && std::isnan(actual);
  if (std::isinf(expected) || std::isinf(actual))
    return actual == expected;
  return std::fabs(actual - expected) <=
         kAbsoluteTolerance + kRelativeTolerance * std::fabs(expected);
}

std::string nodetests::compareWithReference(const void *actual, const BufferType &type,
                                            const onnx::TensorProto &expected) {
  std::optional<importer::HostTensor> values;
  if (std::string error = decode(expected, type, values); !error.empty())
    return error;
  bool real = isFloat(type.dtype);
  int64_t mismatches = 0;
  std::ostringstream first;
  first.precision(9);
  for (int64_t i = 0; i < type.elements(); ++i) {
    bool same;
    if (real)
      same = close(readElement(actual, type.dtype, i), values->getDouble(i));
    else
      same = readInteger(actual, type.dtype, i) == values->getInt(i);
    if (same)
      continue;
    if (mismatches++ == 0) {
      first << "element " << i << " is ";
      if (real)
        first << readElement(actual, type.dtype, i) << " but the reference is "
              << values->getDouble(i);
      else
        first << readInteger(actual, type.dtype, i) << " but the reference is "
              << values->getInt(i);
    }
  }
  if (mismatches == 0)
    return "";
  return first.str() + " (" + std::to_string(mismatches) + " of " +
         std::to_string(type.elements()) + " elements differ)";
}
