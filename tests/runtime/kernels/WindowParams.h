//===- WindowParams.h - conv2d / pool2d parameters for the kernel tests ---===//
//
// The cpu tests and the cuda-against-cpu tests build the same parameter
// structs from the same case lists; both take them from here so that the
// cases (and the output extents derived from them) are written once.
//
//===----------------------------------------------------------------------===//
#ifndef CLEAVE_TESTS_RUNTIME_KERNELS_WINDOWPARAMS_H
#define CLEAVE_TESTS_RUNTIME_KERNELS_WINDOWPARAMS_H

#include "cleave/rt/kernels.h"

#include <cstdint>
#include <vector>

namespace cleave::rt::test {

/// The Conv2dParams for the given sizes, with output extents filled in.
/// `padding` is {top, left, bottom, right}.
inline cpu::Conv2dParams conv_params(int64_t batch, int64_t channels, int64_t height, int64_t width,
                                     int64_t filters, int64_t kernel_h, int64_t kernel_w,
                                     int64_t stride_h, int64_t stride_w,
                                     std::vector<int64_t> padding, int64_t dilation_h,
                                     int64_t dilation_w, int64_t groups) {
  cpu::Conv2dParams p{batch,      channels,   height,     width,      filters,    0,
                      0,          kernel_h,   kernel_w,   stride_h,   stride_w,   padding[0],
                      padding[1], padding[2], padding[3], dilation_h, dilation_w, groups};
  p.out_height = cpu::window_output_size(height, kernel_h, stride_h, p.pad_top, p.pad_bottom,
                                         dilation_h, false);
  p.out_width = cpu::window_output_size(width, kernel_w, stride_w, p.pad_left, p.pad_right,
                                        dilation_w, false);
  return p;
}

/// The Pool2dParams for the given sizes, with output extents filled in.
/// `padding` is {top, left, bottom, right}.
inline cpu::Pool2dParams pool_params(cpu::PoolKind kind, int64_t batch, int64_t channels,
                                     int64_t height, int64_t width, int64_t kernel_h,
                                     int64_t kernel_w, int64_t stride_h, int64_t stride_w,
                                     std::vector<int64_t> padding, bool ceil_mode,
                                     bool count_include_pad) {
  cpu::Pool2dParams p{
      kind,       batch,     channels,         height,   width,      0,          0,
      kernel_h,   kernel_w,  stride_h,         stride_w, padding[0], padding[1], padding[2],
      padding[3], ceil_mode, count_include_pad};
  p.out_height =
      cpu::window_output_size(height, kernel_h, stride_h, p.pad_top, p.pad_bottom, 1, ceil_mode);
  p.out_width =
      cpu::window_output_size(width, kernel_w, stride_w, p.pad_left, p.pad_right, 1, ceil_mode);
  return p;
}

inline int64_t input_count(const cpu::Conv2dParams &p) {
  return p.batch * p.in_channels * p.in_height * p.in_width;
}
inline int64_t filter_count(const cpu::Conv2dParams &p) {
  return p.out_channels * (p.in_channels / p.groups) * p.kernel_height * p.kernel_width;
}
inline int64_t output_count(const cpu::Conv2dParams &p) {
  return p.batch * p.out_channels * p.out_height * p.out_width;
}
inline int64_t input_count(const cpu::Pool2dParams &p) {
  return p.batch * p.channels * p.in_height * p.in_width;
}
inline int64_t output_count(const cpu::Pool2dParams &p) {
  return p.batch * p.channels * p.out_height * p.out_width;
}

/// A pooling window over an input, without the options that change its
/// result (kind, ceil_mode, count_include_pad).
struct PoolShape {
  int64_t batch, channels, height, width, kernel_h, kernel_w, stride_h, stride_w;
  std::vector<int64_t> padding;
};

/// Every combination of kind, ceil_mode and count_include_pad on each shape.
inline std::vector<cpu::Pool2dParams> pool_option_cases(const std::vector<PoolShape> &shapes) {
  std::vector<cpu::Pool2dParams> cases;
  for (cpu::PoolKind kind : {cpu::PoolKind::max, cpu::PoolKind::avg})
    for (bool ceil_mode : {false, true})
      for (bool include_pad : {false, true})
        for (const PoolShape &s : shapes)
          cases.push_back(pool_params(kind, s.batch, s.channels, s.height, s.width, s.kernel_h,
                                      s.kernel_w, s.stride_h, s.stride_w, s.padding, ceil_mode,
                                      include_pad));
  return cases;
}

} // namespace cleave::rt::test

#endif // CLEAVE_TESTS_RUNTIME_KERNELS_WINDOWPARAMS_H
