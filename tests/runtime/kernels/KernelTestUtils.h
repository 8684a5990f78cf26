//===- KernelTestUtils.h - random data, comparisons, finite differences ---===//
#ifndef CLEAVE_TESTS_RUNTIME_KERNELS_KERNELTESTUTILS_H
#define CLEAVE_TESTS_RUNTIME_KERNELS_KERNELTESTUTILS_H

#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <numeric>
#include <random>
#include <vector>

namespace cleave::rt::test {

/// Every test draws from its own fixed-seed generator: failures reproduce.
inline std::mt19937 &rng() {
  static std::mt19937 generator;
  return generator;
}

/// Re-seeds rng(); call at the top of a test case so that its data does not
/// depend on which tests ran before it.
inline void seed(uint32_t value) { rng().seed(value); }

inline std::vector<float> random_floats(int64_t n, float low = -1.0f, float high = 1.0f) {
  std::uniform_real_distribution<float> distribution(low, high);
  std::vector<float> values(n);
  for (float &v : values)
    v = distribution(rng());
  return values;
}

inline int64_t random_int(int64_t low, int64_t high) { // inclusive
  return std::uniform_int_distribution<int64_t>(low, high)(rng());
}

/// Distinct values at least `gap` apart, shuffled: max pooling and max
/// reductions then have a unique winner that a finite-difference step of
/// less than gap/2 cannot change.
inline std::vector<float> distinct_floats(int64_t n, float gap = 0.05f) {
  std::vector<float> values(n);
  for (int64_t i = 0; i < n; ++i)
    values[i] = gap * static_cast<float>(i - n / 2);
  std::shuffle(values.begin(), values.end(), rng());
  return values;
}

/// Runs `check` on every case, each under an INFO naming its position.
template <typename Case, typename Check>
void for_each_case(const std::vector<Case> &cases, Check check) {
  for (size_t i = 0; i < cases.size(); ++i) {
    INFO("case " << i);
    check(cases[i]);
  }
}

inline int64_t product(const std::vector<int64_t> &shape) {
  return std::accumulate(shape.begin(), shape.end(), int64_t{1}, std::multiplies<int64_t>());
}

inline std::vector<int64_t> strides_of(const std::vector<int64_t> &shape) {
  std::vector<int64_t> strides(shape.size());
  int64_t stride = 1;
  for (int64_t d = static_cast<int64_t>(shape.size()) - 1; d >= 0; --d) {
    strides[d] = stride;
    stride *= shape[d];
  }
  return strides;
}

/// The multi-index of row-major position `linear` in `shape`.
inline std::vector<int64_t> unravel(int64_t linear, const std::vector<int64_t> &shape) {
  std::vector<int64_t> index(shape.size());
  for (int64_t d = static_cast<int64_t>(shape.size()) - 1; d >= 0; --d) {
    index[d] = linear % shape[d];
    linear /= shape[d];
  }
  return index;
}

/// Checks |actual - expected| <= tolerance * (|expected| + max|expected|)
/// elementwise: relative to both the element and the tensor's scale, since
/// rounding (and finite-difference noise) grows with the whole tensor.
template <typename Actual, typename Expected>
void require_close(const std::vector<Actual> &actual, const std::vector<Expected> &expected,
                   double tolerance) {
  REQUIRE(actual.size() == expected.size());
  double scale = 0.0;
  for (const Expected &e : expected)
    scale = std::max(scale, std::fabs(static_cast<double>(e)));
  for (size_t i = 0; i < actual.size(); ++i) {
    const double a = static_cast<double>(actual[i]), e = static_cast<double>(expected[i]);
    const double bound = tolerance * (std::fabs(e) + scale) + 1e-30;
    if (!(std::fabs(a - e) <= bound) && !(std::isinf(a) && a == e) &&
        !(std::isnan(a) && std::isnan(e))) {
      INFO("element " << i << " of " << actual.size() << ": got " << a << ", expected " << e
                      << " (tolerance " << bound << ")");
      REQUIRE(std::fabs(a - e) <= bound);
    }
  }
}

/// sum(values * weights) in double: the scalar loss whose gradient with
/// respect to `values` is `weights`, used to turn a tensor-valued kernel
/// into a finite-difference target.
inline double weighted_sum(const std::vector<float> &values, const std::vector<float> &weights) {
  double sum = 0.0;
  for (size_t i = 0; i < values.size(); ++i)
    sum += static_cast<double>(values[i]) * static_cast<double>(weights[i]);
  return sum;
}

/// Central differences of loss() with respect to every element of x (which
/// loss() reads; each element is nudged and restored in turn).
template <typename Loss>
std::vector<double> numeric_gradient(std::vector<float> &x, Loss loss, float step) {
  std::vector<double> gradient(x.size());
  for (size_t i = 0; i < x.size(); ++i) {
    const float saved = x[i];
    const float up = saved + step, down = saved - step;
    x[i] = up;
    const double loss_up = loss();
    x[i] = down;
    const double loss_down = loss();
    x[i] = saved;
    // The float step actually taken, not the nominal one.
    gradient[i] = (loss_up - loss_down) / (static_cast<double>(up) - static_cast<double>(down));
  }
  return gradient;
}

} // namespace cleave::rt::test

#endif // CLEAVE_TESTS_RUNTIME_KERNELS_KERNELTESTUTILS_H
