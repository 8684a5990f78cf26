//===- VMathTest.cpp - vexp and verf against double-precision libm --------===//

#include "KernelTestUtils.h"

#include "cleave/rt/vmath.h"

#include <cstring>
#include <limits>

using namespace cleave::rt;

namespace {

float from_bits(uint32_t u) {
  float x;
  std::memcpy(&x, &u, sizeof x);
  return x;
}

/// |got - want| in units of the float spacing at want (the smallest
/// subnormal below the normal range).
double ulp_error(float got, double want) {
  const float rounded = static_cast<float>(want);
  double spacing = std::fabs(std::nextafter(rounded, INFINITY) - rounded);
  if (std::fabs(rounded) < std::numeric_limits<float>::min())
    spacing = std::numeric_limits<float>::denorm_min();
  if (std::isinf(rounded))
    return got == rounded ? 0.0 : INFINITY;
  return std::fabs(static_cast<double>(got) - want) / spacing;
}

/// Largest ulp error of f against reference over every 257th float bit
/// pattern (both signs, subnormals to infinity; NaN patterns skipped).
template <typename F, typename R> double sweep(F f, R reference) {
  double worst = 0.0;
  for (uint64_t u = 0; u < (uint64_t{1} << 32); u += 257) {
    const float x = from_bits(static_cast<uint32_t>(u));
    if (std::isnan(x))
      continue;
    worst = std::max(worst, ulp_error(f(x), reference(static_cast<double>(x))));
  }
  return worst;
}

} // namespace

TEST_CASE("vmath: vexp is within 1 ulp of exp over the float line", "[vmath]") {
  CHECK(sweep([](float x) { return vexp(x); }, [](double x) { return std::exp(x); }) <= 1.0);
}

TEST_CASE("vmath: verf is within 1.5 ulp of erf over the float line", "[vmath]") {
  CHECK(sweep([](float x) { return verf(x); }, [](double x) { return std::erf(x); }) <= 1.5);
}

TEST_CASE("vmath: IEEE edge cases", "[vmath]") {
  const float inf = INFINITY, nan = NAN;
  CHECK(vexp(0.0f) == 1.0f);
  CHECK(vexp(-0.0f) == 1.0f);
  CHECK(vexp(inf) == inf);
  CHECK(vexp(-inf) == 0.0f);
  CHECK(std::isnan(vexp(nan)));
  CHECK(vexp(88.8f) == inf); // just past FLT_MAX
  CHECK(vexp(1000.0f) == inf);
  CHECK(vexp(-103.0f) > 0.0f); // a subnormal, not flushed
  CHECK(vexp(-104.0f) == 0.0f);
  CHECK(vexp(-1e30f) == 0.0f);
  CHECK(verf(0.0f) == 0.0f);
  CHECK(std::signbit(verf(-0.0f)));
  CHECK(verf(inf) == 1.0f);
  CHECK(verf(-inf) == -1.0f);
  CHECK(verf(10.0f) == 1.0f);
  CHECK(verf(-1e30f) == -1.0f);
  CHECK(std::isnan(verf(nan)));
  CHECK(std::isnan(verf(-nan)));
  CHECK(ulp_error(verf(1e-30f), std::erf(1e-30)) <= 1.0); // tiny x keep their digits
}
