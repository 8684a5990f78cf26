//===- pool.h - the plan and window arithmetic of 2-D pooling --------------===//
//
// The window arithmetic follows PyTorch's aten AvgPool2d / MaxPool2d, so
// that ceil_mode and count_include_pad divide by the same counts. It is
// written once here for both backends: the CPU kernels call it on the
// host, the CUDA kernels on the device.
//
//===----------------------------------------------------------------------===//
#ifndef CLEAVE_RT_KERNELS_POOL_H
#define CLEAVE_RT_KERNELS_POOL_H

#include "cleave/rt/kernels/check.h"
#include "cleave/rt/kernels/host_device.h"
#include "cleave/rt/kernels/types.h"

#include <cmath>
#include <cstdint>

namespace cleave::rt::kernels {

/// Checks pool2d's and pool2d_grad's parameters.
CheckFailure check_pool2d(const Pool2dParams &params);

/// The input rows [h_begin, h_end) and columns [w_begin, w_end) of one
/// output, and the average's divisor.
struct PoolWindow {
  int64_t h_begin, h_end, w_begin, w_end;
  float divisor;
};

/// The window of output (oh, ow).
CLEAVE_HOST_DEVICE inline PoolWindow pool_window(const Pool2dParams &p, int64_t oh, int64_t ow) {
  PoolWindow w;
  w.h_begin = oh * p.stride_height - p.pad_top;
  w.w_begin = ow * p.stride_width - p.pad_left;
  // First clip to the padded input: in ceil mode the last window may stick
  // out past it, and that part counts even with count_include_pad.
  const int64_t padded_h_end = p.in_height + p.pad_bottom, padded_w_end = p.in_width + p.pad_right;
  w.h_end = w.h_begin + p.kernel_height < padded_h_end ? w.h_begin + p.kernel_height : padded_h_end;
  w.w_end = w.w_begin + p.kernel_width < padded_w_end ? w.w_begin + p.kernel_width : padded_w_end;
  const int64_t padded_count = (w.h_end - w.h_begin) * (w.w_end - w.w_begin);
  w.h_begin = w.h_begin > 0 ? w.h_begin : 0;
  w.w_begin = w.w_begin > 0 ? w.w_begin : 0;
  w.h_end = w.h_end < p.in_height ? w.h_end : p.in_height;
  w.w_end = w.w_end < p.in_width ? w.w_end : p.in_width;
  const int64_t heights = w.h_end > w.h_begin ? w.h_end - w.h_begin : 0;
  const int64_t widths = w.w_end > w.w_begin ? w.w_end - w.w_begin : 0;
  w.divisor = static_cast<float>(p.count_include_pad ? padded_count : heights * widths);
  return w;
}

/// Plane offset of the window's first maximum, PyTorch's way: a later
/// element wins only when strictly greater, or NaN. An all -inf (or empty)
/// window answers its first element.
CLEAVE_HOST_DEVICE inline int64_t pool_argmax(const float *plane, const PoolWindow &w,
                                              int64_t width, float *max) {
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

/// The sum over the window (the average's numerator).
CLEAVE_HOST_DEVICE inline float pool_window_sum(const float *plane, const PoolWindow &w,
                                                int64_t width) {
  float sum = 0.0f;
  for (int64_t h = w.h_begin; h < w.h_end; ++h)
    for (int64_t c = w.w_begin; c < w.w_end; ++c)
      sum += plane[h * width + c];
  return sum;
}

/// The pooled value of output (oh, ow) of one (image, channel) plane.
CLEAVE_HOST_DEVICE inline float pool_output(const Pool2dParams &p, const float *plane, int64_t oh,
                                            int64_t ow) {
  const PoolWindow w = pool_window(p, oh, ow);
  if (p.kind == PoolKind::max) {
    float max;
    pool_argmax(plane, w, p.in_width, &max);
    return max;
  }
  return w.divisor > 0 ? pool_window_sum(plane, w, p.in_width) / w.divisor : 0.0f;
}

} // namespace cleave::rt::kernels

#endif // CLEAVE_RT_KERNELS_POOL_H
