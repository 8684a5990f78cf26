//===- rows.h - vectorised passes over one contiguous row -----------------===//
//
// The max / sum-of-exp passes of softmax and cross-entropy. A plain
// `sum += x[j]` loop is a chain the compiler may not reorder (no
// -ffast-math), so it runs one element at a time; `omp simd reduction`
// allows partial results per SIMD lane, combined at the end. The order of
// the additions changes, as it does in every vectorised library (PyTorch's
// included); the terms do not.
//
//===----------------------------------------------------------------------===//
#ifndef CLEAVE_RT_CPU_ROWS_H
#define CLEAVE_RT_CPU_ROWS_H

#include "cleave/rt/vmath.h"

#include <cmath>
#include <cstdint>

namespace cleave::rt::cpu {

/// The largest element of x[0..n), -inf for n == 0. NaNs are skipped (a
/// compare with NaN is false), as in the strided kernels.
inline float row_max(const float *x, int64_t n) {
  float max = -INFINITY;
#pragma omp simd reduction(max : max)
  for (int64_t j = 0; j < n; ++j)
    max = x[j] > max ? x[j] : max;
  return max;
}

/// sum_j exp(x[j] - shift); also stores each term in out[j] (which may be
/// x itself). Terms below the smallest normal float are 0 (vexp_normal):
/// shift is the row's max, so the sum holds 1 and cannot see them.
inline float row_exp_sum(const float *x, float shift, float *out, int64_t n) {
  float sum = 0.0f;
#pragma omp simd reduction(+ : sum)
  for (int64_t j = 0; j < n; ++j) {
    const float e = vexp_normal(x[j] - shift);
    out[j] = e;
    sum += e;
  }
  return sum;
}

/// sum_j exp(x[j] - shift).
inline float row_exp_sum(const float *x, float shift, int64_t n) {
  float sum = 0.0f;
#pragma omp simd reduction(+ : sum)
  for (int64_t j = 0; j < n; ++j)
    sum += vexp_normal(x[j] - shift);
  return sum;
}

/// sum_j a[j] * b[j].
inline float row_dot(const float *a, const float *b, int64_t n) {
  float sum = 0.0f;
#pragma omp simd reduction(+ : sum)
  for (int64_t j = 0; j < n; ++j)
    sum += a[j] * b[j];
  return sum;
}

} // namespace cleave::rt::cpu

#endif // CLEAVE_RT_CPU_ROWS_H
