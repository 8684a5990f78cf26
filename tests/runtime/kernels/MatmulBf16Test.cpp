//===- MatmulBf16Test.cpp - bf16 rounding, bf16-operand matmul and conv ---===//
//
// round_to_bf16 against hand-worked bit patterns (ties to even, carries
// into the exponent, infinities, NaN), and cpu::matmul_bf16 against a
// double triple loop over operands rounded by hand: every transpose, batch
// broadcasting, accumulation, and a guard band behind the scratch that
// matmul_bf16_scratch_bytes() sized; the conv2d_bf16 family against the
// fp32 kernels on operands rounded by hand.
//
//===----------------------------------------------------------------------===//

#include "KernelTestUtils.h"
#include "MatmulCase.h"

#include "cleave/rt/bf16.h"
#include "cleave/rt/kernels.h"

#include <cstring>
#include <limits>

using namespace cleave::rt;
using namespace cleave::rt::test;

namespace {

float from_bits(uint32_t bits) {
  float value;
  std::memcpy(&value, &bits, sizeof value);
  return value;
}

uint32_t to_bits(float value) {
  uint32_t bits;
  std::memcpy(&bits, &value, sizeof bits);
  return bits;
}

void check_matmul_bf16(const MatmulCase &t) {
  INFO(t.describe());
  const std::vector<float> a = random_floats(t.a_count()), b = random_floats(t.b_count());
  std::vector<float> c = random_floats(t.batch * t.m * t.n);
  const std::vector<double> expected =
      reference_matmul(a, b, c, t, [](float v) { return round_to_bf16(v); });
  const int64_t stride_a = t.a_stride(), stride_b = t.b_stride();
  const int64_t bytes = cpu::matmul_bf16_scratch_bytes(t.batch, t.m, t.n, t.k, stride_a, stride_b);
  REQUIRE(bytes >= int64_t(sizeof(float)) * (t.a_count() + t.b_count()));
  // A guard band behind the scratch: the kernel must stay inside its size.
  constexpr int64_t kGuard = 256;
  std::vector<unsigned char> scratch(static_cast<size_t>(bytes + kGuard), 0xA5);
  cpu::matmul_bf16(a.data(), b.data(), c.data(), t.batch, t.m, t.n, t.k, t.transpose_a,
                   t.transpose_b, stride_a, stride_b, t.accumulate, scratch.data());
  for (int64_t i = bytes; i < bytes + kGuard; ++i)
    REQUIRE(scratch[static_cast<size_t>(i)] == 0xA5);
  // Exact products, fp32 sums: fp32 rounding of the sum is all that differs.
  require_close(c, expected, 1e-5);
}

} // namespace

TEST_CASE("bf16: rounding to nearest, ties to even", "[bf16]") {
  REQUIRE(round_to_bf16(1.0f) == 1.0f);
  REQUIRE(round_to_bf16(-2.5f) == -2.5f);
  // 1 + 2^-8 lies halfway between 1 and 1 + 2^-7: the even one, 1.
  REQUIRE(round_to_bf16(1.0f + 0x1p-8f) == 1.0f);
  // 1 + 3 * 2^-8 lies halfway between 1 + 2^-7 (odd) and 1 + 2^-6 (even).
  REQUIRE(round_to_bf16(1.0f + 3 * 0x1p-8f) == 1.0f + 0x1p-6f);
  // Just above halfway rounds up; just below rounds down.
  REQUIRE(round_to_bf16(1.0f + 0x1p-8f + 0x1p-20f) == 1.0f + 0x1p-7f);
  REQUIRE(round_to_bf16(1.0f + 0x1p-8f - 0x1p-20f) == 1.0f);
  // A carry out of the mantissa bumps the exponent.
  REQUIRE(round_to_bf16(from_bits(0x3FFFFFFFu)) == 2.0f);
  REQUIRE(to_bits(round_to_bf16(-0.0f)) == 0x80000000u);
  // Subnormals keep their top bits.
  REQUIRE(to_bits(round_to_bf16(from_bits(0x00012345u))) == 0x00010000u);
}

TEST_CASE("bf16: infinities, overflow and NaN", "[bf16]") {
  const float inf = std::numeric_limits<float>::infinity();
  REQUIRE(round_to_bf16(inf) == inf);
  REQUIRE(round_to_bf16(-inf) == -inf);
  // The largest float is above bf16's largest finite value's halfway point.
  REQUIRE(round_to_bf16(std::numeric_limits<float>::max()) == inf);
  REQUIRE(round_to_bf16(-std::numeric_limits<float>::max()) == -inf);
  // bf16's largest finite value stays.
  REQUIRE(to_bits(round_to_bf16(from_bits(0x7F7F0000u))) == 0x7F7F0000u);
  // A NaN whose payload lies only in the low bits must not round to inf.
  const float nan_low = from_bits(0x7F800001u);
  REQUIRE(std::isnan(round_to_bf16(nan_low)));
  REQUIRE(float_to_bf16_bits(nan_low) == 0x7FC0u);
  REQUIRE(float_to_bf16_bits(from_bits(0xFFFFFFFFu)) == 0xFFFFu);
}

TEST_CASE("matmul_bf16: every transpose combination on odd sizes", "[matmul_bf16]") {
  seed(11);
  for (const MatmulCase &t : every_transpose({1, 5, 7, 3, false, false, 1, 1, false}))
    check_matmul_bf16(t);
}

