//===- rank_order.h - combining blocks in group-rank order -----------------===//
//
// The one reduction loop of comm.h's rank-order contract, for the
// communicators that combine on the host (gloo; the MPI communicator has
// its own copy in mpi_communicator.cpp). Private to cleave_rt_comm.
//
//===----------------------------------------------------------------------===//
#ifndef CLEAVE_RT_COMM_RANK_ORDER_H
#define CLEAVE_RT_COMM_RANK_ORDER_H

#include "cleave/rt/comm.h"

#include <cstring>

namespace cleave::rt::rank_order {

/// Combines `n` blocks of `count` elements, `stride` apart, into `out` in
/// block order. Block-outer, element-inner: each element still sees
/// ((b0 op b1) op b2) op ..., and the inner loop vectorises.
template <typename T, typename Op>
void combine(T *out, const T *blocks, int n, int64_t stride, int64_t count, Op op) {
  if (count == 0)
    return;
  std::memmove(out, blocks, static_cast<size_t>(count) * sizeof(T));
  for (int r = 1; r < n; ++r) {
    const T *block = blocks + r * stride;
    for (int64_t i = 0; i < count; ++i)
      out[i] = op(out[i], block[i]);
  }
}

// `value != value` is the NaN test: NaN wins over any number, once it is in
// the accumulator no comparison replaces it (runtime/cpu/reduce.cpp's MaxOp).
template <typename T>
void reduce(T *out, const T *blocks, int n, int64_t stride, int64_t count,
            CommReduction reduction) {
  switch (reduction) {
  case CommReduction::sum:
    combine(out, blocks, n, stride, count, [](T a, T b) { return a + b; });
    return;
  case CommReduction::max:
    combine(out, blocks, n, stride, count, [](T a, T b) { return (b > a || b != b) ? b : a; });
    return;
  case CommReduction::min:
    combine(out, blocks, n, stride, count, [](T a, T b) { return (b < a || b != b) ? b : a; });
    return;
  }
}

inline void reduce(void *out, const void *blocks, int n, int64_t stride, int64_t count,
                   CommElement element, CommReduction reduction) {
  if (element == CommElement::f32)
    reduce(static_cast<float *>(out), static_cast<const float *>(blocks), n, stride, count,
           reduction);
  else
    reduce(static_cast<int64_t *>(out), static_cast<const int64_t *>(blocks), n, stride, count,
           reduction);
}

} // namespace cleave::rt::rank_order

#endif // CLEAVE_RT_COMM_RANK_ORDER_H
