//===- layout.cpp - transpose, broadcast, slice, concat, iota -------------===//
//
// Transpose, broadcast, slice and slice_scatter are all one operation: copy
// between two strided views of the same sizes, which their plans
// (cleave/rt/kernels/layout.h) build and simplify. run_copy copies the
// innermost dimension as one memcpy when both sides are contiguous there
// (the usual case: attention head transposes, row broadcasts, column
// slices) and element by element otherwise.
//
//===----------------------------------------------------------------------===//

#include "cleave/rt/kernels/layout.h"
#include "cleave/rt/kernels.h"

#include "parallel.h"
#include "require.h"
#include "shape.h"

#include <algorithm>
#include <cstring>
#include <omp.h>

namespace cleave::rt::cpu {
namespace {

template <typename Element>
void copy_elements(const char *source, int64_t source_stride, char *destination,
                   int64_t destination_stride, int64_t count) {
  const auto *from = reinterpret_cast<const Element *>(source);
  auto *to = reinterpret_cast<Element *>(destination);
  for (int64_t i = 0; i < count; ++i)
    to[i * destination_stride] = from[i * source_stride];
}

/// Copies one innermost line of `count` elements (strides in elements).
void copy_line(const char *source, int64_t source_stride, char *destination,
               int64_t destination_stride, int64_t count, int64_t element_bytes) {
  if (source_stride == 1 && destination_stride == 1) {
    std::memcpy(destination, source, count * element_bytes);
    return;
  }
  switch (element_bytes) {
  case 1:
    return copy_elements<uint8_t>(source, source_stride, destination, destination_stride, count);
  case 2:
    return copy_elements<uint16_t>(source, source_stride, destination, destination_stride, count);
  case 4:
    return copy_elements<uint32_t>(source, source_stride, destination, destination_stride, count);
  case 8:
    return copy_elements<uint64_t>(source, source_stride, destination, destination_stride, count);
  default:
    for (int64_t i = 0; i < count; ++i)
      std::memcpy(destination + i * destination_stride * element_bytes,
                  source + i * source_stride * element_bytes, element_bytes);
  }
}

/// Runs a copy plan: zeroes what it says, then copies the innermost
/// dimension line by line (copy_line) and walks the others.
void run_copy(const kernels::CopyPlan &plan, const void *source, void *destination,
              int64_t element_bytes) {
  if (plan.zeroed_elements > 0)
    std::memset(destination, 0, plan.zeroed_elements * element_bytes);
  if (plan.elements == 0)
    return;
  const auto *from = static_cast<const char *>(source) + plan.source_offset * element_bytes;
  auto *to = static_cast<char *>(destination) + plan.destination_offset * element_bytes;
  // Rows are every dimension but the innermost one (a single element is a
  // line of one).
  StridedShape source_rows, destination_rows;
  for (int64_t d = 0; d + 1 < plan.rank; ++d) {
    source_rows.push(plan.sizes[d], plan.source_strides[d]);
    destination_rows.push(plan.sizes[d], plan.destination_strides[d]);
  }
  const int64_t inner = plan.rank - 1;
  const int64_t line = plan.rank > 0 ? plan.sizes[inner] : 1;
  const int64_t source_stride = plan.rank > 0 ? plan.source_strides[inner] : 1;
  const int64_t destination_stride = plan.rank > 0 ? plan.destination_strides[inner] : 1;
  const int64_t rows = product(source_rows.sizes, source_rows.rank);

#pragma omp parallel if (worth_parallel(plan.elements))
  {
    // Contiguous row ranges per thread, so that each walks its rows with an
    // odometer instead of dividing per row.
    const int64_t threads = omp_get_num_threads(), thread = omp_get_thread_num();
    const int64_t begin = rows * thread / threads, end = rows * (thread + 1) / threads;
    if (begin < end) {
      Odometer source_row(source_rows, begin), destination_row(destination_rows, begin);
      for (int64_t r = begin; r < end; ++r, source_row.next(), destination_row.next())
        copy_line(from + source_row.offset() * element_bytes, source_stride,
                  to + destination_row.offset() * element_bytes, destination_stride, line,
                  element_bytes);
    }
  }
}

} // namespace

void transpose(const void *input, void *output, int64_t rank, const int64_t *input_shape,
               const int64_t *permutation, int64_t element_bytes) {
  kernels::CopyPlan plan;
  require(kernels::plan_transpose(rank, input_shape, permutation, element_bytes, plan));
  run_copy(plan, input, output, element_bytes);
}

void broadcast(const void *input, void *output, int64_t input_rank, const int64_t *input_shape,
               int64_t output_rank, const int64_t *output_shape, int64_t element_bytes) {
  kernels::CopyPlan plan;
  require(kernels::plan_broadcast(input_rank, input_shape, output_rank, output_shape, element_bytes,
                                  plan));
  run_copy(plan, input, output, element_bytes);
}

void slice(const void *input, void *output, int64_t rank, const int64_t *input_shape,
           const int64_t *starts, const int64_t *strides, const int64_t *output_shape,
           int64_t element_bytes) {
  kernels::CopyPlan plan;
  require(
      kernels::plan_slice(rank, input_shape, starts, strides, output_shape, element_bytes, plan));
  run_copy(plan, input, output, element_bytes);
}

void slice_scatter(const void *input, void *output, int64_t rank, const int64_t *input_shape,
                   const int64_t *starts, const int64_t *strides, const int64_t *output_shape,
                   int64_t element_bytes) {
  kernels::CopyPlan plan;
  require(kernels::plan_slice_scatter(rank, input_shape, starts, strides, output_shape,
                                      element_bytes, plan));
  run_copy(plan, input, output, element_bytes);
}

void concat(const void *const *inputs, const int64_t *axis_sizes, int64_t num_inputs, void *output,
            int64_t outer, int64_t inner, int64_t element_bytes) {
  kernels::ConcatPlan plan;
  require(kernels::plan_concat(axis_sizes, num_inputs, outer, inner, element_bytes, plan));
  auto *out = static_cast<char *>(output);
  kernels::for_each_concat_input(axis_sizes, num_inputs, inner, element_bytes,
                                 [&](int64_t t, int64_t row_bytes, int64_t column_bytes) {
                                   const auto *in = static_cast<const char *>(inputs[t]);
#pragma omp parallel for schedule(static) if (worth_parallel(outer * axis_sizes[t] * inner))
                                   for (int64_t o = 0; o < outer; ++o)
                                     std::memcpy(out + o * plan.output_row_bytes + column_bytes,
                                                 in + o * row_bytes, row_bytes);
                                 });
}

void iota(int64_t start, int64_t step, int64_t n, int64_t *output) {
  require(kernels::check_iota(n));
#pragma omp parallel for simd schedule(static) if (worth_parallel(n))
  for (int64_t i = 0; i < n; ++i)
    output[i] = start + i * step;
}

void iota(int64_t start, int64_t step, int64_t n, float *output) {
  require(kernels::check_iota(n));
#pragma omp parallel for simd schedule(static) if (worth_parallel(n))
  for (int64_t i = 0; i < n; ++i)
    output[i] = static_cast<float>(start + i * step);
}

} // namespace cleave::rt::cpu
