//===- vmath.h - exp and erf that vectorise -------------------------------===//
//
// libm's expf and erff are opaque calls, so a loop that uses them runs one
// element at a time (~8 ns each on a Zen core: most of a GELU's cost).
// These are plain float arithmetic and bit moves, which the compiler turns
// into SIMD code under `#pragma omp simd`. They keep IEEE behaviour at the
// edges (NaN in, NaN out; exp overflows to inf and underflows through the
// subnormals to 0; erf(+-inf) = +-1) and stay within 2 ulp of the exact
// result (tests/runtime/kernels/VMathTest.cpp checks a dense sweep of the
// float line), which is PyTorch's own vectorised accuracy.
//
// Header-only: generated CPU programs call them from their fused loops,
// the runtime's kernels (softmax, cross-entropy) from theirs.
//
//===----------------------------------------------------------------------===//
#ifndef CLEAVE_RT_VMATH_H
#define CLEAVE_RT_VMATH_H

#include <cstdint>
#include <cstring>

// Inlined even into the huge generated train step, where GCC's growth
// limits would otherwise leave a call, and a call blocks vectorisation.
#if defined(__GNUC__)
#define CLEAVE_VMATH_INLINE inline __attribute__((always_inline))
#else
#define CLEAVE_VMATH_INLINE inline
#endif

// Generated CPU train steps are compiled for the x86-64-v2 baseline (4-wide
// SSE), so that they run on any x86-64 host of the last decade. With this
// on the step function, GCC also compiles an AVX2 + FMA version of it, its
// OpenMP regions included, and the loader picks one by the CPU: 8-wide
// fused loops (about 1.4x faster ones on a Zen core) without giving up the
// baseline. Costs about 40% more compile time of the generated source.
#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) && __GNUC__ >= 11
#define CLEAVE_CPU_MULTIVERSION __attribute__((target_clones("arch=x86-64-v3", "default")))
#else
#define CLEAVE_CPU_MULTIVERSION
#endif

