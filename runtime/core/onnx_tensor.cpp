//===- onnx_tensor.cpp - reading ONNX models and their tensors' bytes ------===//
#include "onnx_tensor.h"

#include "cleave/rt/check.h"

#include <google/protobuf/io/zero_copy_stream_impl.h>

#include <utility>

namespace cleave::rt {

using onnx::TensorProto;

onnx::ModelProto load_model_proto(const std::string &path) {
  File file = File::open_read(path);
  google::protobuf::io::FileInputStream stream(file.fd());
  onnx::ModelProto model;
  if (!model.ParseFromZeroCopyStream(&stream))
    fail("'", path, "' is not a valid ONNX model (the protobuf does not parse)");
  return model;
}

namespace {

/// The ONNX element types with a DType, each pair once for both directions.
constexpr std::pair<int32_t, DType> kOnnxDTypes[] = {
    {TensorProto::FLOAT, DType::f32},   {TensorProto::DOUBLE, DType::f64},
    {TensorProto::FLOAT16, DType::f16}, {TensorProto::BFLOAT16, DType::bf16},
    {TensorProto::INT64, DType::i64},   {TensorProto::INT32, DType::i32},
    {TensorProto::INT8, DType::i8},     {TensorProto::BOOL, DType::i1},
};

} // namespace

std::optional<DType> dtype_from_onnx(int32_t data_type) {
  for (const auto &[onnx, dtype] : kOnnxDTypes)
    if (onnx == data_type)
      return dtype;
  return std::nullopt;
}

int32_t onnx_from_dtype(DType dtype) {
  for (const auto &[onnx, ours] : kOnnxDTypes)
    if (ours == dtype)
      return onnx;
  CLEAVE_CHECK(false, "unknown DType ", static_cast<int>(dtype));
}

namespace {

/// The ONNX element types without a DType that messages name: their name and
/// bytes per element (0 when it has no fixed size).
struct OtherOnnxType {
  int32_t data_type;
  const char *name;
  int64_t bytes;
};
constexpr OtherOnnxType kOtherOnnxTypes[] = {
    {TensorProto::UINT8, "uint8", 1},         {TensorProto::UINT16, "uint16", 2},
    {TensorProto::INT16, "int16", 2},         {TensorProto::UINT32, "uint32", 4},
    {TensorProto::UINT64, "uint64", 8},       {TensorProto::STRING, "string", 0},
    {TensorProto::COMPLEX64, "complex64", 8}, {TensorProto::COMPLEX128, "complex128", 16},
};

const OtherOnnxType *other_onnx_type(int32_t data_type) {
  for (const OtherOnnxType &type : kOtherOnnxTypes)
    if (type.data_type == data_type)
      return &type;
  return nullptr;
}

} // namespace

std::string onnx_type_name(int32_t data_type) {
  if (std::optional<DType> dtype = dtype_from_onnx(data_type))
    return dtype_name(*dtype);
  if (const OtherOnnxType *type = other_onnx_type(data_type))
    return type->name;
  return "ONNX data type " + std::to_string(data_type);
}

/// Bytes per element of an ONNX data type; 0 when it has no fixed size.
static int64_t onnx_type_bytes(int32_t data_type) {
  if (std::optional<DType> dtype = dtype_from_onnx(data_type))
    return dtype_bytes(*dtype);
  const OtherOnnxType *type = other_onnx_type(data_type);
  return type ? type->bytes : 0;
}

bool is_external(const TensorProto &tensor) {
  return tensor.data_location() == TensorProto::EXTERNAL;
}

ExternalData::ExternalData(const std::string &model_path) : model_path_(model_path) {}

static int64_t parse_byte_count(const std::string &text, const std::string &key,
                                const TensorProto &tensor, const std::string &model_path) {
  size_t used = 0;
  long long value = -1;
  try {
    value = std::stoll(text, &used);
  } catch (const std::exception &) {
    used = 0;
  }
  if (used != text.size() || value < 0)
    fail("initializer '", tensor.name(), "' in '", model_path, "' has external_data ", key, " '",
         text, "', which is not a byte count");
  return value;
}

ExternalData::Location ExternalData::locate(const TensorProto &tensor) {
  Location where;
  std::string location;
  for (const auto &entry : tensor.external_data()) {
    if (entry.key() == "location")
      location = entry.value();
    else if (entry.key() == "offset")
      where.offset = parse_byte_count(entry.value(), "offset", tensor, model_path_);
    else if (entry.key() == "length")
      where.length = parse_byte_count(entry.value(), "length", tensor, model_path_);
  }
  if (location.empty())
    fail("initializer '", tensor.name(), "' in '", model_path_,
         "' is stored externally but has no external_data 'location'");
  where.path = join_path(directory_of(model_path_), location);
  return where;
}

int64_t ExternalData::length(const TensorProto &tensor) {
  Location where = locate(tensor);
  if (where.length)
    return *where.length;
  int64_t element_bytes = onnx_type_bytes(tensor.data_type());
  if (element_bytes == 0)
    fail("initializer '", tensor.name(), "' in '", model_path_, "' holds ",
         onnx_type_name(tensor.data_type()),
         " data externally without a 'length'; its size is unknown");
  int64_t count = 1;
  for (int64_t dim : tensor.dims())
    count *= dim;
  return count * element_bytes;
}

void ExternalData::read(const TensorProto &tensor, void *dst) {
  Location where = locate(tensor);
  int64_t bytes = length(tensor);
  auto found = files_.find(where.path);
  if (found == files_.end()) {
    try {
      found = files_.emplace(where.path, File::open_read(where.path)).first;
    } catch (const Error &error) {
      fail("initializer '", tensor.name(), "' in '", model_path_, "' keeps its data in '",
           where.path, "', which cannot be read (", error.what(), ")");
    }
  }
  const File &file = found->second;
  int64_t size = file.size();
  if (where.offset + bytes > size)
    fail("initializer '", tensor.name(), "' in '", model_path_, "': external data file '",
         where.path, "' is truncated: the data is at bytes [", where.offset, ", ",
         where.offset + bytes, ") but the file has ", size, " bytes");
  file.read_at(where.offset, dst, bytes);
}

} // namespace cleave::rt
