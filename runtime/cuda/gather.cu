//===- gather.cu - ONNX Gather and its gradient (scatter-add) --------------===//
//
// One thread per element of the gathered slices (so a warp copies 32
// consecutive elements of one slice). Elements move as 1-, 2-, 4- or 8-byte
// words when element_bytes is one of those, byte by byte otherwise. The
// gradient adds with atomicAdd: repeated indices (a token seen twice in a
// batch) meet in the same output row, in no fixed order.
//
//===----------------------------------------------------------------------===//

#include "common.cuh"
#include "require.cuh"

#include "cleave/rt/kernels/gather.h"

namespace cleave::rt::cuda {
namespace {

using kernels::resolve_index;

/// Bad data, not a bad call: flag it and go on (every writer stores 1, so
/// the race between them is harmless).
__device__ inline void flag_invalid(int32_t *invalid_flag) {
  if (invalid_flag)
    *invalid_flag = 1;
}

/// Where element i of the gathered [outer, count, inner] tensor lives in the
/// [outer, axis_size, inner] one; -1 for an index out of range, flagged.
template <typename Index>
__device__ int64_t gathered_from(int64_t i, const Index *indices, int64_t axis_size, int64_t count,
                                 int64_t inner, int32_t *invalid_flag) {
  const int64_t item = i / inner, within = i % inner;
  const int64_t o = item / count, j = item % count;
  const int64_t selected = resolve_index(indices[j], axis_size);
  if (selected < 0) {
    flag_invalid(invalid_flag);
    return -1;
  }
  return (o * axis_size + selected) * inner + within;
}

/// Word: the unit one thread copies; `words` of them make one element.
template <typename Word, typename Index>
__global__ void gather_kernel(const Word *input, const Index *indices, Word *output, int64_t outer,
                              int64_t axis_size, int64_t count, int64_t inner,
                              int32_t *invalid_flag) {
  const int64_t total = outer * count * inner;
  for (int64_t i = global_thread(); i < total; i += grid_threads()) {
    const int64_t from = gathered_from(i, indices, axis_size, count, inner, invalid_flag);
    output[i] = from < 0 ? Word(0) : input[from];
  }
}

template <typename Index>
__global__ void scatter_add_kernel(const float *updates, const Index *indices, float *output,
                                   int64_t outer, int64_t axis_size, int64_t count, int64_t inner,
                                   int32_t *invalid_flag) {
  const int64_t total = outer * count * inner;
  for (int64_t i = global_thread(); i < total; i += grid_threads()) {
    const int64_t to = gathered_from(i, indices, axis_size, count, inner, invalid_flag);
    if (to >= 0)
      atomicAdd(&output[to], updates[i]);
  }
}

template <typename Word, typename Index>
void launch_gather(const void *input, const Index *indices, void *output, int64_t outer,
                   int64_t axis_size, int64_t count, int64_t inner, int32_t *invalid_flag) {
  const int64_t total = outer * count * inner;
  gather_kernel<Word, Index><<<blocks_for(total), kBlockSize>>>(
      static_cast<const Word *>(input), indices, static_cast<Word *>(output), outer, axis_size,
      count, inner, invalid_flag);
  CLEAVE_CUDA_CHECK_LAUNCH();
}

template <typename Index>
void gather_typed(const void *input, const Index *indices, void *output, int64_t outer,
                  int64_t axis_size, int64_t count, int64_t inner, int64_t element_bytes,
                  int32_t *invalid_flag) {
  require(kernels::check_gather(outer, axis_size, count, inner, element_bytes));
  if (outer * count * inner == 0)
    return; // nothing to copy (and the buffers may be null)
  // Elements move as unsigned words of their size; `slice` is `inner` in them.
  const auto launch = [&](auto word, int64_t slice) {
    return launch_gather<decltype(word)>(input, indices, output, outer, axis_size, count, slice,
                                         invalid_flag);
  };
  switch (element_bytes) {
  case 1:
    return launch(uint8_t{}, inner);
  case 2:
    return launch(uint16_t{}, inner);
  case 4:
    return launch(uint32_t{}, inner);
  case 8:
    return launch(uint64_t{}, inner);
  default:
    // Any other size: bytes, with the slice widened by the element size.
    return launch(uint8_t{}, inner * element_bytes);
  }
}

template <typename Index>
void scatter_add_typed(const float *updates, const Index *indices, float *output, int64_t outer,
                       int64_t axis_size, int64_t count, int64_t inner, int32_t *invalid_flag) {
  require(kernels::check_scatter_add(outer, axis_size, count, inner));
  const int64_t output_size = outer * axis_size * inner;
  if (output_size > 0)
    CLEAVE_CUDA_CHECK(cudaMemsetAsync(output, 0, output_size * sizeof(float), 0));
  const int64_t total = outer * count * inner;
  if (total == 0)
    return;
  scatter_add_kernel<Index><<<blocks_for(total), kBlockSize>>>(
      updates, indices, output, outer, axis_size, count, inner, invalid_flag);
  CLEAVE_CUDA_CHECK_LAUNCH();
}

} // namespace
} // namespace cleave::rt::cuda

// The kernels of api.inc, defined qualified: a definition that does not
// match its declaration does not compile.
namespace cleave::rt {

void cuda::gather(const void *input, const int64_t *indices, void *output, int64_t outer,
                  int64_t axis_size, int64_t count, int64_t inner, int64_t element_bytes,
                  int32_t *invalid_flag) {
  gather_typed(input, indices, output, outer, axis_size, count, inner, element_bytes, invalid_flag);
}

void cuda::gather(const void *input, const int32_t *indices, void *output, int64_t outer,
                  int64_t axis_size, int64_t count, int64_t inner, int64_t element_bytes,
                  int32_t *invalid_flag) {
  gather_typed(input, indices, output, outer, axis_size, count, inner, element_bytes, invalid_flag);
}

void cuda::scatter_add(const float *updates, const int64_t *indices, float *output, int64_t outer,
                       int64_t axis_size, int64_t count, int64_t inner, int32_t *invalid_flag) {
  scatter_add_typed(updates, indices, output, outer, axis_size, count, inner, invalid_flag);
}

void cuda::scatter_add(const float *updates, const int32_t *indices, float *output, int64_t outer,
                       int64_t axis_size, int64_t count, int64_t inner, int32_t *invalid_flag) {
  scatter_add_typed(updates, indices, output, outer, axis_size, count, inner, invalid_flag);
}

} // namespace cleave::rt
