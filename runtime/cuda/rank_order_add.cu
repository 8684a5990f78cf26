//===- rank_order_add.cu - n blocks combined in rank order -----------------===//
#include "rank_order_add.h"

#include "cleave/rt/cuda_check.h"

#include <algorithm>

namespace cleave::rt::cuda::detail {
namespace {

struct Add {
  template <typename T> __device__ T operator()(T a, T b) const { return a + b; }
};
// `b != b` is the NaN test: NaN wins, as in the host loop (mpi_communicator.cpp).
struct Max {
  template <typename T> __device__ T operator()(T a, T b) const {
    return (b > a || b != b) ? b : a;
  }
};
struct Min {
  template <typename T> __device__ T operator()(T a, T b) const {
    return (b < a || b != b) ? b : a;
  }
};

template <typename T, typename Op>
__global__ void combine_blocks(T *out, const T *blocks, int n, int64_t stride, int64_t count,
                               Op op) {
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < count;
       i += int64_t(gridDim.x) * blockDim.x) {
    // One accumulator per element, blocks in rank order: plain IEEE adds
    // (nothing to contract into an FMA), like the host loop.
    T acc = blocks[i];
    for (int r = 1; r < n; ++r)
      acc = op(acc, blocks[r * stride + i]);
    out[i] = acc;
  }
}

template <typename T>
void launch(T *out, const T *blocks, int n, int64_t stride, int64_t count, CommReduction reduction,
            cudaStream_t stream) {
  constexpr int kThreads = 256;
  const int grid = static_cast<int>(std::min<int64_t>((count + kThreads - 1) / kThreads, 65535));
  switch (reduction) {
  case CommReduction::sum:
    combine_blocks<<<grid, kThreads, 0, stream>>>(out, blocks, n, stride, count, Add{});
    break;
  case CommReduction::max:
    combine_blocks<<<grid, kThreads, 0, stream>>>(out, blocks, n, stride, count, Max{});
    break;
  case CommReduction::min:
    combine_blocks<<<grid, kThreads, 0, stream>>>(out, blocks, n, stride, count, Min{});
    break;
  }
}

} // namespace

void reduce_in_rank_order(void *out, const void *blocks, int n, int64_t stride, int64_t count,
                          CommElement element, CommReduction reduction, cudaStream_t stream) {
  if (count == 0)
    return;
  if (element == CommElement::f32)
    launch(static_cast<float *>(out), static_cast<const float *>(blocks), n, stride, count,
           reduction, stream);
  else
    launch(static_cast<int64_t *>(out), static_cast<const int64_t *>(blocks), n, stride, count,
           reduction, stream);
  CLEAVE_CUDA_CHECK(cudaGetLastError());
}

} // namespace cleave::rt::cuda::detail
