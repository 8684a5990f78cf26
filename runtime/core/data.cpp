//===- data.cpp - binding data files to the model's inputs, and batching ---===//
#include "cleave/rt/data.h"

#include "cleave/rt/check.h"
#include "cleave/rt/enum_table.h"
#include "cleave/rt/npy.h"
#include "cleave/rt/rng.h"
#include "cleave/rt/tensor.h"
#include "cleave/rt/token_file.h"

#include <cstring>
#include <iterator>
#include <optional>

namespace cleave::rt {

DataBinding parse_data_binding(const std::string &text) {
  size_t eq = text.find('=');
  if (eq == std::string::npos || eq == 0 || eq + 1 == text.size())
    fail("--data '", text, "' is not NAME=FILE.npy");
  return {text.substr(0, eq), text.substr(eq + 1)};
}

namespace {

std::string list_inputs(const ModelInfo &model) {
  if (model.num_inputs == 0)
    return "the model has no data inputs";
  std::string text = "the model's inputs are";
  for (int32_t i = 0; i < model.num_inputs; ++i)
    text +=
        (i ? ", " : " ") + std::string(model.inputs[i].name) + " " + type_string(model.inputs[i]);
  return text;
}

//===-- element conversion for .npy arrays --------------------------------===//

bool npy_is_float(NpyType type) {
  return type == NpyType::f2 || type == NpyType::f4 || type == NpyType::f8;
}

/// The T stored (unaligned, native byte order) at p.
template <typename T> T load(const uint8_t *p) {
  T value;
  std::memcpy(&value, p, sizeof value);
  return value;
}

/// Stores `value` as a T at p.
template <typename T> void store(T value, uint8_t *p) { std::memcpy(p, &value, sizeof value); }

double load_float(NpyType type, const uint8_t *p) {
  switch (type) {
  case NpyType::f2:
    return half_to_float(load<uint16_t>(p));
  case NpyType::f4:
    return load<float>(p);
  case NpyType::f8:
    return load<double>(p);
  default:
    CLEAVE_CHECK(false, "not a float npy type");
  }
}

int64_t load_int(NpyType type, const uint8_t *p) {
  switch (type) {
  case NpyType::i1:
    return static_cast<int8_t>(*p);
  case NpyType::u1:
    return *p;
  case NpyType::b1:
    return *p != 0;
  case NpyType::i4:
    return load<int32_t>(p);
  case NpyType::i8:
    return load<int64_t>(p);
  default:
    CLEAVE_CHECK(false, "not an integer npy type");
  }
}

void store_float(DType dtype, double value, uint8_t *p) {
  switch (dtype) {
  case DType::f32:
    return store(static_cast<float>(value), p);
  case DType::f64:
    return store(value, p);
  case DType::f16:
    return store(float_to_half(static_cast<float>(value)), p);
  case DType::bf16:
    return store(float_to_bfloat16(static_cast<float>(value)), p);
  default:
    CLEAVE_CHECK(false, "not a float dtype");
  }
}

void store_int(DType dtype, int64_t value, uint8_t *p) {
  switch (dtype) {
  case DType::i64:
    return store(value, p);
  case DType::i32:
    return store(static_cast<int32_t>(value), p);
  case DType::i8:
  case DType::i1:
    *p = static_cast<uint8_t>(static_cast<int8_t>(value));
    return;
  default:
    CLEAVE_CHECK(false, "not an integer dtype");
  }
}

/// The DType each npy type stores without conversion, if any, in NpyType's
/// order.
constexpr std::optional<DType> kExactDTypes[] = {
    DType::f16, DType::f32, DType::f64, DType::i8, DType::i32, DType::i64, std::nullopt, DType::i1,
};
static_assert(std::size(kExactDTypes) == enum_count(NpyType::b1), "one entry per NpyType");

std::optional<DType> exact_dtype(NpyType type) {
  static constexpr std::optional<DType> kNone;
  return enum_entry_or(kExactDTypes, type, kNone);
}

std::pair<int64_t, int64_t> int_range(DType dtype) {
  switch (dtype) {
  case DType::i32:
    return {INT32_MIN, INT32_MAX};
  case DType::i8:
    return {INT8_MIN, INT8_MAX};
  case DType::i1:
    return {0, 1};
  default:
    return {INT64_MIN, INT64_MAX};
  }
}

/// One bound array: the file, and how its elements become the input's.
struct BoundArray {
  const TensorSpec *spec;
  NpyArray array;
  bool exact;           // same element type: rows are copied as bytes
  int64_t row_elements; // elements per sample
};

class ArraySource final : public SampleSource {
public:
  ArraySource(std::vector<BoundArray> arrays, int64_t rows)
      : arrays_(std::move(arrays)), rows_(rows) {}

  int64_t num_samples() const override { return rows_; }
  int64_t tokens_per_sample() const override { return 0; }

