//===- ReduceTest.cpp - reductions over every axis subset -----------------===//

#include "KernelTestUtils.h"

#include "cleave/rt/kernels.h"

#include <limits>

using namespace cleave::rt;
using namespace cleave::rt::test;
using cpu::ReduceKind;

namespace {

/// Folds every input element into its output (the kept dimensions) in double.
template <typename T>
std::vector<double> reference_reduce(const std::vector<T> &input, const std::vector<int64_t> &shape,
                                     const std::vector<int64_t> &axes, ReduceKind kind) {
  std::vector<bool> reduced(shape.size(), false);
  for (int64_t a : axes)
    reduced[a] = true;
  std::vector<int64_t> kept_shape;
  int64_t reduced_count = 1;
  for (size_t d = 0; d < shape.size(); ++d) {
    if (reduced[d])
      reduced_count *= shape[d];
    else
      kept_shape.push_back(shape[d]);
  }
  const std::vector<int64_t> kept_strides = strides_of(kept_shape);
  double identity = 0.0;
  if (kind == ReduceKind::prod)
    identity = 1.0;
  if (kind == ReduceKind::max)
    identity = -INFINITY;
  if (kind == ReduceKind::min)
    identity = INFINITY;
  std::vector<double> result(product(kept_shape), identity);
  for (int64_t i = 0; i < static_cast<int64_t>(input.size()); ++i) {
    const std::vector<int64_t> index = unravel(i, shape);
    int64_t out = 0;
    for (size_t d = 0, k = 0; d < shape.size(); ++d)
      if (!reduced[d])
        out += index[d] * kept_strides[k++];
    const double v = static_cast<double>(input[i]);
    double &acc = result[out];
    switch (kind) {
    case ReduceKind::sum:
    case ReduceKind::mean:
      acc += v;
      break;
    case ReduceKind::prod:
      acc *= v;
      break;
    case ReduceKind::max:
      acc = std::max(acc, v);
      break;
    case ReduceKind::min:
      acc = std::min(acc, v);
      break;
    }
  }
  if (kind == ReduceKind::mean)
    for (double &v : result)
      v = std::is_integral_v<T> ? std::trunc(v / reduced_count) : v / reduced_count;
  return result;
}

const ReduceKind kAllKinds[] = {ReduceKind::sum, ReduceKind::mean, ReduceKind::max, ReduceKind::min,
                                ReduceKind::prod};

/// Reduces `shape` over each of its 2^rank axis subsets with every kind.
void check_all_axis_subsets(const std::vector<int64_t> &shape) {
  const int64_t rank = static_cast<int64_t>(shape.size());
  // Around 1 so that products neither vanish nor overflow.
  const std::vector<float> input = random_floats(product(shape), 0.8f, 1.2f);
  std::vector<int64_t> int_input(input.size());
  for (size_t i = 0; i < input.size(); ++i)
    int_input[i] = random_int(-50, 50);
  for (int64_t mask = 0; mask < (int64_t{1} << rank); ++mask) {
    std::vector<int64_t> axes;
    for (int64_t d = 0; d < rank; ++d)
      if (mask & (int64_t{1} << d))
        axes.push_back(d);
    for (ReduceKind kind : kAllKinds) {
      INFO("axis mask " << mask << " kind " << static_cast<int>(kind));
      const std::vector<double> expected = reference_reduce(input, shape, axes, kind);
      std::vector<float> output(expected.size(), NAN);
      cpu::reduce(input.data(), output.data(), rank, shape.data(), axes.data(),
                  static_cast<int64_t>(axes.size()), kind);
      require_close(output, expected, 1e-5);
      // f64 (f64 models on the CPU) sums in double like the reference.
      const std::vector<double> wide_input(input.begin(), input.end());
      std::vector<double> wide_output(expected.size(), NAN);
      cpu::reduce(wide_input.data(), wide_output.data(), rank, shape.data(), axes.data(),
                  static_cast<int64_t>(axes.size()), kind);
      require_close(wide_output, expected, 1e-12);
      if (kind == ReduceKind::prod)
        continue; // products of 50s overflow int64
      const std::vector<double> int_expected = reference_reduce(int_input, shape, axes, kind);
      std::vector<int64_t> int_output(int_expected.size(), -1);
      cpu::reduce(int_input.data(), int_output.data(), rank, shape.data(), axes.data(),
                  static_cast<int64_t>(axes.size()), kind);
      require_close(int_output, int_expected, 0.0);
    }
  }
}

} // namespace

TEST_CASE("reduce: every axis subset of a 4-d shape", "[reduce]") {
  seed(11);
  check_all_axis_subsets({3, 4, 5, 2});
}

TEST_CASE("reduce: size-1 dimensions between reduced ones", "[reduce]") {
  seed(12);
  check_all_axis_subsets({2, 1, 3, 1, 5});
}

TEST_CASE("reduce: scalars and 1-d tensors", "[reduce]") {
  seed(13);
  check_all_axis_subsets({});
  check_all_axis_subsets({7});
  check_all_axis_subsets({1});
}

TEST_CASE("reduce: long rows and columns split over threads", "[reduce]") {
  seed(14);
  // Bias gradients reduce [rows, cols] over rows; norms over cols. 2500
  // columns make several column blocks, one kept row of them.
  for (std::vector<int64_t> shape : {std::vector<int64_t>{300, 2500}, {2500, 300}})
    for (int64_t axis : {0, 1}) {
      const std::vector<float> input = random_floats(product(shape));
      const std::vector<int64_t> axes = {axis};
      const std::vector<double> expected = reference_reduce(input, shape, axes, ReduceKind::sum);
      std::vector<float> output(expected.size());
      cpu::reduce(input.data(), output.data(), 2, shape.data(), axes.data(), 1, ReduceKind::sum);
      require_close(output, expected, 1e-4);
    }
}

TEST_CASE("reduce: max and min propagate NaN", "[reduce]") {
  const std::vector<float> input = {1.0f, NAN, 3.0f, 4.0f, 5.0f, 6.0f};
  const std::vector<int64_t> shape = {2, 3}, axes = {1};
  for (ReduceKind kind : {ReduceKind::max, ReduceKind::min}) {
    std::vector<float> output(2);
    cpu::reduce(input.data(), output.data(), 2, shape.data(), axes.data(), 1, kind);
    REQUIRE(std::isnan(output[0]));
    REQUIRE(output[1] == (kind == ReduceKind::max ? 6.0f : 4.0f));
  }
}

TEST_CASE("reduce: an empty reduced dimension gives the identity", "[reduce]") {
  const std::vector<int64_t> shape = {2, 0}, axes = {1};
  std::vector<float> output(2, 7.0f);
  cpu::reduce(static_cast<const float *>(nullptr), output.data(), 2, shape.data(), axes.data(), 1,
              ReduceKind::sum);
  REQUIRE(output == std::vector<float>{0.0f, 0.0f});
  cpu::reduce(static_cast<const float *>(nullptr), output.data(), 2, shape.data(), axes.data(), 1,
              ReduceKind::max);
  REQUIRE(output[0] == -INFINITY);
  cpu::reduce(static_cast<const float *>(nullptr), output.data(), 2, shape.data(), axes.data(), 1,
              ReduceKind::mean);
  REQUIRE(std::isnan(output[1]));
  std::vector<int64_t> int_output(2, 7);
  cpu::reduce(static_cast<const int64_t *>(nullptr), int_output.data(), 2, shape.data(),
              axes.data(), 1, ReduceKind::min);
  REQUIRE(int_output[0] == std::numeric_limits<int64_t>::max());
}
