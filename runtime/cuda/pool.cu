//===- pool.cu - 2-D max and average pooling, forward and backward ---------===//
//
// The plan's window arithmetic (cleave/rt/kernels/pool.h, after PyTorch's
// aten kernels), one thread per output element forward. The backward pass
// runs one thread per *input* element that gathers the gradient of every
// window containing it, in the CPU's (oh, ow) order: no atomics, and the
// same sums bit for bit.
//
//===----------------------------------------------------------------------===//

#include "common.cuh"
#include "require.cuh"

#include "cleave/rt/kernels/pool.h"

namespace cleave::rt::cuda {
namespace {

using kernels::PoolWindow;

/// Flat index `i` over (plane, row, column) of planes `plane_size` elements
/// and rows `width` wide.
struct PlanePixel {
  int64_t plane, row, column;
};
__device__ PlanePixel split_pixel(int64_t i, int64_t plane_size, int64_t width) {
  return {i / plane_size, (i % plane_size) / width, i % width};
}

__global__ void pool2d_kernel(const float *x, float *y, Pool2dParams p) {
  const int64_t in_plane = p.in_height * p.in_width;
  const int64_t out_plane = p.out_height * p.out_width;
  const int64_t total = p.batch * p.channels * out_plane;
  for (int64_t i = global_thread(); i < total; i += grid_threads()) {
    const auto [plane, oh, ow] = split_pixel(i, out_plane, p.out_width);
    y[i] = kernels::pool_output(p, x + plane * in_plane, oh, ow);
  }
}

__global__ void pool2d_grad_kernel(const float *x, const float *dy, float *dx, Pool2dParams p) {
  const int64_t in_plane = p.in_height * p.in_width;
  const int64_t out_plane = p.out_height * p.out_width;
  const int64_t total = p.batch * p.channels * in_plane;
  for (int64_t i = global_thread(); i < total; i += grid_threads()) {
    const auto [plane, ih, iw] = split_pixel(i, in_plane, p.in_width);
    const float *in = x + plane * in_plane;
    const float *grad = dy + plane * out_plane;
    // The outputs whose unclipped window [o*s - pad, o*s - pad + k) holds
    // this pixel; clipping only shrinks windows, so check each.
    const int64_t oh_first =
        ceil_div(max(ih + p.pad_top - p.kernel_height + 1, int64_t(0)), p.stride_height);
    const int64_t oh_last = min64((ih + p.pad_top) / p.stride_height, p.out_height - 1);
    const int64_t ow_first =
        ceil_div(max(iw + p.pad_left - p.kernel_width + 1, int64_t(0)), p.stride_width);
    const int64_t ow_last = min64((iw + p.pad_left) / p.stride_width, p.out_width - 1);
    float sum = 0.0f;
    for (int64_t oh = oh_first; oh <= oh_last; ++oh)
      for (int64_t ow = ow_first; ow <= ow_last; ++ow) {
        const PoolWindow w = kernels::pool_window(p, oh, ow);
        if (ih < w.h_begin || ih >= w.h_end || iw < w.w_begin || iw >= w.w_end)
          continue;
        const float g = grad[oh * p.out_width + ow];
        if (p.kind == PoolKind::max) {
          float max;
          if (kernels::pool_argmax(in, w, p.in_width, &max) == ih * p.in_width + iw)
            sum += g;
        } else if (w.divisor > 0) {
          sum += g / w.divisor;
        }
      }
    dx[i] = sum;
  }
}

} // namespace
} // namespace cleave::rt::cuda

// The kernels of api.inc, defined qualified: a definition that does not
// match its declaration does not compile.
namespace cleave::rt {

void cuda::pool2d(const float *x, float *y, const Pool2dParams &params) {
  require(kernels::check_pool2d(params));
  const int64_t total = params.batch * params.channels * params.out_height * params.out_width;
  if (total == 0)
    return;
  pool2d_kernel<<<blocks_for(total), kBlockSize>>>(x, y, params);
  CLEAVE_CUDA_CHECK_LAUNCH();
}

void cuda::pool2d_grad(const float *x, const float *dy, float *dx, const Pool2dParams &params) {
  require(kernels::check_pool2d(params));
  const int64_t total = params.batch * params.channels * params.in_height * params.in_width;
  if (total == 0)
    return;
  pool2d_grad_kernel<<<blocks_for(total), kBlockSize>>>(x, dy, dx, params);
  CLEAVE_CUDA_CHECK_LAUNCH();
}

} // namespace cleave::rt
