//===- rank_order_reduce.h - the rounds' combine, in group-rank order -----===//
//
// Private to cleave_rt_comm: how the MPI communicator's rank-order rounds
// (mpi_communicator.cpp) combine the blocks each rank received.
//
//===----------------------------------------------------------------------===//
#ifndef CLEAVE_RT_COMM_RANK_ORDER_REDUCE_H
#define CLEAVE_RT_COMM_RANK_ORDER_REDUCE_H

#include "cleave/rt/comm.h"

#include <cstring>

namespace cleave::rt {
namespace {

/// Combines `n` blocks of `count` elements, `stride` apart, into `out` in
/// block order. Block-outer, element-inner: each element still sees
/// ((b0 op b1) op b2) op ..., and the inner loop vectorises.
template <typename T, typename Op>
void combine_in_rank_order(T *out, const T *blocks, int n, int64_t stride, int64_t count, Op op) {
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
void reduce_in_rank_order(T *out, const T *blocks, int n, int64_t stride, int64_t count,
                          CommReduction reduction) {
  switch (reduction) {
  case CommReduction::sum:
    combine_in_rank_order(out, blocks, n, stride, count, [](T a, T b) { return a + b; });
    return;
  case CommReduction::max:
    combine_in_rank_order(out, blocks, n, stride, count,
                          [](T a, T b) { return (b > a || b != b) ? b : a; });
    return;
  case CommReduction::min:
    combine_in_rank_order(out, blocks, n, stride, count,
                          [](T a, T b) { return (b < a || b != b) ? b : a; });
    return;
  }
}

void reduce_in_rank_order(void *out, const void *blocks, int n, int64_t stride, int64_t count,
                          CommElement element, CommReduction reduction) {
  if (element == CommElement::f32)
    reduce_in_rank_order(static_cast<float *>(out), static_cast<const float *>(blocks), n, stride,
                         count, reduction);
  else
    reduce_in_rank_order(static_cast<int64_t *>(out), static_cast<const int64_t *>(blocks), n,
                         stride, count, reduction);
}

} // namespace
} // namespace cleave::rt

#endif // CLEAVE_RT_COMM_RANK_ORDER_REDUCE_H
