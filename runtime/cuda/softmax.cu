//===- softmax.cu - softmax, log-softmax and their gradients ---------------===//
//
// One line (the n elements (o, 0..n, i), `inner` apart) per group: a warp
// or a block for contiguous rows, one thread per line when lines are
// strided (for_lines in common.cuh). The arithmetic is the CPU kernels'
// (runtime/cpu/softmax.cpp), in the same order per element; only the sums'
// association differs.
//
//===----------------------------------------------------------------------===//

#include "common.cuh"
#include "require.cuh"

#include "cleave/rt/kernels/softmax.h"

namespace cleave::rt::cuda {
namespace {

using kernels::softmax_line_start;

/// y = softmax(x) or log_softmax(x) along each line. y may alias x: every
/// read of a line ends (at a group reduction) before its first write, and
/// the writes touch only the writer's own elements.
template <typename Group>
__global__ void softmax_kernel(const float *x, float *y, int64_t lines, int64_t n, int64_t inner,
                               bool log) {
  const Group group;
  for (int64_t line = group.first(); line < lines; line += group.stride()) {
    const float *in = x + softmax_line_start(line, n, inner);
    float *out = y + softmax_line_start(line, n, inner);
    // Subtracting the max keeps expf finite; it cancels in the ratio. A NaN
    // never wins the max, but turns the sum (so every output) into NaN.
    float max = -INFINITY;
    for (int64_t j = group.rank(); j < n; j += group.size())
      max = in[j * inner] > max ? in[j * inner] : max;
    max = group.reduce(max, MaxSkipNan(), -INFINITY);
    float sum = 0.0f;
    for (int64_t j = group.rank(); j < n; j += group.size())
      sum += expf(in[j * inner] - max);
    sum = group.reduce(sum, Sum<float>(), 0.0f);
    if (log) {
      const float log_normaliser = max + logf(sum);
      for (int64_t j = group.rank(); j < n; j += group.size())
        out[j * inner] = in[j * inner] - log_normaliser;
    } else {
      const float inverse = 1.0f / sum;
      for (int64_t j = group.rank(); j < n; j += group.size())
        out[j * inner] = expf(in[j * inner] - max) * inverse;
    }
  }
}

/// softmax:     dx = y * (dy - sum_j(dy * y))
/// log_softmax: dx = dy - exp(y) * sum_j dy
/// dx may alias dy (each element is read and written by one thread, after
/// the line's reduction).
template <typename Group>
__global__ void softmax_grad_kernel(const float *y, const float *dy, float *dx, int64_t lines,
                                    int64_t n, int64_t inner, bool log) {
  const Group group;
  for (int64_t line = group.first(); line < lines; line += group.stride()) {
    const int64_t start = softmax_line_start(line, n, inner);
    float sum = 0.0f;
    for (int64_t j = group.rank(); j < n; j += group.size()) {
      const int64_t at = start + j * inner;
      sum += log ? dy[at] : dy[at] * y[at];
    }
    sum = group.reduce(sum, Sum<float>(), 0.0f);
    for (int64_t j = group.rank(); j < n; j += group.size()) {
      const int64_t at = start + j * inner;
      dx[at] = log ? dy[at] - expf(y[at]) * sum : y[at] * (dy[at] - sum);
    }
  }
}

void run_softmax(const float *x, float *y, int64_t outer, int64_t n, int64_t inner, bool log) {
  require(kernels::check_softmax(outer, n, inner));
  for_lines(outer * inner, n, inner, [&](auto group, unsigned blocks, int threads) {
    softmax_kernel<decltype(group)><<<blocks, threads>>>(x, y, outer * inner, n, inner, log);
  });
}

void run_softmax_grad(const float *y, const float *dy, float *dx, int64_t outer, int64_t n,
                      int64_t inner, bool log) {
  require(kernels::check_softmax(outer, n, inner));
  for_lines(outer * inner, n, inner, [&](auto group, unsigned blocks, int threads) {
    softmax_grad_kernel<decltype(group)>
        <<<blocks, threads>>>(y, dy, dx, outer * inner, n, inner, log);
  });
}

} // namespace
} // namespace cleave::rt::cuda

// The kernels of api.inc, defined qualified: a definition that does not
// match its declaration does not compile.
namespace cleave::rt {

void cuda::softmax(const float *x, float *y, int64_t outer, int64_t n, int64_t inner) {
  run_softmax(x, y, outer, n, inner, false);
}

void cuda::log_softmax(const float *x, float *y, int64_t outer, int64_t n, int64_t inner) {
  run_softmax(x, y, outer, n, inner, true);
}

void cuda::softmax_grad(const float *y, const float *dy, float *dx, int64_t outer, int64_t n,
                        int64_t inner) {
  run_softmax_grad(y, dy, dx, outer, n, inner, false);
}

void cuda::log_softmax_grad(const float *y, const float *dy, float *dx, int64_t outer, int64_t n,
                            int64_t inner) {
  run_softmax_grad(y, dy, dx, outer, n, inner, true);
}

} // namespace cleave::rt
