//===- LayoutTest.cpp - transpose, broadcast, slice, concat, iota ---------===//

#include "KernelTestUtils.h"

#include "cleave/rt/kernels.h"

#include <cstring>

using namespace cleave::rt;
using namespace cleave::rt::test;

namespace {

/// Elements of `bytes` bytes, each filled with distinct random bytes, so
/// that a copy of the wrong element (or of half an element) shows.
std::vector<uint8_t> random_bytes(int64_t elements, int64_t bytes) {
  std::vector<uint8_t> data(elements * bytes);
  for (uint8_t &b : data)
    b = static_cast<uint8_t>(random_int(0, 255));
  return data;
}

std::vector<int64_t> random_shape(int64_t rank, int64_t max_size) {
  std::vector<int64_t> shape(rank);
  for (int64_t &size : shape)
    size = random_int(1, max_size);
  return shape;
}

int64_t dot(const std::vector<int64_t> &index, const std::vector<int64_t> &strides) {
  int64_t offset = 0;
  for (size_t d = 0; d < index.size(); ++d)
    offset += index[d] * strides[d];
  return offset;
}

/// The expected output of a data-movement kernel, built element by element:
/// output index `out` (of `output_shape`) holds input element `source(out)`.
template <typename Source>
std::vector<uint8_t>
gather_elements(const std::vector<uint8_t> &input, const std::vector<int64_t> &input_shape,
                const std::vector<int64_t> &output_shape, int64_t bytes, Source source) {
  const std::vector<int64_t> input_strides = strides_of(input_shape);
  std::vector<uint8_t> expected(product(output_shape) * bytes);
  for (int64_t i = 0; i < product(output_shape); ++i) {
    const int64_t from = dot(source(unravel(i, output_shape)), input_strides);
    std::memcpy(expected.data() + i * bytes, input.data() + from * bytes, bytes);
  }
  return expected;
}

/// A strided window into a tensor of `shape`: random starts and strides,
/// and a random extent that stays inside.
struct SliceWindow {
  std::vector<int64_t> starts, strides, shape;
};

SliceWindow random_window(const std::vector<int64_t> &shape) {
  const int64_t rank = static_cast<int64_t>(shape.size());
  SliceWindow window{std::vector<int64_t>(rank), std::vector<int64_t>(rank),
                     std::vector<int64_t>(rank)};
  for (int64_t d = 0; d < rank; ++d) {
    window.starts[d] = random_int(0, shape[d] - 1);
    window.strides[d] = random_int(1, 3);
    window.shape[d] = random_int(1, (shape[d] - 1 - window.starts[d]) / window.strides[d] + 1);
  }
  return window;
}

const int64_t kElementBytes[] = {1, 2, 4, 8, 6};

} // namespace

TEST_CASE("transpose: random permutations of ranks 1-5", "[layout]") {
  seed(51);
  for (int trial = 0; trial < 40; ++trial) {
    const int64_t rank = random_int(1, 5);
    const int64_t bytes = kElementBytes[trial % 5];
    const std::vector<int64_t> shape = random_shape(rank, 5);
    std::vector<int64_t> permutation(rank);
    std::iota(permutation.begin(), permutation.end(), 0);
    std::shuffle(permutation.begin(), permutation.end(), rng());
    INFO("trial " << trial << " rank " << rank << " bytes " << bytes);

    const std::vector<uint8_t> input = random_bytes(product(shape), bytes);
    std::vector<int64_t> output_shape(rank);
    for (int64_t d = 0; d < rank; ++d)
      output_shape[d] = shape[permutation[d]];
    const std::vector<uint8_t> expected =
        gather_elements(input, shape, output_shape, bytes, [&](const std::vector<int64_t> &out) {
          std::vector<int64_t> in(rank);
          for (int64_t d = 0; d < rank; ++d)
            in[permutation[d]] = out[d];
          return in;
        });
    std::vector<uint8_t> output(input.size());
    cpu::transpose(input.data(), output.data(), rank, shape.data(), permutation.data(), bytes);
    REQUIRE(output == expected);
  }
}

TEST_CASE("transpose: a large attention-head transpose runs in parallel", "[layout]") {
  seed(52);
  const std::vector<int64_t> shape = {4, 64, 8, 32}, permutation = {0, 2, 1, 3};
  const std::vector<float> input = random_floats(product(shape));
  std::vector<float> expected(input.size()), output(input.size());
  for (int64_t b = 0; b < 4; ++b)
    for (int64_t t = 0; t < 64; ++t)
      for (int64_t h = 0; h < 8; ++h)
        for (int64_t d = 0; d < 32; ++d)
          expected[((b * 8 + h) * 64 + t) * 32 + d] = input[((b * 64 + t) * 8 + h) * 32 + d];
  cpu::transpose(input.data(), output.data(), 4, shape.data(), permutation.data(), sizeof(float));
  REQUIRE(output == expected);
}

