//===- pool.cpp - the plan of 2-D pooling ----------------------------------===//

#include "cleave/rt/kernels/pool.h"
#include "cleave/rt/kernels/sizes.h"

namespace cleave::rt::kernels {

CheckFailure check_pool2d(const Pool2dParams &p) {
  PLAN_CHECK(p.kind == PoolKind::max || p.kind == PoolKind::avg, "unknown pool kind");
  PLAN_CHECK(p.batch >= 0 && p.channels >= 0 && p.in_height >= 0 && p.in_width >= 0 &&
                 p.kernel_height >= 1 && p.kernel_width >= 1 && p.stride_height >= 1 &&
                 p.stride_width >= 1,
             "bad pool2d sizes");
  PLAN_CHECK(p.pad_top >= 0 && p.pad_left >= 0 && p.pad_bottom >= 0 && p.pad_right >= 0,
             "negative pool2d padding");
  PLAN_CHECK(p.out_height == window_output_size(p.in_height, p.kernel_height, p.stride_height,
                                                p.pad_top, p.pad_bottom, 1, p.ceil_mode) &&
                 p.out_width == window_output_size(p.in_width, p.kernel_width, p.stride_width,
                                                   p.pad_left, p.pad_right, 1, p.ceil_mode),
             "pool2d output extents disagree with the window");
  return {};
}

} // namespace cleave::rt::kernels
