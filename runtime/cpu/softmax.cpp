//===- softmax.cpp - softmax, log-softmax and their gradients -------------===//
//
// Every kernel handles one "line" (the n elements (o, 0..n, i), `inner`
// apart) per work item; with inner == 1, the usual last-axis case, lines are
// contiguous rows.
//
//===----------------------------------------------------------------------===//

#include "cleave/rt/kernels/softmax.h"
#include "cleave/rt/kernels.h"

#include "parallel.h"
#include "require.h"
#include "rows.h"

#include <cmath>

namespace cleave::rt::cpu {
namespace {

/// The largest element. A NaN is skipped here, but exp(NaN - max) still
/// turns the line's sum, and so all of its outputs, into NaN.
float line_max(const float *x, int64_t n, int64_t stride) {
  float max = -INFINITY;
  for (int64_t j = 0; j < n; ++j)
    max = x[j * stride] > max ? x[j * stride] : max;
  return max;
}

} // namespace

CLEAVE_CPU_MULTIVERSION // see cleave/rt/vmath.h
    void softmax(const float *x, float *y, int64_t outer, int64_t n, int64_t inner) {
  require(kernels::check_softmax(outer, n, inner));
  // The loop is written out in each kernel (not in a shared helper) so that
  // CLEAVE_CPU_MULTIVERSION's AVX2 clone covers the OpenMP region too.
#pragma omp parallel for schedule(static) if (worth_parallel(outer * n * inner))
  for (int64_t l = 0; l < outer * inner; ++l) {
    const int64_t start = kernels::softmax_line_start(l, n, inner), stride = inner;
    const float *in = x + start;
    float *out = y + start;
    // Subtracting the max keeps exp() finite; it cancels in the ratio.
    float max, sum = 0.0f;
    if (stride == 1) {
      max = row_max(in, n);
      sum = row_exp_sum(in, max, out, n);
    } else {
      max = line_max(in, n, stride);
      for (int64_t j = 0; j < n; ++j) {
        out[j * stride] = std::exp(in[j * stride] - max);
        sum += out[j * stride];
      }
    }
    const float inverse = 1.0f / sum;
    for (int64_t j = 0; j < n; ++j)
      out[j * stride] *= inverse;
  }
}

CLEAVE_CPU_MULTIVERSION // see cleave/rt/vmath.h
    void log_softmax(const float *x, float *y, int64_t outer, int64_t n, int64_t inner) {
  require(kernels::check_softmax(outer, n, inner));
#pragma omp parallel for schedule(static) if (worth_parallel(outer * n * inner))
  for (int64_t l = 0; l < outer * inner; ++l) {
    const int64_t start = kernels::softmax_line_start(l, n, inner), stride = inner;
    const float *in = x + start;
    float *out = y + start;
    float max, sum = 0.0f;
    if (stride == 1) {
      max = row_max(in, n);
      sum = row_exp_sum(in, max, n);
    } else {
      max = line_max(in, n, stride);
      for (int64_t j = 0; j < n; ++j)
        sum += std::exp(in[j * stride] - max);
    }
    const float log_normaliser = max + std::log(sum);
    for (int64_t j = 0; j < n; ++j)
      out[j * stride] = in[j * stride] - log_normaliser;
  }
}

CLEAVE_CPU_MULTIVERSION // see cleave/rt/vmath.h
    void softmax_grad(const float *y, const float *dy, float *dx, int64_t outer, int64_t n,
                      int64_t inner) {
  require(kernels::check_softmax(outer, n, inner));
#pragma omp parallel for schedule(static) if (worth_parallel(outer * n * inner))
  for (int64_t l = 0; l < outer * inner; ++l) {
    const int64_t start = kernels::softmax_line_start(l, n, inner), stride = inner;
    float dot = 0.0f;
    if (stride == 1)
      dot = row_dot(dy + start, y + start, n);
    else
      for (int64_t j = 0; j < n; ++j)
        dot += dy[start + j * stride] * y[start + j * stride];
    for (int64_t j = 0; j < n; ++j) {
      const int64_t at = start + j * stride;
      dx[at] = y[at] * (dy[at] - dot);
    }
  }
}

CLEAVE_CPU_MULTIVERSION // see cleave/rt/vmath.h
    void log_softmax_grad(const float *y, const float *dy, float *dx, int64_t outer, int64_t n,
                          int64_t inner) {
  require(kernels::check_softmax(outer, n, inner));
#pragma omp parallel for schedule(static) if (worth_parallel(outer * n * inner))
  for (int64_t l = 0; l < outer * inner; ++l) {
    const int64_t start = kernels::softmax_line_start(l, n, inner), stride = inner;
    float sum = 0.0f;
    for (int64_t j = 0; j < n; ++j)
      sum += dy[start + j * stride];
    for (int64_t j = 0; j < n; ++j) {
      const int64_t at = start + j * stride;
      dx[at] = dy[at] - std::exp(y[at]) * sum;
    }
  }
}

} // namespace cleave::rt::cpu
