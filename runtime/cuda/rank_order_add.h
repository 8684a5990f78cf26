//===- rank_order_add.h - the device half of a rank-order reduction --------===//
#ifndef CLEAVE_RT_CUDA_RANK_ORDER_ADD_H
#define CLEAVE_RT_CUDA_RANK_ORDER_ADD_H

#include "cleave/rt/comm.h"

#include <cuda_runtime.h>

#include <cstdint>

namespace cleave::rt::cuda::detail {

/// out[i] = ((b_0[i] op b_1[i]) op b_2[i]) op ... op b_{n-1}[i] for i <
/// count, where b_r = blocks + r * stride elements (f32 or i64) and op is
/// `reduction` (+, or max/min with NaN winning), on `stream` (the NCCL
/// communicator's): the same operations, in the same order, as the MPI
/// communicator's host loop, hence the same bits. `out` may be one of the
/// blocks' elements only when it is block 0's.
void reduce_in_rank_order(void *out, const void *blocks, int n, int64_t stride, int64_t count,
                          CommElement element, CommReduction reduction, cudaStream_t stream);

} // namespace cleave::rt::cuda::detail

#endif // CLEAVE_RT_CUDA_RANK_ORDER_ADD_H
