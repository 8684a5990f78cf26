//===- shape.h - N-d shapes and strides for the kernel plans ---------------===//
#ifndef CLEAVE_RT_KERNELS_SHAPE_H
#define CLEAVE_RT_KERNELS_SHAPE_H

#include "cleave/rt/kernels/host_device.h"
#include "cleave/rt/kernels/types.h"

#include <cstdint>

namespace cleave::rt::kernels {

inline int64_t product(const int64_t *sizes, int64_t count) {
  int64_t result = 1;
  for (int64_t i = 0; i < count; ++i)
    result *= sizes[i];
  return result;
}

/// Row-major element strides of a contiguous shape.
inline void contiguous_strides(const int64_t *shape, int64_t rank, int64_t *strides) {
  int64_t stride = 1;
  for (int64_t d = rank - 1; d >= 0; --d) {
    strides[d] = stride;
    stride *= shape[d];
  }
}

/// Up to kMaxRank dimensions with an element stride each (0 repeats an
/// element, as broadcasting does). Small enough to pass to a CUDA kernel by
/// value.
struct StridedShape {
  int64_t rank = 0;
  int64_t sizes[kMaxRank];
  int64_t strides[kMaxRank];

  void push(int64_t size, int64_t stride) {
    sizes[rank] = size;
    strides[rank] = stride;
    ++rank;
  }

  /// Element offset of the row-major linear index `linear` (over sizes).
  CLEAVE_HOST_DEVICE int64_t offset_of(int64_t linear) const {
    int64_t offset = 0;
    for (int64_t d = rank - 1; d >= 0; --d) {
      offset += (linear % sizes[d]) * strides[d];
      linear /= sizes[d];
    }
    return offset;
  }
};

} // namespace cleave::rt::kernels

#endif // CLEAVE_RT_KERNELS_SHAPE_H
