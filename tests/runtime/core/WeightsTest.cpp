//===- WeightsTest.cpp - initial weights from ONNX files and --init random -===//
#include "TestUtil.h"

#include "cleave/rt/tensor.h"
#include "cleave/rt/weights.h"

#include "onnx/onnx_pb.h"

#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <fstream>

using namespace cleave::rt;
using Catch::Matchers::Contains;
using test::TempDir;

namespace {

onnx::TensorProto &add_tensor(onnx::ModelProto &model, const std::string &name, int32_t type,
                              const std::vector<int64_t> &dims) {
  onnx::TensorProto &tensor = *model.mutable_graph()->add_initializer();
  tensor.set_name(name);
  tensor.set_data_type(type);
  for (int64_t dim : dims)
    tensor.add_dims(dim);
  return tensor;
}

void set_external(onnx::TensorProto &tensor, const std::string &location, int64_t offset,
                  int64_t length) {
  tensor.set_data_location(onnx::TensorProto::EXTERNAL);
  auto add = [&](const std::string &key, const std::string &value) {
    auto *entry = tensor.add_external_data();
    entry->set_key(key);
    entry->set_value(value);
  };
  add("location", location);
  add("offset", std::to_string(offset));
  if (length >= 0)
    add("length", std::to_string(length));
}

void save(const onnx::ModelProto &model, const std::string &path) {
  std::ofstream out(path, std::ios::binary);
  REQUIRE(model.SerializeToOstream(&out));
}

template <typename T> std::string raw(const std::vector<T> &values) {
  return std::string(reinterpret_cast<const char *>(values.data()), values.size() * sizeof(T));
}

template <typename T> std::vector<T> read_param(WeightReader &reader, const TensorSpec &spec) {
  std::vector<T> values(static_cast<size_t>(num_elements(spec)));
  reader.read(spec, values.data());
  return values;
}

const int64_t k2x3[] = {2, 3};
const int64_t k3[] = {3};
const int64_t k2[] = {2};

} // namespace

TEST_CASE("weights: inline raw_data and typed fields", "[runtime][weights]") {
  TempDir dir;
  onnx::ModelProto model;
  add_tensor(model, "raw", onnx::TensorProto::FLOAT, {2, 3})
      .set_raw_data(raw<float>({1, 2, 3, 4, 5, 6}));
  auto &floats = add_tensor(model, "floats", onnx::TensorProto::FLOAT, {3});
  for (float v : {0.5f, -1.0f, 2.0f})
    floats.add_float_data(v);
  auto &doubles = add_tensor(model, "doubles", onnx::TensorProto::DOUBLE, {2});
  doubles.add_double_data(0.1);
  doubles.add_double_data(-0.2);
  auto &longs = add_tensor(model, "longs", onnx::TensorProto::INT64, {2});
  longs.add_int64_data(int64_t{1} << 40);
  longs.add_int64_data(-3);
  auto &halves = add_tensor(model, "halves", onnx::TensorProto::FLOAT16, {2});
  halves.add_int32_data(0x3C00);
  halves.add_int32_data(0xC000);
  auto &flags = add_tensor(model, "flags", onnx::TensorProto::BOOL, {3});
  for (int v : {1, 0, 1})
    flags.add_int32_data(v);
  save(model, dir / "m.onnx");

  WeightReader reader(dir / "m.onnx");
  CHECK(read_param<float>(reader, {"raw", DType::f32, 2, k2x3}) ==
        std::vector<float>{1, 2, 3, 4, 5, 6});
  CHECK(read_param<float>(reader, {"floats", DType::f32, 1, k3}) ==
        std::vector<float>{0.5f, -1.0f, 2.0f});
  CHECK(read_param<double>(reader, {"doubles", DType::f64, 1, k2}) ==
        std::vector<double>{0.1, -0.2});
  CHECK(read_param<int64_t>(reader, {"longs", DType::i64, 1, k2}) ==
        std::vector<int64_t>{int64_t{1} << 40, -3});
  CHECK(read_param<uint16_t>(reader, {"halves", DType::f16, 1, k2}) ==
        std::vector<uint16_t>{0x3C00, 0xC000});
  CHECK(read_param<uint8_t>(reader, {"flags", DType::i1, 1, k3}) == std::vector<uint8_t>{1, 0, 1});
}

