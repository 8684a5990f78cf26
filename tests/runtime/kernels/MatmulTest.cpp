//===- MatmulTest.cpp - batched sgemm against a naive triple loop ---------===//

#include "KernelTestUtils.h"

#include "cleave/rt/kernels.h"

using namespace cleave::rt;
using namespace cleave::rt::test;

namespace {

struct MatmulCase {
  int64_t batch, m, n, k;
  bool transpose_a, transpose_b;
  int64_t stride_a, stride_b; // in matrices: 0 broadcasts, 1 steps
  bool accumulate;
};

std::vector<double> reference_matmul(const std::vector<float> &a, const std::vector<float> &b,
                                     const std::vector<float> &c, const MatmulCase &t) {
  std::vector<double> result(t.batch * t.m * t.n);
  for (int64_t e = 0; e < t.batch; ++e) {
    const float *A = a.data() + e * t.stride_a * t.m * t.k;
    const float *B = b.data() + e * t.stride_b * t.k * t.n;
    for (int64_t i = 0; i < t.m; ++i)
      for (int64_t j = 0; j < t.n; ++j) {
        double sum = t.accumulate ? c[(e * t.m + i) * t.n + j] : 0.0;
        for (int64_t p = 0; p < t.k; ++p) {
          const float av = t.transpose_a ? A[p * t.m + i] : A[i * t.k + p];
          const float bv = t.transpose_b ? B[j * t.k + p] : B[p * t.n + j];
          sum += static_cast<double>(av) * bv;
        }
        result[(e * t.m + i) * t.n + j] = sum;
      }
  }
  return result;
}

void check_matmul(const MatmulCase &t) {
  INFO("batch " << t.batch << " m " << t.m << " n " << t.n << " k " << t.k << " transpose "
                << t.transpose_a << t.transpose_b << " strides " << t.stride_a << t.stride_b
                << " accumulate " << t.accumulate);
  const int64_t a_count = (t.stride_a ? t.batch : 1) * t.m * t.k;
  const int64_t b_count = (t.stride_b ? t.batch : 1) * t.k * t.n;
  std::vector<float> a = random_floats(a_count), b = random_floats(b_count);
  std::vector<float> c = random_floats(t.batch * t.m * t.n);
  const std::vector<double> expected = reference_matmul(a, b, c, t);
  cpu::matmul(a.data(), b.data(), c.data(), t.batch, t.m, t.n, t.k, t.transpose_a, t.transpose_b,
              t.stride_a * t.m * t.k, t.stride_b * t.k * t.n, t.accumulate);
  require_close(c, expected, 1e-5);
}

} // namespace

TEST_CASE("matmul: every transpose combination on odd sizes", "[matmul]") {
  seed(1);
  for (bool ta : {false, true})
    for (bool tb : {false, true})
      check_matmul({1, 5, 7, 3, ta, tb, 1, 1, false});
}

TEST_CASE("matmul: broadcast batch strides", "[matmul]") {
  seed(2);
  check_matmul({3, 4, 6, 5, false, false, 1, 1, false});
  check_matmul({3, 4, 6, 5, false, true, 0, 1, false}); // one A for every B
  check_matmul({3, 4, 6, 5, true, false, 1, 0, false}); // one B for every A (x @ W)
  check_matmul({3, 4, 6, 5, true, true, 0, 0, false});
}

TEST_CASE("matmul: accumulate adds to C", "[matmul]") {
  seed(3);
  check_matmul({2, 3, 9, 4, false, false, 1, 1, true});
  check_matmul({2, 3, 9, 4, true, true, 1, 0, true});
}

TEST_CASE("matmul: many small matrices take the batch-parallel path", "[matmul]") {
  seed(4);
  check_matmul({64, 8, 16, 12, false, true, 1, 1, false});
  check_matmul({33, 3, 1, 7, true, false, 1, 0, true});
}

TEST_CASE("matmul: large matrices take OpenBLAS's own threads", "[matmul]") {
  seed(5);
  check_matmul({2, 97, 130, 71, false, false, 1, 1, false});
  check_matmul({1, 129, 65, 100, true, true, 1, 1, true});
}

TEST_CASE("matmul: an empty contraction writes zeros, or keeps C when accumulating", "[matmul]") {
  std::vector<float> c(6, NAN);
  cpu::matmul(nullptr, nullptr, c.data(), 1, 2, 3, 0, false, false, 0, 0, false);
  require_close(c, std::vector<float>(6, 0.0f), 0.0);
  std::vector<float> kept(6, 2.5f);
  cpu::matmul(nullptr, nullptr, kept.data(), 1, 2, 3, 0, false, false, 0, 0, true);
  require_close(kept, std::vector<float>(6, 2.5f), 0.0);
}

TEST_CASE("matmul: ignores NaN in C when not accumulating", "[matmul]") {
  seed(6);
  std::vector<float> a = random_floats(6), b = random_floats(6), c(4, NAN);
  cpu::matmul(a.data(), b.data(), c.data(), 1, 2, 2, 3, false, false, 0, 0, false);
  for (float v : c)
    REQUIRE(std::isfinite(v));
}

TEST_CASE("matmul: f64 operands (dgemm), transposed and batched", "[matmul]") {
  seed(9);
  for (bool ta : {false, true})
    for (bool tb : {false, true}) {
      const MatmulCase t{3, 5, 7, 4, ta, tb, 1, 0, false};
      const std::vector<float> a = random_floats(t.batch * t.m * t.k);
      const std::vector<float> b = random_floats(t.k * t.n);
      const std::vector<float> c(t.batch * t.m * t.n, 0.0f);
      const std::vector<double> expected = reference_matmul(a, b, c, t);
      const std::vector<double> wide_a(a.begin(), a.end()), wide_b(b.begin(), b.end());
      std::vector<double> wide_c(c.size(), NAN);
      cpu::matmul(wide_a.data(), wide_b.data(), wide_c.data(), t.batch, t.m, t.n, t.k, ta, tb,
                  t.m * t.k, 0, false);
      require_close(wide_c, expected, 1e-12);
    }
}

TEST_CASE("threads: set_num_threads changes the count and not the results", "[threads]") {
  seed(7);
  const int64_t before = cpu::get_num_threads();
  std::vector<float> a = random_floats(40 * 30), b = random_floats(30 * 50);
  std::vector<float> parallel(40 * 50), serial(40 * 50);
  cpu::matmul(a.data(), b.data(), parallel.data(), 1, 40, 50, 30, false, false, 0, 0, false);
  cpu::set_num_threads(1);
  REQUIRE(cpu::get_num_threads() == 1);
  cpu::matmul(a.data(), b.data(), serial.data(), 1, 40, 50, 30, false, false, 0, 0, false);
  cpu::set_num_threads(before);
  REQUIRE(cpu::get_num_threads() == before);
  require_close(serial, parallel, 1e-6);
}
