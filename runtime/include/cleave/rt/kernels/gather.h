//===- gather.h - the plan of gather and scatter_add -----------------------===//
#ifndef CLEAVE_RT_KERNELS_GATHER_H
#define CLEAVE_RT_KERNELS_GATHER_H

#include "cleave/rt/kernels/check.h"
#include "cleave/rt/kernels/host_device.h"

#include <cstdint>

namespace cleave::rt::kernels {

CheckFailure check_gather(int64_t outer, int64_t axis_size, int64_t count, int64_t inner,
                          int64_t element_bytes);
CheckFailure check_scatter_add(int64_t outer, int64_t axis_size, int64_t count, int64_t inner);

/// The slice an ONNX index selects, or -1 when it lies outside
/// [-axis_size, axis_size) (bad data: the kernels flag it and go on).
template <typename Index>
CLEAVE_HOST_DEVICE inline int64_t resolve_index(Index index, int64_t axis_size) {
  const int64_t i = static_cast<int64_t>(index);
  if (i < -axis_size || i >= axis_size)
    return -1;
  return i < 0 ? i + axis_size : i;
}

} // namespace cleave::rt::kernels

#endif // CLEAVE_RT_KERNELS_GATHER_H
