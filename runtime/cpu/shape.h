//===- shape.h - walking N-d shapes in the CPU kernels ---------------------===//
//
// The N-d kernels (reduce, transpose, broadcast, slice) get simplified
// shapes from their plans (cleave/rt/kernels) -- size-1 dimensions dropped,
// neighbours that stay contiguous merged -- so that most real cases become
// 1-3 dimensional loops, then walk the rest with an odometer.
//
//===----------------------------------------------------------------------===//
#ifndef CLEAVE_RT_CPU_SHAPE_H
#define CLEAVE_RT_CPU_SHAPE_H

#include "cleave/rt/kernels.h"
#include "cleave/rt/kernels/shape.h"

#include <cstdint>

namespace cleave::rt::cpu {

using kernels::product;
using kernels::StridedShape;

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

} // namespace cleave::rt::cpu

#endif // CLEAVE_RT_CPU_SHAPE_H
