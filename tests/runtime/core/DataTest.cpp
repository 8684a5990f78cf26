//===- DataTest.cpp - binding .npy files to inputs, batching, shuffling ----===//
#include "TestUtil.h"

#include "cleave/rt/data.h"
#include "cleave/rt/npy.h"
#include "cleave/rt/rng.h"

#include <catch2/catch.hpp>

#include <set>

using namespace cleave::rt;
using Catch::Matchers::Contains;
using test::TempDir;

namespace {

// A model with inputs x float32[2, 3] and labels int64[2], batch 2.
const int64_t kXShape[] = {2, 3};
const int64_t kLabelShape[] = {2};
const TensorSpec kInputs[] = {
    {"x", DType::f32, 2, kXShape},
    {"labels", DType::i64, 1, kLabelShape},
};

ModelInfo model() {
  ModelInfo info{};
  info.model_path = "unused.onnx";
  info.inputs = kInputs;
  info.num_inputs = 2;
  info.defaults.batch_size = 2;
  info.target = "cpu";
  return info;
}

/// x row r = {r, r + 0.5, r + 0.25}; labels row r = 100 + r.
void write_rows(const TempDir &dir, int64_t rows) {
  std::vector<float> x;
  std::vector<int64_t> labels;
  for (int64_t r = 0; r < rows; ++r) {
    x.insert(x.end(), {float(r), float(r) + 0.5f, float(r) + 0.25f});
    labels.push_back(100 + r);
  }
  write_npy(dir / "x.npy", NpyType::f4, {rows, 3}, x.data());
  write_npy(dir / "labels.npy", NpyType::i8, {rows}, labels.data());
}

std::vector<DataBinding> bindings(const TempDir &dir) {
  return {{"x", dir / "x.npy"}, {"labels", dir / "labels.npy"}};
}

struct Batch {
  float x[6];
  int64_t labels[2];
  void *ptrs[2] = {x, labels};
};

/// The labels (= 100 + row) of the next `count` samples.
std::vector<int64_t> draw(BatchIterator &batches, int count) {
  std::vector<int64_t> rows;
  Batch batch;
  for (int i = 0; i < count; i += 2) {
    batches.next(batch.ptrs);
    for (int r = 0; r < 2; ++r) {
      // x and labels must come from the same row.
      REQUIRE(batch.x[r * 3] == float(batch.labels[r] - 100));
      rows.push_back(batch.labels[r] - 100);
    }
  }
  return rows;
}

} // namespace

TEST_CASE("data: --data NAME=FILE parsing", "[runtime][data]") {
  DataBinding binding = parse_data_binding("x=dir/a=b.npy");
  CHECK(binding.input == "x");
  CHECK(binding.path == "dir/a=b.npy");
  REQUIRE_THROWS_WITH(parse_data_binding("x.npy"), Contains("not NAME=FILE.npy"));
  REQUIRE_THROWS_WITH(parse_data_binding("=x.npy"), Contains("not NAME=FILE.npy"));
  REQUIRE_THROWS_WITH(parse_data_binding("x="), Contains("not NAME=FILE.npy"));
}

TEST_CASE("data: batches take rows in order and wrap around", "[runtime][data]") {
  TempDir dir;
  write_rows(dir, 5);
  BatchIterator batches(open_arrays(model(), bindings(dir)), 2, false, 0);
  CHECK(batches.source().num_samples() == 5);
  CHECK(batches.source().tokens_per_sample() == 0);
  CHECK(draw(batches, 12) == std::vector<int64_t>{0, 1, 2, 3, 4, 0, 1, 2, 3, 4, 0, 1});
  CHECK(batches.position() == 12);
  CHECK_THAT(batches.source().describe(), Contains("x=") && Contains("(5 rows)"));
}

TEST_CASE("data: --shuffle permutes every epoch, identically for every input", "[runtime][data]") {
  TempDir dir;
  write_rows(dir, 6);
  BatchIterator first(open_arrays(model(), bindings(dir)), 2, true, 7);
  std::vector<int64_t> rows = draw(first, 18); // three epochs, checks x/labels pairing
  for (int epoch = 0; epoch < 3; ++epoch) {
    std::vector<int64_t> these(rows.begin() + epoch * 6, rows.begin() + epoch * 6 + 6);
    CHECK(these == epoch_permutation(6, 7, epoch));
  }
  CHECK(std::vector<int64_t>(rows.begin(), rows.begin() + 6) !=
        std::vector<int64_t>(rows.begin() + 6, rows.begin() + 12));

  BatchIterator again(open_arrays(model(), bindings(dir)), 2, true, 7);
  CHECK(draw(again, 18) == rows);
  BatchIterator other_seed(open_arrays(model(), bindings(dir)), 2, true, 8);
  CHECK(draw(other_seed, 18) != rows);
}

