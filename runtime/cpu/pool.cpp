//===- pool.cpp - 2-D max and average pooling, forward and backward -------===//
//
// Window arithmetic follows PyTorch's CPU kernels (aten AvgPool2d /
// MaxPool2d) so that ceil_mode and count_include_pad divide by the same
// counts. One (image, channel) plane per work item: the backward pass only
// ever adds into its own plane, so the planes never race.
//
//===----------------------------------------------------------------------===//

#include "cleave/rt/kernels.h"

#include "check.h"
#include "parallel.h"

#include <algorithm>
#include <cmath>
#include <cstring>

namespace cleave::rt::cpu {
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

/// Elements a pooling pass reads: every output scans its window.
int64_t work(const Pool2dParams &p) {
  return p.batch * p.channels * p.out_height * p.out_width * p.kernel_height * p.kernel_width;
}

/// The input rows [h_begin, h_end) and columns [w_begin, w_end) of output
/// (oh, ow), and the average's divisor.
struct Window {
  int64_t h_begin, h_end, w_begin, w_end;
  float divisor;
};

Window window_at(const Pool2dParams &p, int64_t oh, int64_t ow) {
  Window w;
  w.h_begin = oh * p.stride_height - p.pad_top;
  w.w_begin = ow * p.stride_width - p.pad_left;
  // First clip to the padded input: in ceil mode the last window may stick
  // out past it, and that part counts even with count_include_pad.
  w.h_end = std::min(w.h_begin + p.kernel_height, p.in_height + p.pad_bottom);
  w.w_end = std::min(w.w_begin + p.kernel_width, p.in_width + p.pad_right);
  const int64_t padded_count = (w.h_end - w.h_begin) * (w.w_end - w.w_begin);
  w.h_begin = std::max<int64_t>(w.h_begin, 0);
  w.w_begin = std::max<int64_t>(w.w_begin, 0);
  w.h_end = std::min(w.h_end, p.in_height);
  w.w_end = std::min(w.w_end, p.in_width);
  const int64_t inside_count =
      std::max<int64_t>(w.h_end - w.h_begin, 0) * std::max<int64_t>(w.w_end - w.w_begin, 0);
  w.divisor = static_cast<float>(p.count_include_pad ? padded_count : inside_count);
  return w;
}

/// Plane offset of the window's first maximum, PyTorch's way: a later
/// element wins only when strictly greater, or NaN. An all -inf (or empty)
/// window answers its first element.
int64_t argmax(const float *plane, const Window &w, int64_t width, float *max) {
  int64_t best = w.h_begin * width + w.w_begin;
  float best_value = -INFINITY;
  for (int64_t h = w.h_begin; h < w.h_end; ++h)
    for (int64_t c = w.w_begin; c < w.w_end; ++c) {
      const float value = plane[h * width + c];
      if (value > best_value || std::isnan(value)) {
        best_value = value;
        best = h * width + c;
      }
    }
  *max = best_value;
  return best;
}

float window_sum(const float *plane, const Window &w, int64_t width) {
  float sum = 0.0f;
  for (int64_t h = w.h_begin; h < w.h_end; ++h)
    for (int64_t c = w.w_begin; c < w.w_end; ++c)
      sum += plane[h * width + c];
  return sum;
}

} // namespace

void pool2d(const float *x, float *y, const Pool2dParams &params) {
  check_params(params);
  const int64_t in_plane = params.in_height * params.in_width;
  const int64_t out_plane = params.out_height * params.out_width;
#pragma omp parallel for schedule(static) if (worth_parallel(work(params)))
  for (int64_t plane = 0; plane < params.batch * params.channels; ++plane) {
    const float *in = x + plane * in_plane;
    float *out = y + plane * out_plane;
    for (int64_t oh = 0; oh < params.out_height; ++oh)
      for (int64_t ow = 0; ow < params.out_width; ++ow) {
        const Window w = window_at(params, oh, ow);
        float value;
        if (params.kind == PoolKind::max)
          argmax(in, w, params.in_width, &value);
        else
          value = w.divisor > 0 ? window_sum(in, w, params.in_width) / w.divisor : 0.0f;
        out[oh * params.out_width + ow] = value;
      }
  }
}

void pool2d_grad(const float *x, const float *dy, float *dx, const Pool2dParams &params) {
  check_params(params);
  const int64_t in_plane = params.in_height * params.in_width;
  const int64_t out_plane = params.out_height * params.out_width;
#pragma omp parallel for schedule(static) if (worth_parallel(work(params)))
  for (int64_t plane = 0; plane < params.batch * params.channels; ++plane) {
    const float *in = x + plane * in_plane;
    const float *grad = dy + plane * out_plane;
    float *out = dx + plane * in_plane;
    std::memset(out, 0, in_plane * sizeof(float));
    for (int64_t oh = 0; oh < params.out_height; ++oh)
      for (int64_t ow = 0; ow < params.out_width; ++ow) {
        const Window w = window_at(params, oh, ow);
        const float g = grad[oh * params.out_width + ow];
        if (params.kind == PoolKind::max) {
          float max;
          if (w.h_begin < w.h_end && w.w_begin < w.w_end)
            out[argmax(in, w, params.in_width, &max)] += g;
          continue;
        }
        if (w.divisor <= 0)
          continue;
        const float share = g / w.divisor;
        for (int64_t h = w.h_begin; h < w.h_end; ++h)
          for (int64_t c = w.w_begin; c < w.w_end; ++c)
            out[h * params.in_width + c] += share;
      }
  }
}

} // namespace cleave::rt::cpu
