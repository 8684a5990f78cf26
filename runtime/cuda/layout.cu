//===- layout.cu - transpose, broadcast, slice, concat, iota ---------------===//
//
// Transpose, broadcast, slice and slice_scatter are one operation, as on the
// CPU (runtime/cpu/layout.cpp): a copy between two strided views of the same
// sizes (a source stride of 0 repeats an element). The views are simplified
// the CPU's way (size-1 dimensions dropped, neighbours both views step over
// as one merged), then one thread per element computes both offsets. The
// destination is walked in order, so stores coalesce; loads coalesce too
// whenever the innermost dimension is contiguous in the source (head
// transposes, row broadcasts, column slices). Concat is a 2-D memcpy per
// input.
//
//===----------------------------------------------------------------------===//

#include "common.cuh"

namespace cleave::rt::cuda {
namespace {

/// Two views of the same sizes. One more dimension than a tensor may have:
/// elements of an unusual size are copied as bytes, an extra innermost
/// dimension of element_bytes.
struct CopyPlan {
  int64_t rank = 0;
  int64_t sizes[kMaxRank + 1];
  int64_t source_strides[kMaxRank + 1];
  int64_t destination_strides[kMaxRank + 1];
};

/// Drops size-1 dimensions and merges a dimension into the previous one
/// when both views step over the two as one longer dimension.
CopyPlan simplify(const int64_t *sizes, const int64_t *source_strides,
                  const int64_t *destination_strides, int64_t rank) {
  CopyPlan plan;
  for (int64_t d = 0; d < rank; ++d) {
    if (sizes[d] == 1)
      continue;
    const int64_t last = plan.rank - 1;
    if (last >= 0 && plan.source_strides[last] == source_strides[d] * sizes[d] &&
        plan.destination_strides[last] == destination_strides[d] * sizes[d]) {
      plan.sizes[last] *= sizes[d];
      plan.source_strides[last] = source_strides[d];
      plan.destination_strides[last] = destination_strides[d];
    } else {
      plan.sizes[plan.rank] = sizes[d];
      plan.source_strides[plan.rank] = source_strides[d];
      plan.destination_strides[plan.rank] = destination_strides[d];
      ++plan.rank;
    }
  }
  return plan;
}

template <typename Word>
__global__ void copy_strided_kernel(const Word *source, Word *destination, CopyPlan plan,
                                    int64_t total) {
  for (int64_t i = global_thread(); i < total; i += grid_threads()) {
    int64_t linear = i, from = 0, to = 0;
    for (int64_t d = plan.rank - 1; d >= 0; --d) {
      const int64_t index = linear % plan.sizes[d];
      linear /= plan.sizes[d];
      from += index * plan.source_strides[d];
      to += index * plan.destination_strides[d];
    }
    destination[to] = source[from];
  }
}

template <typename Word>
void launch_copy(const void *source, void *destination, const CopyPlan &plan, int64_t total) {
  copy_strided_kernel<Word><<<blocks_for(total), kBlockSize>>>(
      static_cast<const Word *>(source), static_cast<Word *>(destination), plan, total);
  CLEAVE_CUDA_CHECK_LAUNCH();
}

/// destination[i . destination_strides] = source[i . source_strides] for every
/// index i < sizes (strides in elements).
void copy_strided(const void *source, const int64_t *source_strides, void *destination,
                  const int64_t *destination_strides, const int64_t *sizes, int64_t rank,
                  int64_t element_bytes) {
  const int64_t total = product(sizes, rank);
  if (total == 0)
    return;
  CopyPlan plan = simplify(sizes, source_strides, destination_strides, rank);
  switch (element_bytes) {
  case 1:
    return launch_copy<uint8_t>(source, destination, plan, total);
  case 2:
    return launch_copy<uint16_t>(source, destination, plan, total);
  case 4:
    return launch_copy<uint32_t>(source, destination, plan, total);
  case 8:
    return launch_copy<uint64_t>(source, destination, plan, total);
  default:
    // Strides in bytes, plus the element's bytes as the innermost dimension.
    for (int64_t d = 0; d < plan.rank; ++d) {
      plan.source_strides[d] *= element_bytes;
      plan.destination_strides[d] *= element_bytes;
    }
    plan.sizes[plan.rank] = element_bytes;
    plan.source_strides[plan.rank] = 1;
    plan.destination_strides[plan.rank] = 1;
    ++plan.rank;
    return launch_copy<uint8_t>(source, destination, plan, total * element_bytes);
  }
}

void check_rank(int64_t rank) {
  KERNEL_CHECK(rank >= 0 && rank <= kMaxRank, "tensor rank out of range");
}

void check_element_bytes(int64_t element_bytes) {
  KERNEL_CHECK(element_bytes > 0, "element size must be positive");
}

/// Element strides and base offset of the window starts + i * strides of a
/// tensor of shape `whole`, checking that the window stays inside it.
int64_t window_strides(int64_t rank, const int64_t *whole, const int64_t *starts,
                       const int64_t *strides, const int64_t *window, int64_t *window_strides) {
  int64_t whole_strides[kMaxRank];
  contiguous_strides(whole, rank, whole_strides);
  int64_t offset = 0;
  for (int64_t d = 0; d < rank; ++d) {
    KERNEL_CHECK(strides[d] >= 1, "slice strides must be positive");
    KERNEL_CHECK(window[d] >= 0, "negative slice size");
    KERNEL_CHECK(window[d] == 0 ||
                     (starts[d] >= 0 && starts[d] + (window[d] - 1) * strides[d] < whole[d]),
                 "slice reaches outside its tensor");
    window_strides[d] = whole_strides[d] * strides[d];
    offset += starts[d] * whole_strides[d];
  }
  return offset;
}

template <typename T>
__global__ void iota_kernel(int64_t start, int64_t step, int64_t n, T *output) {
  for (int64_t i = global_thread(); i < n; i += grid_threads())
    output[i] = static_cast<T>(start + i * step);
}

template <typename T> void launch_iota(int64_t start, int64_t step, int64_t n, T *output) {
  KERNEL_CHECK(n >= 0, "negative iota size");
  if (n == 0)
    return;
  iota_kernel<T><<<blocks_for(n), kBlockSize>>>(start, step, n, output);
  CLEAVE_CUDA_CHECK_LAUNCH();
}

} // namespace

void transpose(const void *input, void *output, int64_t rank, const int64_t *input_shape,
               const int64_t *permutation, int64_t element_bytes) {
  check_rank(rank);
  check_element_bytes(element_bytes);
  int64_t input_strides[kMaxRank], output_shape[kMaxRank], source_strides[kMaxRank],
      output_strides[kMaxRank];
  bool seen[kMaxRank] = {};
  contiguous_strides(input_shape, rank, input_strides);
  for (int64_t d = 0; d < rank; ++d) {
    const int64_t from = permutation[d];
    KERNEL_CHECK(from >= 0 && from < rank && !seen[from], "not a permutation");
    seen[from] = true;
    output_shape[d] = input_shape[from];
    source_strides[d] = input_strides[from];
  }
  contiguous_strides(output_shape, rank, output_strides);
  copy_strided(input, source_strides, output, output_strides, output_shape, rank, element_bytes);
}

void broadcast(const void *input, void *output, int64_t input_rank, const int64_t *input_shape,
               int64_t output_rank, const int64_t *output_shape, int64_t element_bytes) {
  check_rank(output_rank);
  check_element_bytes(element_bytes);
  KERNEL_CHECK(input_rank >= 0 && input_rank <= output_rank, "broadcast to a smaller rank");
  int64_t input_strides[kMaxRank], source_strides[kMaxRank], output_strides[kMaxRank];
  contiguous_strides(input_shape, input_rank, input_strides);
  const int64_t leading = output_rank - input_rank;
  for (int64_t d = 0; d < output_rank; ++d) {
    if (d < leading) {
      source_strides[d] = 0;
      continue;
    }
    const int64_t size = input_shape[d - leading];
    KERNEL_CHECK(size == output_shape[d] || size == 1, "shapes do not broadcast");
    source_strides[d] = size == 1 ? 0 : input_strides[d - leading];
  }
  contiguous_strides(output_shape, output_rank, output_strides);
  copy_strided(input, source_strides, output, output_strides, output_shape, output_rank,
               element_bytes);
}

void slice(const void *input, void *output, int64_t rank, const int64_t *input_shape,
           const int64_t *starts, const int64_t *strides, const int64_t *output_shape,
           int64_t element_bytes) {
  check_rank(rank);
  check_element_bytes(element_bytes);
  int64_t source_strides[kMaxRank], output_strides[kMaxRank];
  const int64_t offset =
      window_strides(rank, input_shape, starts, strides, output_shape, source_strides);
  contiguous_strides(output_shape, rank, output_strides);
  copy_strided(static_cast<const char *>(input) + offset * element_bytes, source_strides, output,
               output_strides, output_shape, rank, element_bytes);
}

void slice_scatter(const void *input, void *output, int64_t rank, const int64_t *input_shape,
                   const int64_t *starts, const int64_t *strides, const int64_t *output_shape,
                   int64_t element_bytes) {
  check_rank(rank);
  check_element_bytes(element_bytes);
  int64_t input_strides[kMaxRank], destination_strides[kMaxRank];
  const int64_t offset =
      window_strides(rank, output_shape, starts, strides, input_shape, destination_strides);
  const int64_t output_bytes = product(output_shape, rank) * element_bytes;
  if (output_bytes > 0)
    CLEAVE_CUDA_CHECK(cudaMemsetAsync(output, 0, output_bytes, 0));
  contiguous_strides(input_shape, rank, input_strides);
  copy_strided(input, input_strides, static_cast<char *>(output) + offset * element_bytes,
               destination_strides, input_shape, rank, element_bytes);
}

void concat(const void *const *inputs, const int64_t *axis_sizes, int64_t num_inputs, void *output,
            int64_t outer, int64_t inner, int64_t element_bytes) {
  KERNEL_CHECK(num_inputs >= 0 && outer >= 0 && inner >= 0, "negative concat size");
  check_element_bytes(element_bytes);
  int64_t output_axis = 0;
  for (int64_t t = 0; t < num_inputs; ++t) {
    KERNEL_CHECK(axis_sizes[t] >= 0, "negative concat size");
    output_axis += axis_sizes[t];
  }
  const int64_t output_row_bytes = output_axis * inner * element_bytes;
  int64_t column_bytes = 0; // where input t starts inside an output row
  for (int64_t t = 0; t < num_inputs; ++t) {
    const int64_t row_bytes = axis_sizes[t] * inner * element_bytes;
    if (row_bytes == 0)
      continue; // an empty input (whose buffer may be null)
    if (outer > 0)
      // `outer` rows of row_bytes each, into every output row at column_bytes.
      CLEAVE_CUDA_CHECK(cudaMemcpy2DAsync(static_cast<char *>(output) + column_bytes,
                                          output_row_bytes, inputs[t], row_bytes, row_bytes, outer,
                                          cudaMemcpyDeviceToDevice, 0));
    column_bytes += row_bytes;
  }
}

void iota(int64_t start, int64_t step, int64_t n, int64_t *output) {
  launch_iota(start, step, n, output);
}

void iota(int64_t start, int64_t step, int64_t n, float *output) {
  launch_iota(start, step, n, output);
}

} // namespace cleave::rt::cuda
