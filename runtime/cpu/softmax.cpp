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

/// A line's largest element and the sum of exp(x - max) over it.
struct LineExp {
  float max, sum;
};

/// LineExp of the line at `in`; with kWrite, each exp(x - max) is also
/// written to `out`. Always inlined, so that each kernel's AVX2 clone
/// vectorises it too.
template <bool kWrite>
CLEAVE_VMATH_INLINE LineExp line_exp(const float *in, float *out, int64_t n, int64_t stride) {
  // Subtracting the max keeps exp() finite; it cancels in the ratio.
  LineExp line{0.0f, 0.0f};
  if (stride == 1) {
    line.max = row_max(in, n);
    line.sum = kWrite ? row_exp_sum(in, line.max, out, n) : row_exp_sum(in, line.max, n);
    return line;
  }
  line.max = line_max(in, n, stride);
  for (int64_t j = 0; j < n; ++j) {
    const float e = std::exp(in[j * stride] - line.max);
    if constexpr (kWrite)
      out[j * stride] = e;
    line.sum += e;
  }
  return line;
}

/// softmax, or log_softmax where `log`, one line per work item. The loops
/// are written out in each multiversioned function (not in a shared helper
/// without the attribute) so that CLEAVE_CPU_MULTIVERSION's AVX2 clone covers
/// the OpenMP region too.
CLEAVE_CPU_MULTIVERSION // see cleave/rt/vmath.h
    void softmax_lines(bool log, const float *x, float *y, int64_t outer, int64_t n,
                       int64_t inner) {
  require(kernels::check_softmax(outer, n, inner));
#pragma omp parallel for schedule(static) if (worth_parallel(outer * n * inner))
  for (int64_t l = 0; l < outer * inner; ++l) {
    const int64_t start = kernels::softmax_line_start(l, n, inner), stride = inner;
    float *out = y + start;
    if (log) {
      const LineExp line = line_exp<false>(x + start, nullptr, n, stride);
      const float log_normaliser = line.max + std::log(line.sum);
      for (int64_t j = 0; j < n; ++j)
        out[j * stride] = x[start + j * stride] - log_normaliser;
      continue;
    }
    const float inverse = 1.0f / line_exp<true>(x + start, out, n, stride).sum;
    for (int64_t j = 0; j < n; ++j)
      out[j * stride] *= inverse;
  }
}

} // namespace

void softmax(const float *x, float *y, int64_t outer, int64_t n, int64_t inner) {
  softmax_lines(false, x, y, outer, n, inner);
}

void log_softmax(const float *x, float *y, int64_t outer, int64_t n, int64_t inner) {
  softmax_lines(true, x, y, outer, n, inner);
}

namespace {

/// softmax_grad, or log_softmax_grad where `log`; multiversioned with its
/// loops written out, as softmax_lines.
CLEAVE_CPU_MULTIVERSION // see cleave/rt/vmath.h
    void softmax_grad_lines(bool log, const float *y, const float *dy, float *dx, int64_t outer,
                            int64_t n, int64_t inner) {
  require(kernels::check_softmax(outer, n, inner));
#pragma omp parallel for schedule(static) if (worth_parallel(outer * n * inner))
  for (int64_t l = 0; l < outer * inner; ++l) {
    const int64_t start = kernels::softmax_line_start(l, n, inner), stride = inner;
    if (log) {
      float sum = 0.0f;
      for (int64_t j = 0; j < n; ++j)
        sum += dy[start + j * stride];
      for (int64_t j = 0; j < n; ++j) {
        const int64_t at = start + j * stride;
        dx[at] = dy[at] - std::exp(y[at]) * sum;
      }
      continue;
    }
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

} // namespace

void softmax_grad(const float *y, const float *dy, float *dx, int64_t outer, int64_t n,
                  int64_t inner) {
  softmax_grad_lines(false, y, dy, dx, outer, n, inner);
}

void log_softmax_grad(const float *y, const float *dy, float *dx, int64_t outer, int64_t n,
                      int64_t inner) {
  softmax_grad_lines(true, y, dy, dx, outer, n, inner);
}

} // namespace cleave::rt::cpu
