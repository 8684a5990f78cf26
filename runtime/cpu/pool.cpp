//===- pool.cpp - 2-D max and average pooling, forward and backward -------===//
//
// The window arithmetic is the plan's (cleave/rt/kernels/pool.h, after
// PyTorch's aten kernels). One (image, channel) plane per work item: the
// backward pass only ever adds into its own plane, so the planes never race.
//
//===----------------------------------------------------------------------===//

#include "cleave/rt/kernels/pool.h"
#include "cleave/rt/kernels.h"

#include "parallel.h"
#include "require.h"

#include <algorithm>
#include <cmath>
#include <cstring>

namespace cleave::rt::cpu {
namespace {

/// Elements a pooling pass reads: every output scans its window.
int64_t work(const Pool2dParams &p) {
  return p.batch * p.channels * p.out_height * p.out_width * p.kernel_height * p.kernel_width;
}

/// Checks the parameters, then runs body(plane) for every (image, channel)
/// plane in parallel.
template <typename Body> void for_each_plane(const Pool2dParams &params, Body body) {
  require(kernels::check_pool2d(params));
#pragma omp parallel for schedule(static) if (worth_parallel(work(params)))
  for (int64_t plane = 0; plane < params.batch * params.channels; ++plane)
    body(plane);
}

} // namespace

using kernels::PoolWindow;

void pool2d(const float *x, float *y, const Pool2dParams &params) {
  const int64_t in_plane = params.in_height * params.in_width;
  const int64_t out_plane = params.out_height * params.out_width;
  for_each_plane(params, [&](int64_t plane) {
    const float *in = x + plane * in_plane;
    float *out = y + plane * out_plane;
    for (int64_t oh = 0; oh < params.out_height; ++oh)
      for (int64_t ow = 0; ow < params.out_width; ++ow)
        out[oh * params.out_width + ow] = kernels::pool_output(params, in, oh, ow);
  });
}

void pool2d_grad(const float *x, const float *dy, float *dx, const Pool2dParams &params) {
  const int64_t in_plane = params.in_height * params.in_width;
  const int64_t out_plane = params.out_height * params.out_width;
  for_each_plane(params, [&](int64_t plane) {
    const float *in = x + plane * in_plane;
    const float *grad = dy + plane * out_plane;
    float *out = dx + plane * in_plane;
    std::memset(out, 0, in_plane * sizeof(float));
    for (int64_t oh = 0; oh < params.out_height; ++oh)
      for (int64_t ow = 0; ow < params.out_width; ++ow) {
        const PoolWindow w = kernels::pool_window(params, oh, ow);
        const float g = grad[oh * params.out_width + ow];
        if (params.kind == PoolKind::max) {
          float max;
          if (w.h_begin < w.h_end && w.w_begin < w.w_end)
            out[kernels::pool_argmax(in, w, params.in_width, &max)] += g;
          continue;
        }
        if (w.divisor <= 0)
          continue;
        const float share = g / w.divisor;
        for (int64_t h = w.h_begin; h < w.h_end; ++h)
          for (int64_t c = w.w_begin; c < w.w_end; ++c)
            out[h * params.in_width + c] += share;
      }
  });
}

} // namespace cleave::rt::cpu
