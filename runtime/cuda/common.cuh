//===- common.cuh - helpers shared by the CUDA kernels ---------------------===//
//
// Argument checks, launch sizes, warp and block reductions, the plans'
// strided N-d views (passed to kernels by value), and the library's
// per-device state (cuBLAS handle, scratch buffer). Internal to runtime/cuda.
//
//===----------------------------------------------------------------------===//
#ifndef CLEAVE_RT_CUDA_COMMON_CUH
#define CLEAVE_RT_CUDA_COMMON_CUH

#include "cleave/rt/check.h"
#include "cleave/rt/cuda_kernels.h"
#include "cleave/rt/kernels/shape.h"

#include <cmath>
#include <cstdint>
#include <limits>
#include <type_traits>

namespace cleave::rt::cuda {
namespace detail {

/// KERNEL_CHECK's report (cleave/rt/check.h) for a failure that arrives as
/// data rather than at the check itself (a kernel plan's CheckFailure): the
/// same message and exit status, without the kernel's name.
[[noreturn]] inline void kernel_check_failed(const char *file, int line, const char *condition,
                                             const char *message) {
  ::cleave::rt::detail::kernel_check_failed(file, line, nullptr, condition, message);
}

/// A device buffer of at least `bytes` for one kernel's temporaries,
/// valid until the next call (stream order keeps users apart; growing it
/// frees the old one only after the device is idle). Never null.
void *scratch(int64_t bytes);

/// Multiprocessors of the current device (cached per device).
int multiprocessors();

} // namespace detail

/// After every launch: a bad configuration shows here, not three kernels later.
#define CLEAVE_CUDA_CHECK_LAUNCH() CLEAVE_CUDA_CHECK(cudaGetLastError())

constexpr int kWarpSize = 32;
/// Threads per block of the elementwise kernels: enough warps to hide
/// memory latency, small enough to leave room for other blocks.
constexpr int kBlockSize = 256;
/// Grid-stride kernels need no more blocks than this to fill any GPU; the
/// cap keeps the grid inside CUDA's limits for huge tensors.
constexpr int64_t kMaxBlocks = int64_t{1} << 16;

__host__ __device__ inline int64_t ceil_div(int64_t a, int64_t b) { return (a + b - 1) / b; }
__host__ __device__ inline int64_t min64(int64_t a, int64_t b) { return a < b ? a : b; }

/// Blocks for a grid-stride loop over n items, `per_block` per block.
inline unsigned blocks_for(int64_t n, int64_t per_block = kBlockSize) {
  const int64_t blocks = ceil_div(n, per_block);
  return static_cast<unsigned>(blocks < 1 ? 1 : blocks > kMaxBlocks ? kMaxBlocks : blocks);
}

/// Grid-stride loop index helpers.
__device__ inline int64_t global_thread() {
  return static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
}
__device__ inline int64_t grid_threads() { return static_cast<int64_t>(gridDim.x) * blockDim.x; }

/// output[i] = value for i < n (grid-stride).
template <typename T> __global__ void fill_kernel(T *output, int64_t n, T value) {
  for (int64_t i = global_thread(); i < n; i += grid_threads())
    output[i] = value;
}

template <typename T> void fill(T *output, int64_t n, T value) {
  if (n <= 0)
    return;
  fill_kernel<T><<<blocks_for(n), kBlockSize>>>(output, n, value);
  CLEAVE_CUDA_CHECK_LAUNCH();
}

//===----------------------------------------------------------------------===//
// Combining functions (the reduction operators)
//===----------------------------------------------------------------------===//

template <typename T> struct Sum {
  __host__ __device__ static T identity() { return T(0); }
  __device__ T operator()(T a, T b) const { return a + b; }
};
template <typename T> struct Prod {
  __host__ __device__ static T identity() { return T(1); }
  __device__ T operator()(T a, T b) const { return a * b; }
};
// The kernels reduce float and int64 only (kernels.h), hence the identities.
// `b != b` is the NaN test: once a NaN is in, no comparison replaces it,
// so NaN propagates as in PyTorch and the CPU kernels.
template <typename T> struct Max {
  __host__ __device__ static T identity() {
    if constexpr (std::is_floating_point_v<T>)
      return -INFINITY;
    else
      return INT64_MIN;
  }
  __device__ T operator()(T a, T b) const { return (b > a || b != b) ? b : a; }
};
template <typename T> struct Min {
  __host__ __device__ static T identity() {
    if constexpr (std::is_floating_point_v<T>)
      return INFINITY;
    else
      return INT64_MAX;
  }
  __device__ T operator()(T a, T b) const { return (b < a || b != b) ? b : a; }
};
/// Softmax's max: skips NaN (a NaN still poisons the line through exp).
struct MaxSkipNan {
  __device__ float operator()(float a, float b) const { return b > a ? b : a; }
};

//===----------------------------------------------------------------------===//
// Warp and block reductions
//===----------------------------------------------------------------------===//

/// Every lane gets the combination of all 32 lanes' values (butterfly).
template <typename T, typename Combine> __device__ T warp_reduce(T value, Combine combine) {
  for (int offset = kWarpSize / 2; offset > 0; offset /= 2)
    value = combine(value, __shfl_xor_sync(0xffffffffu, value, offset));
  return value;
}

/// Every thread of a 1-D block (a multiple of 32 threads, at most 1024) gets
/// the combination of all threads' values. Always combines in the same
/// tree, so results are deterministic. Safe to call repeatedly.
template <typename T, typename Combine>
__device__ T block_reduce(T value, Combine combine, T identity) {
  __shared__ T partial[kWarpSize];
  const int lane = threadIdx.x % kWarpSize, warp = threadIdx.x / kWarpSize;
  const int warps = blockDim.x / kWarpSize;
  value = warp_reduce(value, combine);
  __syncthreads(); // an earlier call's readers of `partial` are done
  if (lane == 0)
    partial[warp] = value;
  __syncthreads();
  value = lane < warps ? partial[lane] : identity;
  return warp_reduce(value, combine);
}

//===----------------------------------------------------------------------===//
// Cooperating groups: who works on one "line" of a row-wise kernel
//===----------------------------------------------------------------------===//
// Row-wise kernels (softmax, layer norm, cross-entropy) are written once over
// a group of `size()` threads that share a line; the launch picks the group:
// a whole block for long lines, a warp for short ones, one thread for lines
// strided in memory (where neighbouring threads take neighbouring lines, so
// their loads coalesce). All threads of a group run the same number of
// loop iterations, so the block-wide barriers inside reduce() are uniform.

struct ThreadGroup {
  __device__ int rank() const { return 0; }
  __device__ int size() const { return 1; }
  __device__ int64_t first() const { return global_thread(); }
  __device__ int64_t stride() const { return grid_threads(); }
  template <typename T, typename Combine> __device__ T reduce(T value, Combine, T) const {
    return value;
  }
  static int64_t lines_per_block(int threads) { return threads; }
};

struct WarpGroup {
  __device__ int rank() const { return threadIdx.x % kWarpSize; }
  __device__ int size() const { return kWarpSize; }
  __device__ int64_t first() const { return global_thread() / kWarpSize; }
  __device__ int64_t stride() const { return grid_threads() / kWarpSize; }
  template <typename T, typename Combine> __device__ T reduce(T value, Combine combine, T) const {
    return warp_reduce(value, combine);
  }
  static int64_t lines_per_block(int threads) { return threads / kWarpSize; }
};

struct BlockGroup {
  __device__ int rank() const { return threadIdx.x; }
  __device__ int size() const { return blockDim.x; }
  __device__ int64_t first() const { return blockIdx.x; }
  __device__ int64_t stride() const { return gridDim.x; }
  template <typename T, typename Combine>
  __device__ T reduce(T value, Combine combine, T identity) const {
    return block_reduce(value, combine, identity);
  }
  static int64_t lines_per_block(int) { return 1; }
};

/// Lines at most this long go to a warp, longer ones to a block.
constexpr int64_t kWarpLineLimit = 1024;
/// Threads of a block that works on one long line.
constexpr int kLineBlockSize = 512;

/// Calls launch(group, blocks, threads) with the group that suits `lines`
/// lines of n elements `inner` apart (inner == 1: contiguous rows), then
/// checks the launch. Nothing runs when there is no element.
template <typename Launch> void for_lines(int64_t lines, int64_t n, int64_t inner, Launch launch) {
  if (lines <= 0 || n <= 0)
    return;
  if (inner > 1)
    launch(ThreadGroup{}, blocks_for(lines, kBlockSize), kBlockSize);
  else if (n <= kWarpLineLimit)
    launch(WarpGroup{}, blocks_for(lines, kBlockSize / kWarpSize), kBlockSize);
  else
    launch(BlockGroup{}, blocks_for(lines, 1), kLineBlockSize);
  CLEAVE_CUDA_CHECK_LAUNCH();
}

// Strided N-d views (passed to kernels by value) and their helpers are the
// plans' (cleave/rt/kernels/shape.h).
using kernels::contiguous_strides;
using kernels::product;
using kernels::StridedShape;

} // namespace cleave::rt::cuda

#endif // CLEAVE_RT_CUDA_COMMON_CUH