TEST_CASE("weights: external data at offsets in a file beside the model", "[runtime][weights]") {
  TempDir dir;
  std::vector<float> blob = {9, 9, 1, 2, 3, 4, 5, 6, 7, 8, 9};
  test::write_bytes(dir / "m.weights", raw(blob));
  onnx::ModelProto model;
  set_external(add_tensor(model, "w", onnx::TensorProto::FLOAT, {2, 3}), "m.weights", 8, 24);
  set_external(add_tensor(model, "b", onnx::TensorProto::FLOAT, {3}), "m.weights", 32, -1);
  save(model, dir / "m.onnx");

  // Opened from another working directory: locations resolve against the
  // model's directory.
  WeightReader reader(dir / "m.onnx");
  CHECK(read_param<float>(reader, {"w", DType::f32, 2, k2x3}) ==
        std::vector<float>{1, 2, 3, 4, 5, 6});
  CHECK(read_param<float>(reader, {"b", DType::f32, 1, k3}) == std::vector<float>{7, 8, 9});
}

TEST_CASE("weights: the committed GPT reads the same inline and external", "[runtime][weights]") {
  const int64_t shape[] = {64, 32};
  TensorSpec wte{"transformer.wte.weight", DType::f32, 2, shape};
  WeightReader inline_reader(CLEAVE_MODELS_DIR "/gpt_toy.onnx");
  WeightReader external_reader(CLEAVE_MODELS_DIR "/gpt_toy_external.onnx");
  std::vector<float> inline_values = read_param<float>(inline_reader, wte);
  CHECK(inline_values == read_param<float>(external_reader, wte));
  CHECK(std::any_of(inline_values.begin(), inline_values.end(), [](float v) { return v != 0; }));
}

TEST_CASE("weights: errors name the initializer and the file", "[runtime][weights]") {
  TempDir dir;
  onnx::ModelProto model;
  add_tensor(model, "w", onnx::TensorProto::FLOAT, {2, 3})
      .set_raw_data(raw<float>({1, 2, 3, 4, 5, 6}));
  add_tensor(model, "short", onnx::TensorProto::FLOAT, {3}).set_raw_data(raw<float>({1, 2}));
  add_tensor(model, "empty", onnx::TensorProto::FLOAT, {3});
  set_external(add_tensor(model, "gone", onnx::TensorProto::FLOAT, {3}), "gone.weights", 0, 12);
  set_external(add_tensor(model, "cut", onnx::TensorProto::FLOAT, {3}), "cut.weights", 4, 12);
  set_external(add_tensor(model, "long", onnx::TensorProto::FLOAT, {3}), "cut.weights", 0, 16);
  add_tensor(model, "u8", onnx::TensorProto::UINT8, {3}).set_raw_data("abc");
  test::write_bytes(dir / "cut.weights", std::string(10, '\0'));
  save(model, dir / "m.onnx");
  WeightReader reader(dir / "m.onnx");
  std::vector<uint8_t> sink(64);

  REQUIRE_THROWS_WITH(reader.read({"missing", DType::f32, 1, k3}, sink.data()),
                      Contains("m.onnx' has no initializer named 'missing' (float32[3])") &&
                          Contains("--init random"));
  REQUIRE_THROWS_WITH(reader.read({"w", DType::f64, 2, k2x3}, sink.data()),
                      Contains("initializer 'w'") &&
                          Contains("is float32 but the compiled model expects float64[2, 3]"));
  const int64_t k3x2[] = {3, 2};
  REQUIRE_THROWS_WITH(reader.read({"w", DType::f32, 2, k3x2}, sink.data()),
                      Contains("has shape [2, 3] but the compiled model expects float32[3, 2]"));
  REQUIRE_THROWS_WITH(reader.read({"short", DType::f32, 1, k3}, sink.data()),
                      Contains("8 bytes of raw_data but float32[3] needs 12"));
  REQUIRE_THROWS_WITH(reader.read({"empty", DType::f32, 1, k3}, sink.data()),
                      Contains("initializer 'empty'") && Contains("wrong number of values"));
  REQUIRE_THROWS_WITH(reader.read({"gone", DType::f32, 1, k3}, sink.data()),
                      Contains("keeps its data in '" + dir.path() + "/gone.weights'") &&
                          Contains("No such file"));
  REQUIRE_THROWS_WITH(reader.read({"cut", DType::f32, 1, k3}, sink.data()),
                      Contains("cut.weights' is truncated: the data is at bytes [4, 16) but the "
                               "file has 10 bytes"));
  REQUIRE_THROWS_WITH(reader.read({"long", DType::f32, 1, k3}, sink.data()),
                      Contains("external data of 16 bytes but float32[3] needs 12"));
  REQUIRE_THROWS_WITH(reader.read({"u8", DType::i8, 1, k3}, sink.data()),
                      Contains("is uint8 but the compiled model expects int8[3]"));

  REQUIRE_THROWS_WITH(WeightReader(dir / "nothing.onnx"), Contains("cannot open"));
  test::write_bytes(dir / "junk.onnx", std::string("\xff\xff\xff\xff junk", 9));
  REQUIRE_THROWS_WITH(WeightReader(dir / "junk.onnx"), Contains("not a valid ONNX model"));
}

