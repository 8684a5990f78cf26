//===- shape.h - N-d index helpers shared by the CPU kernels --------------===//
//
// The N-d kernels (reduce, transpose, broadcast, slice) first simplify their
// shapes -- drop size-1 dimensions, merge neighbours that stay contiguous --
// so that most real cases become 1-3 dimensional loops, then walk the rest
// with an odometer.
//
//===----------------------------------------------------------------------===//
#ifndef CLEAVE_RT_CPU_SHAPE_H
#define CLEAVE_RT_CPU_SHAPE_H

#include "cleave/rt/kernels.h"

#include <cstdint>

namespace cleave::rt::cpu {

inline int64_t product(const int64_t *sizes, int64_t count) {
  int64_t result = 1;
  for (int64_t i = 0; i < count; ++i)
    result *= sizes[i];
  return result;
}

/// A view of up to kMaxRank dimensions: sizes plus an element stride per
/// dimension (0 repeats an element, as broadcasting does).
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
  int64_t offset_of(int64_t linear) const {
    int64_t offset = 0;
    for (int64_t d = rank - 1; d >= 0; --d) {
      offset += (linear % sizes[d]) * strides[d];
      linear /= sizes[d];
    }
    return offset;
  }
};

/// Walks the offsets of a StridedShape in row-major order from a starting
/// linear index, one step at a time (no division per step).
class Odometer {
public:
  Odometer(const StridedShape &shape, int64_t linear) : shape_(shape) {
    for (int64_t d = shape.rank - 1; d >= 0; --d) {
      index_[d] = linear % shape.sizes[d];
      linear /= shape.sizes[d];
    }
    offset_ = 0;
    for (int64_t d = 0; d < shape.rank; ++d)
      offset_ += index_[d] * shape.strides[d];
  }

  int64_t offset() const { return offset_; }

  void next() {
    for (int64_t d = shape_.rank - 1; d >= 0; --d) {
      offset_ += shape_.strides[d];
      if (++index_[d] < shape_.sizes[d])
        return;
      offset_ -= index_[d] * shape_.strides[d];
      index_[d] = 0;
    }
  }

private:
  const StridedShape &shape_;
  int64_t index_[kMaxRank];
  int64_t offset_;
};

/// Row-major element strides of a contiguous shape.
inline void contiguous_strides(const int64_t *shape, int64_t rank, int64_t *strides) {
  int64_t stride = 1;
  for (int64_t d = rank - 1; d >= 0; --d) {
    strides[d] = stride;
    stride *= shape[d];
  }
}

} // namespace cleave::rt::cpu

#endif // CLEAVE_RT_CPU_SHAPE_H