TEST_CASE("matmul_bf16: broadcast batch strides and accumulation", "[matmul_bf16]") {
  seed(12);
  for (const MatmulCase &t : {MatmulCase{3, 4, 6, 5, false, false, 1, 1, false},
                              MatmulCase{3, 4, 6, 5, false, true, 0, 1, false},
                              MatmulCase{3, 4, 6, 5, true, false, 1, 0, true},
                              MatmulCase{3, 4, 6, 5, true, true, 0, 0, true},
                              MatmulCase{2, 97, 130, 71, false, true, 1, 0, false}})
    check_matmul_bf16(t);
}

TEST_CASE("matmul_bf16: rounds, unlike matmul, and leaves its inputs alone", "[matmul_bf16]") {
  seed(13);
  const int64_t m = 8, n = 8, k = 64;
  const std::vector<float> a = random_floats(m * k), b = random_floats(k * n);
  const std::vector<float> a_copy = a, b_copy = b;
  std::vector<float> fp32(m * n), bf16(m * n);
  std::vector<unsigned char> scratch(
      static_cast<size_t>(cpu::matmul_bf16_scratch_bytes(1, m, n, k, 0, 0)));
  cpu::matmul(a.data(), b.data(), fp32.data(), 1, m, n, k, false, false, 0, 0, false);
  cpu::matmul_bf16(a.data(), b.data(), bf16.data(), 1, m, n, k, false, false, 0, 0, false,
                   scratch.data());
  REQUIRE(a == a_copy);
  REQUIRE(b == b_copy);
  double largest = 0.0;
  for (int64_t i = 0; i < m * n; ++i)
    largest = std::max(largest, std::fabs(double(fp32[i]) - bf16[i]));
  // Operands off by up to 2^-9 relative: sums of 64 products move ~1e-3.
  REQUIRE(largest > 1e-4);
  // On operands that are already bf16 values, both compute the same sums
  // (to fp32 rounding, should sgemm ever pick its kernel by alignment).
  std::vector<float> ra(a), rb(b);
  for (float &v : ra)
    v = round_to_bf16(v);
  for (float &v : rb)
    v = round_to_bf16(v);
  cpu::matmul(ra.data(), rb.data(), fp32.data(), 1, m, n, k, false, false, 0, 0, false);
  require_close(bf16, fp32, 1e-6);
}

TEST_CASE("matmul_bf16: an empty contraction needs no scratch", "[matmul_bf16]") {
  std::vector<float> c(6, NAN);
  REQUIRE(cpu::matmul_bf16_scratch_bytes(1, 2, 3, 0, 0, 0) == 0);
  cpu::matmul_bf16(nullptr, nullptr, c.data(), 1, 2, 3, 0, false, false, 0, 0, false, nullptr);
  require_close(c, std::vector<float>(6, 0.0f), 0.0);
}

TEST_CASE("conv2d_bf16: the fp32 kernels on rounded operands", "[conv_bf16]") {
  seed(14);
  // 2 images of 4x6x5, 6 filters of 3x3 in two groups, stride 1, padding 1.
  const cpu::Conv2dParams p{2, 4, 6, 5, 6, 6, 5, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 2};
  const int64_t x_size = 2 * 4 * 6 * 5, f_size = 6 * 2 * 3 * 3, y_size = 2 * 6 * 6 * 5;
  const std::vector<float> x = random_floats(x_size), filter = random_floats(f_size);
  const std::vector<float> bias = random_floats(6), dy = random_floats(y_size);
  auto round_all = [](std::vector<float> v) {
    for (float &e : v)
      e = round_to_bf16(e);
    return v;
  };
  const std::vector<float> rx = round_all(x), rfilter = round_all(filter), rdy = round_all(dy);
  const int64_t bytes = cpu::conv2d_bf16_scratch_bytes(p);
  REQUIRE(bytes >= cpu::conv2d_scratch_bytes(p) + int64_t(sizeof(float)) * (x_size + f_size));
  constexpr int64_t kGuard = 256;
  std::vector<unsigned char> scratch(static_cast<size_t>(bytes + kGuard), 0xA5);
  std::vector<unsigned char> plain(static_cast<size_t>(cpu::conv2d_scratch_bytes(p)));

  std::vector<float> y(y_size), expected_y(y_size);
  cpu::conv2d_bf16(x.data(), filter.data(), bias.data(), y.data(), p, scratch.data());
  cpu::conv2d(rx.data(), rfilter.data(), bias.data(), expected_y.data(), p, plain.data());
  require_close(y, expected_y, 1e-6);

  std::vector<float> gx(x_size), expected_gx(x_size), gf(f_size), expected_gf(f_size);
  cpu::conv2d_grad_input_bf16(dy.data(), filter.data(), gx.data(), p, scratch.data());
  cpu::conv2d_grad_input(rdy.data(), rfilter.data(), expected_gx.data(), p, plain.data());
  require_close(gx, expected_gx, 1e-6);
  cpu::conv2d_grad_filter_bf16(x.data(), dy.data(), gf.data(), p, scratch.data());
  cpu::conv2d_grad_filter(rx.data(), rdy.data(), expected_gf.data(), p, plain.data());
  require_close(gf, expected_gf, 1e-6);
  for (int64_t i = bytes; i < bytes + kGuard; ++i)
    REQUIRE(scratch[static_cast<size_t>(i)] == 0xA5);

  // Unrounded operands give other numbers: the rounding happened.
  cpu::conv2d(x.data(), filter.data(), bias.data(), expected_y.data(), p, plain.data());
  double largest = 0.0;
  for (int64_t i = 0; i < y_size; ++i)
    largest = std::max(largest, std::fabs(double(y[i]) - expected_y[i]));
  REQUIRE(largest > 1e-4);
}