  void copy_sample(int64_t sample, int64_t row, void *const *batch) const override {
    for (size_t i = 0; i < arrays_.size(); ++i) {
      const BoundArray &bound = arrays_[i];
      int64_t src_size = npy_type_bytes(bound.array.type());
      int64_t dst_size = dtype_bytes(bound.spec->dtype);
      const uint8_t *src = bound.array.data() + sample * bound.row_elements * src_size;
      uint8_t *dst = static_cast<uint8_t *>(batch[i]) + row * bound.row_elements * dst_size;
      if (bound.exact) {
        std::memcpy(dst, src, static_cast<size_t>(bound.row_elements * dst_size));
      } else if (npy_is_float(bound.array.type())) {
        for (int64_t e = 0; e < bound.row_elements; ++e)
          store_float(bound.spec->dtype, load_float(bound.array.type(), src + e * src_size),
                      dst + e * dst_size);
      } else {
        for (int64_t e = 0; e < bound.row_elements; ++e)
          store_int(bound.spec->dtype, load_int(bound.array.type(), src + e * src_size),
                    dst + e * dst_size);
      }
    }
  }

  std::string describe() const override {
    std::string text;
    for (const BoundArray &bound : arrays_)
      text += (text.empty() ? "" : ", ") + std::string(bound.spec->name) + "=" + bound.array.path();
    return text + " (" + std::to_string(rows_) + " rows)";
  }

private:
  std::vector<BoundArray> arrays_;
  int64_t rows_;
};

/// Checks that `array` can feed `spec` and returns how.
BoundArray bind_array(const TensorSpec &spec, NpyArray array) {
  const std::string &path = array.path();
  NpyType type = array.type();
  std::optional<DType> same = exact_dtype(type);
  bool exact = same && *same == spec.dtype;
  bool convertible = (is_floating(spec.dtype) && npy_is_float(type)) ||
                     (is_integer(spec.dtype) && spec.dtype != DType::i1 && !npy_is_float(type)) ||
                     (spec.dtype == DType::i1 && type == NpyType::b1);
  if (!exact && !convertible) {
    std::string hint = is_floating(spec.dtype)
                           ? "convert it in NumPy first, e.g. a.astype(np.float32)"
                           : std::string("convert it in NumPy first, e.g. a.astype(np.") +
                                 dtype_name(spec.dtype) + ")";
    fail("'", path, "' holds ", npy_type_name(type), " but input '", spec.name, "' is ",
         type_string(spec), "; ", hint);
  }

  const std::vector<int64_t> &shape = array.shape();
  std::vector<int64_t> expected = shape_of(spec);
  bool shape_ok = static_cast<int32_t>(shape.size()) == spec.rank && spec.rank >= 1 &&
                  std::equal(shape.begin() + 1, shape.end(), expected.begin() + 1);
  if (!shape_ok) {
    std::vector<int64_t> row(expected.begin() + (spec.rank ? 1 : 0), expected.end());
    fail("'", path, "' has shape ", shape_string(shape), " but input '", spec.name, "' is ",
         type_string(spec), ": the file needs shape [N", row.empty() ? "" : ", ",
         shape_string(row).substr(1), " (N samples of ", shape_string(row), ")");
  }

  int64_t row_elements = spec.rank ? num_elements(spec) / spec.shape[0] : 1;
  if (!exact && !npy_is_float(type)) {
    auto [low, high] = int_range(spec.dtype);
    int64_t size = npy_type_bytes(type);
    for (int64_t e = 0; e < array.num_elements(); ++e) {
      int64_t value = load_int(type, array.data() + e * size);
      if (value < low || value > high)
        fail("'", path, "' holds ", value, " at flat index ", e, ", which does not fit input '",
             spec.name, "' of type ", dtype_name(spec.dtype));
    }
  }
  return BoundArray{&spec, std::move(array), exact, row_elements};
}

const TensorSpec *find_input(const ModelInfo &model, const std::string &name) {
  for (int32_t i = 0; i < model.num_inputs; ++i)
    if (name == model.inputs[i].name)
      return &model.inputs[i];
  return nullptr;
}

//===-- token streams ------------------------------------------------------===//

class TokenSource final : public SampleSource {
public:
  TokenSource(TokenFile file, const TensorSpec &context, const TensorSpec &labels)
      : file_(std::move(file)), context_(context), labels_(labels), length_(context.shape[1]) {}

  int64_t num_samples() const override { return (file_.size() - 1) / length_; }
  int64_t tokens_per_sample() const override { return length_; }

  void copy_sample(int64_t sample, int64_t row, void *const *batch) const override {
    int64_t start = sample * length_;
    write_ids(context_, batch[0], row, start);
    write_ids(labels_, batch[1], row, start + 1);
  }

