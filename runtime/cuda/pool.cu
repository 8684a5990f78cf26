//===- pool.cu - 2-D max and average pooling, forward and backward ---------===//
//
// The CPU kernels' window arithmetic (runtime/cpu/pool.cpp, after PyTorch's
// aten kernels), one thread per output element forward. The backward pass
// runs one thread per *input* element that gathers the gradient of every
// window containing it, in the CPU's (oh, ow) order: no atomics, and the
// same sums bit for bit.
//
//===----------------------------------------------------------------------===//

#include "common.cuh"

namespace cleave::rt::cuda {
namespace {

void check_params(const Pool2dParams &p) {
  KERNEL_CHECK(p.kind == PoolKind::max || p.kind == PoolKind::avg, "unknown pool kind");
  KERNEL_CHECK(p.batch >= 0 && p.channels >= 0 && p.in_height >= 0 && p.in_width >= 0 &&
                   p.kernel_height >= 1 && p.kernel_width >= 1 && p.stride_height >= 1 &&
                   p.stride_width >= 1,
               "bad pool2d sizes");
  KERNEL_CHECK(p.pad_top >= 0 && p.pad_left >= 0 && p.pad_bottom >= 0 && p.pad_right >= 0,
               "negative pool2d padding");
  KERNEL_CHECK(p.out_height == window_output_size(p.in_height, p.kernel_height, p.stride_height,
                                                  p.pad_top, p.pad_bottom, 1, p.ceil_mode) &&
                   p.out_width == window_output_size(p.in_width, p.kernel_width, p.stride_width,
                                                     p.pad_left, p.pad_right, 1, p.ceil_mode),
               "pool2d output extents disagree with the window");
}

/// Input rows [h_begin, h_end) and columns [w_begin, w_end) of output
/// (oh, ow), and the average's divisor.
struct Window {
  int64_t h_begin, h_end, w_begin, w_end;
  float divisor;
};

__device__ Window window_at(const Pool2dParams &p, int64_t oh, int64_t ow) {
  Window w;
  w.h_begin = oh * p.stride_height - p.pad_top;
  w.w_begin = ow * p.stride_width - p.pad_left;
  // First clip to the padded input: in ceil mode the last window may stick
  // out past it, and that part counts even with count_include_pad.
  w.h_end = min64(w.h_begin + p.kernel_height, p.in_height + p.pad_bottom);
  w.w_end = min64(w.w_begin + p.kernel_width, p.in_width + p.pad_right);
  const int64_t padded_count = (w.h_end - w.h_begin) * (w.w_end - w.w_begin);
  w.h_begin = w.h_begin > 0 ? w.h_begin : 0;
  w.w_begin = w.w_begin > 0 ? w.w_begin : 0;
  w.h_end = min64(w.h_end, p.in_height);
  w.w_end = min64(w.w_end, p.in_width);
  const int64_t heights = w.h_end > w.h_begin ? w.h_end - w.h_begin : 0;
  const int64_t widths = w.w_end > w.w_begin ? w.w_end - w.w_begin : 0;
  w.divisor = static_cast<float>(p.count_include_pad ? padded_count : heights * widths);
  return w;
}

/// Plane offset of the window's first maximum, PyTorch's way: a later
/// element wins only when strictly greater, or NaN. An all -inf (or empty)
/// window answers its first element.
__device__ int64_t argmax(const float *plane, const Window &w, int64_t width, float *max) {
  int64_t best = w.h_begin * width + w.w_begin;
  float best_value = -INFINITY;
  for (int64_t h = w.h_begin; h < w.h_end; ++h)
    for (int64_t c = w.w_begin; c < w.w_end; ++c) {
      const float value = plane[h * width + c];
      if (value > best_value || value != value) {
        best_value = value;
        best = h * width + c;
      }
    }
  *max = best_value;
  return best;
}

__global__ void pool2d_kernel(const float *x, float *y, Pool2dParams p) {
  const int64_t in_plane = p.in_height * p.in_width;
  const int64_t out_plane = p.out_height * p.out_width;
  const int64_t total = p.batch * p.channels * out_plane;
  for (int64_t i = global_thread(); i < total; i += grid_threads()) {
    const int64_t plane = i / out_plane;
    const int64_t oh = (i % out_plane) / p.out_width, ow = i % p.out_width;
    const float *in = x + plane * in_plane;
    const Window w = window_at(p, oh, ow);
    float value;
    if (p.kind == PoolKind::max) {
      argmax(in, w, p.in_width, &value);
    } else {
      float sum = 0.0f;
      for (int64_t h = w.h_begin; h < w.h_end; ++h)
        for (int64_t c = w.w_begin; c < w.w_end; ++c)
          sum += in[h * p.in_width + c];
      value = w.divisor > 0 ? sum / w.divisor : 0.0f;
    }
    y[i] = value;
  }
}

__global__ void pool2d_grad_kernel(const float *x, const float *dy, float *dx, Pool2dParams p) {
  const int64_t in_plane = p.in_height * p.in_width;
  const int64_t out_plane = p.out_height * p.out_width;
  const int64_t total = p.batch * p.channels * in_plane;
  for (int64_t i = global_thread(); i < total; i += grid_threads()) {
    const int64_t plane = i / in_plane;
    const int64_t ih = (i % in_plane) / p.in_width, iw = i % p.in_width;
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
        const Window w = window_at(p, oh, ow);
        if (ih < w.h_begin || ih >= w.h_end || iw < w.w_begin || iw >= w.w_end)
          continue;
        const float g = grad[oh * p.out_width + ow];
        if (p.kind == PoolKind::max) {
          float max;
          if (argmax(in, w, p.in_width, &max) == ih * p.in_width + iw)
            sum += g;
        } else if (w.divisor > 0) {
          sum += g / w.divisor;
        }
      }
    dx[i] = sum;
  }
}

} // namespace

void pool2d(const float *x, float *y, const Pool2dParams &params) {
  check_params(params);
  const int64_t total = params.batch * params.channels * params.out_height * params.out_width;
  if (total == 0)
    return;
  pool2d_kernel<<<blocks_for(total), kBlockSize>>>(x, y, params);
  CLEAVE_CUDA_CHECK_LAUNCH();
}

void pool2d_grad(const float *x, const float *dy, float *dx, const Pool2dParams &params) {
  check_params(params);
  const int64_t total = params.batch * params.channels * params.in_height * params.in_width;
  if (total == 0)
    return;
  pool2d_grad_kernel<<<blocks_for(total), kBlockSize>>>(x, dy, dx, params);
  CLEAVE_CUDA_CHECK_LAUNCH();
}

} // namespace cleave::rt::cuda
