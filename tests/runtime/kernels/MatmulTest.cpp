//===- MatmulTest.cpp - batched sgemm against a naive triple loop ---------===//

#include "KernelTestUtils.h"
#include "MatmulCase.h"

#include "cleave/rt/kernels.h"

using namespace cleave::rt;
using namespace cleave::rt::test;

namespace {

void check_matmul(const MatmulCase &t) {
  INFO(t.describe());
  std::vector<float> a = random_floats(t.a_count()), b = random_floats(t.b_count());
  std::vector<float> c = random_floats(t.batch * t.m * t.n);
  const std::vector<double> expected = reference_matmul(a, b, c, t);
  cpu::matmul(a.data(), b.data(), c.data(), t.batch, t.m, t.n, t.k, t.transpose_a, t.transpose_b,
              t.a_stride(), t.b_stride(), t.accumulate);
  require_close(c, expected, 1e-5);
}

void check_all(const std::vector<MatmulCase> &cases) {
  for (const MatmulCase &t : cases)
    check_matmul(t);
}

} // namespace

TEST_CASE("matmul: every transpose combination on odd sizes", "[matmul]") {
  seed(1);
  check_all(every_transpose({1, 5, 7, 3, false, false, 1, 1, false}));
}

TEST_CASE("matmul: broadcast batch strides", "[matmul]") {
  seed(2);
  // Strides {1, 1}; {0, 1}: one A for every B; {1, 0}: one B for every A (x @ W); {0, 0}.
  check_all({{3, 4, 6, 5, false, false, 1, 1, false},
             {3, 4, 6, 5, false, true, 0, 1, false},
             {3, 4, 6, 5, true, false, 1, 0, false},
             {3, 4, 6, 5, true, true, 0, 0, false}});
}

TEST_CASE("matmul: accumulate adds to C", "[matmul]") {
  seed(3);
  check_all({{2, 3, 9, 4, false, false, 1, 1, true}, {2, 3, 9, 4, true, true, 1, 0, true}});
}

TEST_CASE("matmul: many small matrices take the batch-parallel path", "[matmul]") {
  seed(4);
  check_all({{64, 8, 16, 12, false, true, 1, 1, false}, {33, 3, 1, 7, true, false, 1, 0, true}});
}

TEST_CASE("matmul: large matrices take OpenBLAS's own threads", "[matmul]") {
  seed(5);
  check_all(
      {{2, 97, 130, 71, false, false, 1, 1, false}, {1, 129, 65, 100, true, true, 1, 1, true}});
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
  for (const MatmulCase &t : every_transpose({3, 5, 7, 4, false, false, 1, 0, false})) {
    const std::vector<float> a = random_floats(t.batch * t.m * t.k);
    const std::vector<float> b = random_floats(t.k * t.n);
    const std::vector<float> c(t.batch * t.m * t.n, 0.0f);
    const std::vector<double> expected = reference_matmul(a, b, c, t);
    const std::vector<double> wide_a(a.begin(), a.end()), wide_b(b.begin(), b.end());
    std::vector<double> wide_c(c.size(), NAN);
    cpu::matmul(wide_a.data(), wide_b.data(), wide_c.data(), t.batch, t.m, t.n, t.k, t.transpose_a,
                t.transpose_b, t.m * t.k, 0, false);
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
