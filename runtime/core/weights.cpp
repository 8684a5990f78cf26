//===- weights.cpp - initial parameter values ------------------------------===//
#include "cleave/rt/weights.h"

#include "cleave/rt/check.h"
#include "cleave/rt/rng.h"
#include "cleave/rt/tensor.h"
#include "onnx_tensor.h"

#include <cstring>
#include <unordered_map>

namespace cleave::rt {

using onnx::TensorProto;

struct WeightReader::Impl {
  std::string model_path;
  onnx::ModelProto model;
  std::unordered_map<std::string, const TensorProto *> initializers;
  ExternalData external;

  explicit Impl(const std::string &path)
      : model_path(path), model(load_model_proto(path)), external(path) {
    for (const TensorProto &tensor : model.graph().initializer())
      initializers.emplace(tensor.name(), &tensor);
  }
};

WeightReader::WeightReader(const std::string &model_path)
    : impl_(std::make_unique<Impl>(model_path)) {}

WeightReader::~WeightReader() = default;

/// Copies a typed repeated field, narrowing each value to the element type.
template <typename Element, typename Field>
static bool copy_typed(const Field &field, int64_t count, void *dst) {
  if (static_cast<int64_t>(field.size()) != count)
    return false;
  Element *out = static_cast<Element *>(dst);
  for (int64_t i = 0; i < count; ++i)
    out[i] = static_cast<Element>(field.Get(static_cast<int>(i)));
  return true;
}

/// int32_data holds every type narrower than 32 bits widened (and int32
/// itself); the element keeps the low `bytes` bytes of each value: an int8's
/// or bool's byte, a float16's or bfloat16's bits.
template <typename Field>
static bool copy_int32_data(const Field &field, int64_t bytes, int64_t count, void *dst) {
  if (bytes == 4)
    return copy_typed<int32_t>(field, count, dst);
  if (bytes == 2)
    return copy_typed<uint16_t>(field, count, dst);
  return copy_typed<uint8_t>(field, count, dst);
}

/// Inline values from the typed field that belongs to the data type.
/// Returns false when the field's count is not `count`.
static bool copy_typed_field(const TensorProto &tensor, DType dtype, int64_t count, void *dst) {
  switch (dtype) {
  case DType::f32:
    return copy_typed<float>(tensor.float_data(), count, dst);
  case DType::f64:
    return copy_typed<double>(tensor.double_data(), count, dst);
  case DType::i64:
    return copy_typed<int64_t>(tensor.int64_data(), count, dst);
  case DType::i32:
  case DType::i8:
  case DType::i1:
  case DType::f16:
  case DType::bf16:
    return copy_int32_data(tensor.int32_data(), dtype_bytes(dtype), count, dst);
  }
  return false;
}

void WeightReader::read(const TensorSpec &spec, void *dst) {
  const std::string &path = impl_->model_path;
  auto found = impl_->initializers.find(spec.name);
  if (found == impl_->initializers.end())
    fail("'", path, "' has no initializer named '", spec.name, "' (", type_string(spec),
         "); if the model was exported without weights, train from random ones with "
         "--init random");
  const TensorProto &tensor = *found->second;

  std::optional<DType> dtype = dtype_from_onnx(tensor.data_type());
  if (!dtype || *dtype != spec.dtype)
    fail("initializer '", spec.name, "' in '", path, "' is ", onnx_type_name(tensor.data_type()),
         " but the compiled model expects ", type_string(spec));
  std::vector<int64_t> dims(tensor.dims().begin(), tensor.dims().end());
  if (dims != shape_of(spec))
    fail("initializer '", spec.name, "' in '", path, "' has shape ", shape_string(dims),
         " but the compiled model expects ", type_string(spec));
  if (tensor.segment().begin() != tensor.segment().end())
    fail("initializer '", spec.name, "' in '", path, "' is segmented, which is not supported");

  int64_t bytes = byte_size(spec);
  if (is_external(tensor)) {
    int64_t length = impl_->external.length(tensor);
    if (length != bytes)
      fail("initializer '", spec.name, "' in '", path, "' has external data of ", length,
           " bytes but ", type_string(spec), " needs ", bytes);
    impl_->external.read(tensor, dst);
    return;
  }
  if (tensor.has_raw_data()) {
    if (static_cast<int64_t>(tensor.raw_data().size()) != bytes)
      fail("initializer '", spec.name, "' in '", path, "' has ", tensor.raw_data().size(),
           " bytes of raw_data but ", type_string(spec), " needs ", bytes);
    std::memcpy(dst, tensor.raw_data().data(), static_cast<size_t>(bytes));
    return;
  }
  if (!copy_typed_field(tensor, spec.dtype, num_elements(spec), dst))
    fail("initializer '", spec.name, "' in '", path, "' has the wrong number of values for ",
         type_string(spec), " (or none: neither raw_data nor the typed field holds ",
         num_elements(spec), ")");
}

static bool ends_with(const std::string &text, const std::string &suffix) {
  return text.size() >= suffix.size() &&
         text.compare(text.size() - suffix.size(), suffix.size(), suffix) == 0;
}

void init_random(const TensorSpec &spec, uint64_t seed, int64_t index, void *dst) {
  int64_t count = num_elements(spec);
  std::memset(dst, 0, static_cast<size_t>(byte_size(spec)));
  if (is_integer(spec.dtype))
    return;

  // Standard deviation 0.02: GPT-2's initialisation (as in nanoGPT and
  // llm.c), the usual choice for the transformer models this rule targets.
  constexpr double kStd = 0.02;
  std::string name = spec.name;
  bool ones = spec.rank <= 1 && (ends_with(name, "weight") || ends_with(name, "running_var"));
  if (spec.rank <= 1 && !ones)
    return;

  Rng rng(derive_seed(seed, RngStream::init, static_cast<uint64_t>(index)));
  for (int64_t i = 0; i < count; ++i) {
    double value = ones ? 1.0 : kStd * rng.normal();
    switch (spec.dtype) {
    case DType::f32:
      static_cast<float *>(dst)[i] = static_cast<float>(value);
      break;
    case DType::f64:
      static_cast<double *>(dst)[i] = value;
      break;
    case DType::f16:
      static_cast<uint16_t *>(dst)[i] = float_to_half(static_cast<float>(value));
      break;
    case DType::bf16:
      static_cast<uint16_t *>(dst)[i] = float_to_bfloat16(static_cast<float>(value));
      break;
    default:
      CLEAVE_CHECK(false, "integer dtypes return above");
    }
  }
}

} // namespace cleave::rt
