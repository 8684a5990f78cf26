//===- rank_order_add.cu - n blocks added in rank order --------------------===//
#include "rank_order_add.h"

#include "cleave/rt/cuda_check.h"

#include <algorithm>

namespace cleave::rt::cuda::detail {
namespace {

template <typename T>
__global__ void add_blocks(T *out, const T *blocks, int n, int64_t stride, int64_t count) {
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < count;
       i += int64_t(gridDim.x) * blockDim.x) {
    // One accumulator per element, blocks in rank order: plain IEEE adds
    // (nothing to contract into an FMA), like the host loop.
    T sum = blocks[i];
    for (int r = 1; r < n; ++r)
      sum += blocks[r * stride + i];
    out[i] = sum;
  }
}

} // namespace

void add_in_rank_order(void *out, const void *blocks, int n, int64_t stride, int64_t count,
                       CommElement element) {
  if (count == 0)
    return;
  constexpr int kThreads = 256;
  const int grid = static_cast<int>(std::min<int64_t>((count + kThreads - 1) / kThreads, 65535));
  if (element == CommElement::f32)
    add_blocks<<<grid, kThreads>>>(static_cast<float *>(out), static_cast<const float *>(blocks),
                                   n, stride, count);
  else
    add_blocks<<<grid, kThreads>>>(static_cast<int64_t *>(out),
                                   static_cast<const int64_t *>(blocks), n, stride, count);
  CLEAVE_CUDA_CHECK(cudaGetLastError());
}

} // namespace cleave::rt::cuda::detail
