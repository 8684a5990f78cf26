//===- sizes.cpp - output extents of sliding windows -----------------------===//

#include "cleave/rt/kernels/sizes.h"

namespace cleave::rt::kernels {

int64_t window_output_size(int64_t input, int64_t window, int64_t stride, int64_t pad_before,
                           int64_t pad_after, int64_t dilation, bool ceil_mode) {
  const int64_t span = dilation * (window - 1) + 1;
  const int64_t room = input + pad_before + pad_after - span;
  if (room < 0)
    return 0;
  int64_t outputs = (ceil_mode ? (room + stride - 1) / stride : room / stride) + 1;
  // In ceil mode a last window that would start inside the trailing padding
  // does not count.
  if (ceil_mode && (outputs - 1) * stride >= input + pad_before)
    --outputs;
  return outputs;
}

} // namespace cleave::rt::kernels
