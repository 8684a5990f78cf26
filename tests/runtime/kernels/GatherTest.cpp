//===- GatherTest.cpp - gather and scatter_add ----------------------------===//

#include "KernelTestUtils.h"

#include "cleave/rt/kernels.h"

#include <cstring>

using namespace cleave::rt;
using namespace cleave::rt::test;

namespace {

struct GatherShape {
  int64_t outer, axis_size, count, inner;
};

/// Gathers element_bytes-sized elements the slow way: byte by byte.
template <typename Index>
std::vector<uint8_t> reference_gather(const std::vector<uint8_t> &input,
                                      const std::vector<Index> &indices, GatherShape s,
                                      int64_t element_bytes) {
  const int64_t slice = s.inner * element_bytes;
  std::vector<uint8_t> output(s.outer * s.count * slice);
  for (int64_t o = 0; o < s.outer; ++o)
    for (int64_t j = 0; j < s.count; ++j) {
      int64_t index = indices[j];
      if (index < 0)
        index += s.axis_size;
      for (int64_t b = 0; b < slice; ++b)
        output[(o * s.count + j) * slice + b] = input[(o * s.axis_size + index) * slice + b];
    }
  return output;
}

template <typename Index> void check_gather(GatherShape s, int64_t element_bytes) {
  INFO("gather " << s.outer << "x" << s.axis_size << "x" << s.inner << " by " << s.count
                 << " indices of " << sizeof(Index) << " bytes, elements of " << element_bytes);
  std::vector<uint8_t> input(s.outer * s.axis_size * s.inner * element_bytes);
  for (uint8_t &byte : input)
    byte = static_cast<uint8_t>(random_int(0, 255));
  std::vector<Index> indices(s.count);
  for (Index &index : indices)
    index = static_cast<Index>(random_int(-s.axis_size, s.axis_size - 1)); // ONNX: negatives too
  std::vector<uint8_t> output(s.outer * s.count * s.inner * element_bytes);
  int32_t invalid = 0;
  cpu::gather(input.data(), indices.data(), output.data(), s.outer, s.axis_size, s.count, s.inner,
              element_bytes, &invalid);
  REQUIRE(invalid == 0);
  REQUIRE(output == reference_gather(input, indices, s, element_bytes));
}

} // namespace

TEST_CASE("gather: any axis, index type and element size", "[gather]") {
  seed(41);
  for (int64_t element_bytes : {1, 2, 4, 8, 12})
    for (GatherShape s : {GatherShape{1, 10, 7, 4}, {3, 5, 6, 2}, {4, 6, 3, 1}, {2, 3, 1, 0}}) {
      check_gather<int64_t>(s, element_bytes);
      check_gather<int32_t>(s, element_bytes);
    }
}

TEST_CASE("gather: out-of-range indices give zeros and set the flag", "[gather]") {
  const std::vector<float> table = {1, 2, 3, 4, 5, 6}; // [3, 2]
  const std::vector<int64_t> indices = {2, 3, -4, -1};
  std::vector<float> output(8, 9.0f);
  int32_t invalid = 0;
  cpu::gather(table.data(), indices.data(), output.data(), 1, 3, 4, 2, sizeof(float), &invalid);
  REQUIRE(invalid == 1);
  REQUIRE(output == std::vector<float>{5, 6, 0, 0, 0, 0, 5, 6});
  // A null flag is allowed: the caller does not want to know.
  cpu::gather(table.data(), indices.data(), output.data(), 1, 3, 4, 2, sizeof(float), nullptr);
}

TEST_CASE("scatter_add: the adjoint of gather, repeated indices summing", "[gather][grad]") {
  seed(42);
  // gather is linear, so its gradient G satisfies <gather(x), u> = <x, G(u)>
  // for every x and u; checked in double against the float kernels.
  for (GatherShape s :
       {GatherShape{1, 6, 20, 3}, {3, 4, 9, 5}, {2, 3, 5, 1100}, {1, 50, 64, 768}}) {
    const std::vector<float> x = random_floats(s.outer * s.axis_size * s.inner);
    const std::vector<float> u = random_floats(s.outer * s.count * s.inner);
    std::vector<int64_t> indices(s.count);
    for (int64_t &index : indices)
      index = random_int(0, s.axis_size - 1);
    std::vector<int32_t> indices32(indices.begin(), indices.end());

    std::vector<float> gathered(u.size()), scattered(x.size(), NAN), scattered32(x.size(), NAN);
    cpu::gather(x.data(), indices.data(), gathered.data(), s.outer, s.axis_size, s.count, s.inner,
                sizeof(float), nullptr);
    int32_t invalid = 0;
    cpu::scatter_add(u.data(), indices.data(), scattered.data(), s.outer, s.axis_size, s.count,
                     s.inner, &invalid);
    cpu::scatter_add(u.data(), indices32.data(), scattered32.data(), s.outer, s.axis_size, s.count,
                     s.inner, &invalid);
    REQUIRE(invalid == 0);
    REQUIRE(weighted_sum(gathered, u) == Approx(weighted_sum(x, scattered)).epsilon(1e-5));
    REQUIRE(scattered == scattered32);

    // And directly: every update lands on its row.
    std::vector<double> expected(x.size(), 0.0);
    for (int64_t o = 0; o < s.outer; ++o)
      for (int64_t j = 0; j < s.count; ++j)
        for (int64_t i = 0; i < s.inner; ++i)
          expected[(o * s.axis_size + indices[j]) * s.inner + i] +=
              u[(o * s.count + j) * s.inner + i];
    require_close(scattered, expected, 1e-6);
  }
}

TEST_CASE("scatter_add: skips out-of-range indices and sets the flag", "[gather][grad]") {
  const std::vector<float> updates = {1, 2, 3};
  const std::vector<int32_t> indices = {0, 5, -1};
  std::vector<float> output(2, NAN);
  int32_t invalid = 0;
  cpu::scatter_add(updates.data(), indices.data(), output.data(), 1, 2, 3, 1, &invalid);
  REQUIRE(invalid == 1);
  REQUIRE(output == std::vector<float>{1, 3});
}