namespace cleave::rt {
namespace vmath_detail {

CLEAVE_VMATH_INLINE uint32_t bits(float x) {
  uint32_t u;
  std::memcpy(&u, &x, sizeof u);
  return u;
}

CLEAVE_VMATH_INLINE float from_bits(uint32_t u) {
  float x;
  std::memcpy(&x, &u, sizeof x);
  return x;
}

/// e^x for x in [-104, 104] or NaN.
CLEAVE_VMATH_INLINE float exp_core(float xc) {
  // n = round(x / ln 2) by the 1.5 * 2^23 trick: adding it leaves n in the
  // low mantissa bits (|n| < 2^22) and subtracting it back gives n as float.
  constexpr float kShift = 12582912.0f;
  const float shifted = xc * 1.44269504088896341f + kShift;
  const int32_t n = static_cast<int32_t>(bits(shifted) - bits(kShift));
  const float nf = shifted - kShift;
  // r = x - n ln 2 in two steps (Cody-Waite): ln2_hi has few enough bits
  // that n * ln2_hi is exact.
  const float r = (xc - nf * 0.693145751953125f) - nf * 1.428606820309417232e-6f;
  // e^r on [-ln2/2, ln2/2] (Cephes expf's minimax polynomial).
  float p = 1.9875691500e-4f;
  p = p * r + 1.3981999507e-3f;
  p = p * r + 8.3334519073e-3f;
  p = p * r + 4.1665795894e-2f;
  p = p * r + 1.6666665459e-1f;
  p = p * r + 5.0000001201e-1f;
  p = p * (r * r) + r + 1.0f;
  // Scale by 2^n as 2^(n/2) * 2^(n - n/2): each factor is a normal float
  // for n in [-151, 151], and only the last product rounds, so subnormal
  // results are correctly rounded and large ones overflow to inf.
  const int32_t half = n >> 1;
  const float scale1 = from_bits(static_cast<uint32_t>(half + 127) << 23);
  const float scale2 = from_bits(static_cast<uint32_t>(n - half + 127) << 23);
  return (p * scale1) * scale2;
}

} // namespace vmath_detail

/// e^x for float, within 1 ulp.
CLEAVE_VMATH_INLINE float vexp(float x) {
  using namespace vmath_detail;
  // Beyond +-104, e^x is 0 or inf in float anyway; clamping there keeps n
  // below in int range. The clamp works on the bits: float compares may
  // raise FP exceptions, so without -fno-trapping-math the compiler will not
  // turn them into vector selects. NaN keeps its bits.
  const uint32_t u = bits(x);
  uint32_t magnitude = u & 0x7fffffffu;
  magnitude = magnitude > 0x42d00000u && magnitude <= 0x7f800000u ? 0x42d00000u : magnitude;
  return exp_core(from_bits(magnitude | (u & 0x80000000u)));
}

/// e^x as vexp, but 0 where e^x is below the smallest normal float
/// (x < -87): making a subnormal result takes x86's slow path, a microcode
/// assist per element, which made softmax on causally masked rows (every
/// -inf entry) about 5x slower. For softmax and log-sum-exp, whose sums hold
/// e^0 = 1, the flushed terms (< 1.7e-38) change nothing but the tiniest
/// probabilities, by less than 1.7e-38.
CLEAVE_VMATH_INLINE float vexp_normal(float x) {
  using namespace vmath_detail;
  const uint32_t u = bits(x);
  const uint32_t magnitude = u & 0x7fffffffu;
  // Below -87 (0x42ae0000), -inf included; NaN (magnitude above inf) is not.
  const uint32_t tiny = (u >> 31) & static_cast<uint32_t>(magnitude > 0x42ae0000u) &
                        static_cast<uint32_t>(magnitude <= 0x7f800000u);
  uint32_t clamped = magnitude > 0x42d00000u && magnitude <= 0x7f800000u ? 0x42d00000u : magnitude;
  // e^-87 is normal: the flushed lanes compute it, then the mask makes them 0.
  clamped = tiny ? 0x42ae0000u : clamped;
  const float e = exp_core(from_bits(clamped | (u & 0x80000000u)));
  return from_bits(bits(e) & (tiny - 1u));
}

/// erf(x) for float, within 1 ulp.
CLEAVE_VMATH_INLINE float verf(float x) {
  using namespace vmath_detail;
  const uint32_t sign = bits(x) & 0x80000000u;
  const uint32_t magnitude = bits(x) & 0x7fffffffu;
  // erf(a) rounds to 1 from a = 3.92 on. An integer min and masks on the
  // bits, as in vexp: GCC 12 would not if-convert float compares (they may
  // trap), nor several selects in one loop body.
  const float a = from_bits(magnitude < 0x40800000u ? magnitude : 0x40800000u);
  const uint32_t nan = (0u - static_cast<uint32_t>(magnitude > 0x7f800000u)) & 0x7fc00000u;
  // a < 1: erf(a) = a + a (2/sqrt(pi) - 1 + t Q(t)), t = a^2, Q a
  // least-squares fit (relative error 1.4e-9); the small correction term
  // carries the rounding, a itself is exact.
  const float t = a * a;
  float q = 7.919117343e-05f;
  q = q * t + -8.031139150e-04f;
  q = q * t + 5.190899130e-03f;
  q = q * t + -2.685531229e-02f;
  q = q * t + 1.128362715e-01f;
  q = q * t + -3.761263192e-01f;
  const float small = a + a * (1.283791671e-01f + t * q);
  // a >= 1: erf(a) = 1 - exp(L(a) - a^2) where L(a) = log(erfc(a)) + a^2 is
  // smooth on [1, 4]: a fit in (a - 2.5) of absolute error 1.5e-8, which
  // erfc(a) <= 0.16 scales down further.
  const float s = a - 2.5f;
  float l = -3.362984913e-08f;
  l = l * s + 1.626556354e-06f;
  l = l * s + -1.313637131e-05f;
  l = l * s + 7.734011160e-05f;
  l = l * s + -4.204419383e-04f;
  l = l * s + 2.165234182e-03f;
  l = l * s + -1.085832715e-02f;
  l = l * s + 5.610632896e-02f;
  l = l * s + -3.526807129e-01f;
  l = l * s + -1.556815267e+00f;
  const float large = 1.0f - exp_core(l - t);
  const uint32_t use_small = 0u - static_cast<uint32_t>(magnitude < 0x3f800000u); // all ones
  const uint32_t result = (bits(small) & use_small) | (bits(large) & ~use_small);
  return from_bits(result | sign | nan);
}

} // namespace cleave::rt

#endif // CLEAVE_RT_VMATH_H