TEST_CASE("weights: --init random follows the documented rule", "[runtime][weights]") {
  const int64_t matrix[] = {64, 64};
  const int64_t vector[] = {64};
  std::vector<float> w(64 * 64), again(64 * 64), other(64 * 64);
  init_random({"h.0.mlp.c_fc.weight", DType::f32, 2, matrix}, 5, 3, w.data());
  init_random({"h.0.mlp.c_fc.weight", DType::f32, 2, matrix}, 5, 3, again.data());
  init_random({"h.0.mlp.c_fc.weight", DType::f32, 2, matrix}, 5, 4, other.data());
  CHECK(w == again);
  CHECK(w != other);
  double sum = 0, squares = 0;
  for (float v : w) {
    sum += v;
    squares += double(v) * v;
  }
  double mean = sum / w.size();
  CHECK(std::abs(mean) < 0.002);
  CHECK(std::abs(std::sqrt(squares / w.size() - mean * mean) - 0.02) < 0.001);

  std::vector<float> v(64, -1.0f);
  init_random({"ln_1.weight", DType::f32, 1, vector}, 5, 0, v.data());
  CHECK(std::all_of(v.begin(), v.end(), [](float x) { return x == 1.0f; }));
  init_random({"bn.running_var", DType::f32, 1, vector}, 5, 0, v.data());
  CHECK(std::all_of(v.begin(), v.end(), [](float x) { return x == 1.0f; }));
  init_random({"ln_1.bias", DType::f32, 1, vector}, 5, 0, v.data());
  CHECK(std::all_of(v.begin(), v.end(), [](float x) { return x == 0.0f; }));
  std::vector<int64_t> counts(64, 7);
  init_random({"steps", DType::i64, 1, vector}, 5, 0, counts.data());
  CHECK(std::all_of(counts.begin(), counts.end(), [](int64_t x) { return x == 0; }));

  std::vector<uint16_t> halves(64 * 64);
  init_random({"h.0.mlp.c_fc.weight", DType::f16, 2, matrix}, 5, 3, halves.data());
  for (size_t i = 0; i < 16; ++i)
    CHECK(halves[i] == float_to_half(w[i]));
}