TEST_CASE("broadcast: size-1 and missing leading dimensions repeat", "[layout]") {
  seed(53);
  for (int trial = 0; trial < 40; ++trial) {
    const int64_t output_rank = random_int(1, 5);
    const int64_t input_rank = random_int(0, output_rank);
    const int64_t bytes = kElementBytes[trial % 5];
    const std::vector<int64_t> output_shape = random_shape(output_rank, 4);
    std::vector<int64_t> input_shape(output_shape.end() - input_rank, output_shape.end());
    for (int64_t &size : input_shape)
      if (random_int(0, 1))
        size = 1;
    INFO("trial " << trial);
    const std::vector<uint8_t> input = random_bytes(product(input_shape), bytes);
    const std::vector<uint8_t> expected = gather_elements(
        input, input_shape, output_shape, bytes, [&](const std::vector<int64_t> &out) {
          std::vector<int64_t> in(out.end() - input_rank, out.end());
          for (int64_t d = 0; d < input_rank; ++d)
            if (input_shape[d] == 1)
              in[d] = 0;
          return in;
        });
    std::vector<uint8_t> output(expected.size());
    cpu::broadcast(input.data(), output.data(), input_rank, input_shape.data(), output_rank,
                   output_shape.data(), bytes);
    REQUIRE(output == expected);
  }
}

TEST_CASE("slice: random starts and strides", "[layout]") {
  seed(54);
  for (int trial = 0; trial < 40; ++trial) {
    const int64_t rank = random_int(1, 4);
    const int64_t bytes = kElementBytes[trial % 5];
    const std::vector<int64_t> shape = random_shape(rank, 7);
    const SliceWindow window = random_window(shape);
    INFO("trial " << trial);
    const std::vector<uint8_t> input = random_bytes(product(shape), bytes);
    const std::vector<uint8_t> expected =
        gather_elements(input, shape, window.shape, bytes, [&](std::vector<int64_t> in) {
          for (int64_t d = 0; d < rank; ++d)
            in[d] = window.starts[d] + in[d] * window.strides[d];
          return in;
        });
    std::vector<uint8_t> output(expected.size());
    cpu::slice(input.data(), output.data(), rank, shape.data(), window.starts.data(),
               window.strides.data(), window.shape.data(), bytes);
    REQUIRE(output == expected);
  }
}

TEST_CASE("slice_scatter: the adjoint of slice, zero elsewhere", "[layout][grad]") {
  seed(55);
  // slice is linear: its gradient G satisfies <slice(x), u> = <x, G(u)>.
  for (int trial = 0; trial < 20; ++trial) {
    const int64_t rank = random_int(1, 4);
    const std::vector<int64_t> shape = random_shape(rank, 6);
    const SliceWindow slice = random_window(shape);
    INFO("trial " << trial);
    const std::vector<float> x = random_floats(product(shape));
    const std::vector<float> u = random_floats(product(slice.shape));
    std::vector<float> sliced(u.size()), scattered(x.size(), NAN);
    cpu::slice(x.data(), sliced.data(), rank, shape.data(), slice.starts.data(),
               slice.strides.data(), slice.shape.data(), sizeof(float));
    cpu::slice_scatter(u.data(), scattered.data(), rank, slice.shape.data(), slice.starts.data(),
                       slice.strides.data(), shape.data(), sizeof(float));
    REQUIRE(weighted_sum(sliced, u) == Approx(weighted_sum(x, scattered)).epsilon(1e-6));
    // Exactly the window's elements are non-zero: slicing the scatter gives u back ...
    std::vector<float> round_trip(u.size());
    cpu::slice(scattered.data(), round_trip.data(), rank, shape.data(), slice.starts.data(),
               slice.strides.data(), slice.shape.data(), sizeof(float));
    REQUIRE(round_trip == u);
    // ... and the rest holds zeros (u has no zeros, so count them).
    const auto nonzero =
        std::count_if(scattered.begin(), scattered.end(), [](float v) { return v != 0.0f; });
    REQUIRE(nonzero == static_cast<int64_t>(u.size()));
  }
}

TEST_CASE("concat: inputs of different sizes along the middle axis", "[layout]") {
  seed(56);
  const int64_t outer = 3, inner = 5;
  const std::vector<int64_t> axis_sizes = {2, 0, 4, 1};
  std::vector<std::vector<float>> inputs;
  std::vector<const void *> pointers;
  for (int64_t size : axis_sizes) {
    inputs.push_back(random_floats(outer * size * inner));
    pointers.push_back(inputs.back().data());
  }
  const int64_t total_axis = 7;
  std::vector<float> expected;
  for (int64_t o = 0; o < outer; ++o)
    for (size_t t = 0; t < inputs.size(); ++t)
      expected.insert(expected.end(), inputs[t].begin() + o * axis_sizes[t] * inner,
                      inputs[t].begin() + (o + 1) * axis_sizes[t] * inner);
  std::vector<float> output(outer * total_axis * inner);
  cpu::concat(pointers.data(), axis_sizes.data(), static_cast<int64_t>(pointers.size()),
              output.data(), outer, inner, sizeof(float));
  REQUIRE(output == expected);
}

TEST_CASE("iota: int64 and float sequences", "[layout]") {
  std::vector<int64_t> ints(5);
  cpu::iota(3, -2, 5, ints.data());
  REQUIRE(ints == std::vector<int64_t>{3, 1, -1, -3, -5});
  std::vector<float> floats(4);
  cpu::iota(0, 3, 4, floats.data());
  REQUIRE(floats == std::vector<float>{0, 3, 6, 9});
}