  std::string describe() const override {
    return "tokens=" + file_.path() + " (" + std::to_string(file_.size()) + " tokens, " +
           std::to_string(num_samples()) + " windows of " + std::to_string(length_) + ")";
  }

private:
  void write_ids(const TensorSpec &spec, void *buffer, int64_t row, int64_t first) const {
    for (int64_t t = 0; t < length_; ++t) {
      uint32_t id = file_[first + t];
      int64_t index = row * length_ + t;
      if (spec.dtype == DType::i64) {
        static_cast<int64_t *>(buffer)[index] = id;
      } else {
        if (id > static_cast<uint32_t>(INT32_MAX))
          fail("token ", id, " at position ", first + t, " of '", file_.path(),
               "' does not fit input '", spec.name, "' (int32)");
        static_cast<int32_t *>(buffer)[index] = static_cast<int32_t>(id);
      }
    }
  }

  TokenFile file_;
  const TensorSpec &context_;
  const TensorSpec &labels_;
  int64_t length_;
};

} // namespace

std::unique_ptr<SampleSource>
open_arrays(const ModelInfo &model, const std::vector<DataBinding> &bindings, const char *flag) {
  // Names first, so a typo is reported before any file is opened.
  std::vector<const DataBinding *> by_input(static_cast<size_t>(model.num_inputs), nullptr);
  for (const DataBinding &binding : bindings) {
    const TensorSpec *spec = find_input(model, binding.input);
    if (!spec)
      fail(flag, " ", binding.input, "=", binding.path, ": the model has no input named '",
           binding.input, "'; ", list_inputs(model));
    const DataBinding *&slot = by_input[static_cast<size_t>(spec - model.inputs)];
    if (slot)
      fail("input '", binding.input, "' is bound twice: ", flag, " ", binding.input, "=",
           slot->path, " and ", flag, " ", binding.input, "=", binding.path);
    slot = &binding;
  }
  for (int32_t i = 0; i < model.num_inputs; ++i)
    if (!by_input[static_cast<size_t>(i)])
      fail("input '", model.inputs[i].name, "' (", type_string(model.inputs[i]),
           ") has no data: pass ", flag, " ", model.inputs[i].name, "=FILE.npy");

  std::vector<BoundArray> arrays;
  for (int32_t i = 0; i < model.num_inputs; ++i)
    arrays.push_back(bind_array(model.inputs[i], NpyArray(by_input[static_cast<size_t>(i)]->path)));

  int64_t rows = arrays.empty() ? model.defaults.batch_size : arrays[0].array.shape()[0];
  for (const BoundArray &bound : arrays) {
    int64_t these = bound.array.shape()[0];
    if (these != rows)
      fail("'", arrays[0].array.path(), "' has ", rows, " rows but '", bound.array.path(), "' has ",
           these, ": every input needs one row per sample");
  }
  if (rows < model.defaults.batch_size)
    fail("the data has ", rows, " rows, fewer than the batch size ", model.defaults.batch_size,
         arrays.empty() ? std::string() : " ('" + arrays[0].array.path() + "')");
  return std::make_unique<ArraySource>(std::move(arrays), rows);
}

std::unique_ptr<SampleSource> open_token_stream(const ModelInfo &model, const std::string &path) {
  auto fits = [](const TensorSpec &spec) {
    return (spec.dtype == DType::i64 || spec.dtype == DType::i32) && spec.rank == 2;
  };
  if (model.num_inputs != 2 || !fits(model.inputs[0]) || !fits(model.inputs[1]) ||
      shape_of(model.inputs[0]) != shape_of(model.inputs[1]))
    fail("--tokens needs a model with exactly two data inputs, token ids and next-token labels, "
         "both int64 or int32 of the same shape [B, T]; ",
         list_inputs(model));
  const TensorSpec &context = model.inputs[0];
  TokenFile file(path);
  int64_t length = context.shape[1];
  int64_t windows = file.size() > 0 ? (file.size() - 1) / length : 0;
  if (windows < model.defaults.batch_size)
    fail("token file '", path, "' has ", file.size(), " tokens: ", windows, " windows of ", length,
         " + 1 tokens, fewer than the batch size ", model.defaults.batch_size);
  return std::make_unique<TokenSource>(std::move(file), context, model.inputs[1]);
}

BatchIterator::BatchIterator(std::unique_ptr<SampleSource> source, int64_t batch_size, bool shuffle,
                             uint64_t seed)
    : source_(std::move(source)), batch_size_(batch_size), shuffle_(shuffle), seed_(seed) {
  CLEAVE_CHECK(source_->num_samples() >= batch_size_, "fewer samples than the batch size");
}

int64_t BatchIterator::sample_at(int64_t position) {
  int64_t samples = source_->num_samples();
  int64_t epoch = position / samples;
  int64_t index = position % samples;
  if (!shuffle_)
    return index;
  if (epoch != order_epoch_) {
    order_ = epoch_permutation(samples, seed_, epoch);
    order_epoch_ = epoch;
  }
  return order_[static_cast<size_t>(index)];
}

void BatchIterator::next(void *const *batch) {
  for (int64_t row = 0; row < batch_size_; ++row)
    source_->copy_sample(sample_at(position_ + row), row, batch);
  position_ += batch_size_;
}

} // namespace cleave::rt