TEST_CASE("data: seeking to a position continues the same stream", "[runtime][data]") {
  TempDir dir;
  write_rows(dir, 7); // batches straddle epoch boundaries
  BatchIterator whole(open_arrays(model(), bindings(dir)), 2, true, 3);
  std::vector<int64_t> expected = draw(whole, 30);
  BatchIterator resumed(open_arrays(model(), bindings(dir)), 2, true, 3);
  resumed.seek(12);
  CHECK(draw(resumed, 18) == std::vector<int64_t>(expected.begin() + 12, expected.end()));
}

TEST_CASE("data: arrays convert into the input's dtype where unambiguous", "[runtime][data]") {
  TempDir dir;
  double x[6] = {0.1, 1, 2, 3, 4, 5.5};
  int32_t labels[2] = {7, -1};
  write_npy(dir / "x.npy", NpyType::f8, {2, 3}, x);
  write_npy(dir / "labels.npy", NpyType::i4, {2}, labels);
  BatchIterator batches(open_arrays(model(), bindings(dir)), 2, false, 0);
  Batch batch;
  batches.next(batch.ptrs);
  CHECK(batch.x[0] == 0.1f);
  CHECK(batch.x[5] == 5.5f);
  CHECK(batch.labels[0] == 7);
  CHECK(batch.labels[1] == -1);

  uint8_t flags[2] = {1, 0};
  write_npy(dir / "labels.npy", NpyType::b1, {2}, flags);
  BatchIterator from_bool(open_arrays(model(), bindings(dir)), 2, false, 0);
  from_bool.next(batch.ptrs);
  CHECK(batch.labels[0] == 1);
  CHECK(batch.labels[1] == 0);
}

TEST_CASE("data: binding errors name the input and the file", "[runtime][data]") {
  TempDir dir;
  write_rows(dir, 4);
  ModelInfo info = model();

  REQUIRE_THROWS_WITH(open_arrays(info, {{"x", dir / "x.npy"}}),
                      Contains("input 'labels' (int64[2]) has no data") &&
                          Contains("--data labels=FILE.npy"));
  REQUIRE_THROWS_WITH(open_arrays(info, {{"x", dir / "x.npy"}, {"label", dir / "labels.npy"}}),
                      Contains("no input named 'label'") &&
                          Contains("inputs are x float32[2, 3], labels int64[2]"));
  REQUIRE_THROWS_WITH(open_arrays(info, {{"x", dir / "x.npy"}, {"x", dir / "x.npy"}}),
                      Contains("input 'x' is bound twice"));
  REQUIRE_THROWS_WITH(open_arrays(info, {{"x", dir / "nope.npy"}, {"labels", dir / "labels.npy"}}),
                      Contains("cannot open") && Contains("nope.npy"));

  std::vector<float> wide(4 * 5, 0.0f);
  write_npy(dir / "wide.npy", NpyType::f4, {4, 5}, wide.data());
  REQUIRE_THROWS_WITH(open_arrays(info, {{"x", dir / "wide.npy"}, {"labels", dir / "labels.npy"}}),
                      Contains("wide.npy' has shape [4, 5]") && Contains("needs shape [N, 3]"));

  std::vector<uint8_t> pixels(4 * 3, 0);
  write_npy(dir / "pixels.npy", NpyType::u1, {4, 3}, pixels.data());
  REQUIRE_THROWS_WITH(
      open_arrays(info, {{"x", dir / "pixels.npy"}, {"labels", dir / "labels.npy"}}),
      Contains("holds uint8 but input 'x' is float32[2, 3]") && Contains("astype"));

  float fractional[4] = {0.5f, 1, 2, 3};
  write_npy(dir / "fractional.npy", NpyType::f4, {4}, fractional);
  REQUIRE_THROWS_WITH(open_arrays(info, {{"x", dir / "x.npy"}, {"labels", dir / "fractional.npy"}}),
                      Contains("holds float32 but input 'labels' is int64[2]"));

  int64_t three[3] = {0, 1, 2};
  write_npy(dir / "three.npy", NpyType::i8, {3}, three);
  REQUIRE_THROWS_WITH(open_arrays(info, {{"x", dir / "x.npy"}, {"labels", dir / "three.npy"}}),
                      Contains("has 4 rows but") && Contains("three.npy' has 3"));

  write_rows(dir, 1);
  REQUIRE_THROWS_WITH(open_arrays(info, bindings(dir)),
                      Contains("1 rows, fewer than the batch size 2"));
}

TEST_CASE("data: narrowing integer conversions are range-checked", "[runtime][data]") {
  TempDir dir;
  const int64_t shape[] = {2};
  const TensorSpec inputs[] = {{"ids", DType::i32, 1, shape}};
  ModelInfo info{};
  info.inputs = inputs;
  info.num_inputs = 1;
  info.defaults.batch_size = 2;
  int64_t ids[2] = {5, int64_t{1} << 40};
  write_npy(dir / "ids.npy", NpyType::i8, {2}, ids);
  REQUIRE_THROWS_WITH(open_arrays(info, {{"ids", dir / "ids.npy"}}),
                      Contains("holds 1099511627776 at flat index 1") && Contains("int32"));
}
