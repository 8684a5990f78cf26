//===- layout.cu - transpose, broadcast, slice, concat, iota ---------------===//
//
// Transpose, broadcast, slice and slice_scatter are one operation: a copy
// between two strided views of the same sizes, which their plans
// (cleave/rt/kernels/layout.h) build and simplify for both backends. Here
// one thread per element computes both offsets. The destination is walked
// in order, so stores coalesce; loads coalesce too whenever the innermost
// dimension is contiguous in the source (head transposes, row broadcasts,
// column slices). Concat is a 2-D memcpy per input.
//
//===----------------------------------------------------------------------===//

#include "common.cuh"
#include "require.cuh"

#include "cleave/rt/kernels/layout.h"

namespace cleave::rt::cuda {
namespace {

using kernels::CopyPlan;

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

/// Runs a copy plan: zeroes what it says, then one thread per element.
void run_copy(CopyPlan plan, const void *input, void *output, int64_t element_bytes) {
  if (plan.zeroed_elements > 0)
    CLEAVE_CUDA_CHECK(cudaMemsetAsync(output, 0, plan.zeroed_elements * element_bytes, 0));
  if (plan.elements == 0)
    return;
  const void *source = static_cast<const char *>(input) + plan.source_offset * element_bytes;
  void *destination = static_cast<char *>(output) + plan.destination_offset * element_bytes;
  switch (element_bytes) {
  case 1:
    return launch_copy<uint8_t>(source, destination, plan, plan.elements);
  case 2:
    return launch_copy<uint16_t>(source, destination, plan, plan.elements);
  case 4:
    return launch_copy<uint32_t>(source, destination, plan, plan.elements);
  case 8:
    return launch_copy<uint64_t>(source, destination, plan, plan.elements);
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
    return launch_copy<uint8_t>(source, destination, plan, plan.elements * element_bytes);
  }
}

template <typename T>
__global__ void iota_kernel(int64_t start, int64_t step, int64_t n, T *output) {
  for (int64_t i = global_thread(); i < n; i += grid_threads())
    output[i] = static_cast<T>(start + i * step);
}

template <typename T> void launch_iota(int64_t start, int64_t step, int64_t n, T *output) {
  require(kernels::check_iota(n));
  if (n == 0)
    return;
  iota_kernel<T><<<blocks_for(n), kBlockSize>>>(start, step, n, output);
  CLEAVE_CUDA_CHECK_LAUNCH();
}

} // namespace
} // namespace cleave::rt::cuda

// The kernels of api.inc, defined qualified: a definition that does not
// match its declaration does not compile.
namespace cleave::rt {

void cuda::transpose(const void *input, void *output, int64_t rank, const int64_t *input_shape,
                     const int64_t *permutation, int64_t element_bytes) {
  CopyPlan plan;
  require(kernels::plan_transpose(rank, input_shape, permutation, element_bytes, plan));
  run_copy(plan, input, output, element_bytes);
}

void cuda::broadcast(const void *input, void *output, int64_t input_rank,
                     const int64_t *input_shape, int64_t output_rank, const int64_t *output_shape,
                     int64_t element_bytes) {
  CopyPlan plan;
  require(kernels::plan_broadcast(input_rank, input_shape, output_rank, output_shape, element_bytes,
                                  plan));
  run_copy(plan, input, output, element_bytes);
}

void cuda::slice(const void *input, void *output, int64_t rank, const int64_t *input_shape,
                 const int64_t *starts, const int64_t *strides, const int64_t *output_shape,
                 int64_t element_bytes) {
  CopyPlan plan;
  require(
      kernels::plan_slice(rank, input_shape, starts, strides, output_shape, element_bytes, plan));
  run_copy(plan, input, output, element_bytes);
}

void cuda::slice_scatter(const void *input, void *output, int64_t rank, const int64_t *input_shape,
                         const int64_t *starts, const int64_t *strides, const int64_t *output_shape,
                         int64_t element_bytes) {
  CopyPlan plan;
  require(kernels::plan_slice_scatter(rank, input_shape, starts, strides, output_shape,
                                      element_bytes, plan));
  run_copy(plan, input, output, element_bytes);
}

void cuda::concat(const void *const *inputs, const int64_t *axis_sizes, int64_t num_inputs,
                  void *output, int64_t outer, int64_t inner, int64_t element_bytes) {
  kernels::ConcatPlan plan;
  require(kernels::plan_concat(axis_sizes, num_inputs, outer, inner, element_bytes, plan));
  if (outer == 0)
    return;
  kernels::for_each_concat_input(
      axis_sizes, num_inputs, inner, element_bytes,
      [&](int64_t t, int64_t row_bytes, int64_t column_bytes) {
        // `outer` rows of row_bytes each, into every output row at column_bytes.
        CLEAVE_CUDA_CHECK(cudaMemcpy2DAsync(static_cast<char *>(output) + column_bytes,
                                            plan.output_row_bytes, inputs[t], row_bytes, row_bytes,
                                            outer, cudaMemcpyDeviceToDevice, 0));
      });
}

void cuda::iota(int64_t start, int64_t step, int64_t n, int64_t *output) {
  launch_iota(start, step, n, output);
}

void cuda::iota(int64_t start, int64_t step, int64_t n, float *output) {
  launch_iota(start, step, n, output);
}

} // namespace cleave::rt
