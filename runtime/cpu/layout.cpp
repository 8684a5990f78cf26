//===- layout.cpp - transpose, broadcast, slice, concat, iota -------------===//
//
// Transpose, broadcast, slice and slice_scatter are all one operation: copy
// between two strided views of the same sizes (a stride of 0 repeats an
// element). copy_strided simplifies the views, then copies the innermost
// dimension as one memcpy when both sides are contiguous there (the usual
// case: attention head transposes, row broadcasts, column slices) and
// element by element otherwise.
//
//===----------------------------------------------------------------------===//

#include "cleave/rt/kernels.h"

#include "check.h"
#include "parallel.h"
#include "shape.h"

#include <algorithm>
#include <cstring>
#include <omp.h>

namespace cleave::rt::cpu {
namespace {

/// Two views of the same sizes: where each element is read and written.
struct CopyViews {
  StridedShape source; // sizes, and source strides
  int64_t destination_strides[kMaxRank];
};

/// Drops size-1 dimensions and merges each dimension into the previous one
/// when both views step over them as one longer dimension.
CopyViews simplify(const int64_t *sizes, const int64_t *source_strides,
                   const int64_t *destination_strides, int64_t rank) {
  CopyViews views;
  StridedShape &source = views.source;
  for (int64_t d = 0; d < rank; ++d) {
    if (sizes[d] == 1)
      continue;
    const int64_t last = source.rank - 1;
    if (last >= 0 && source.strides[last] == source_strides[d] * sizes[d] &&
        views.destination_strides[last] == destination_strides[d] * sizes[d]) {
      source.sizes[last] *= sizes[d];
      source.strides[last] = source_strides[d];
      views.destination_strides[last] = destination_strides[d];
    } else {
      views.destination_strides[source.rank] = destination_strides[d];
      source.push(sizes[d], source_strides[d]);
    }
  }
  if (source.rank == 0) {
    views.destination_strides[0] = 1;
    source.push(1, 1);
  }
  return views;
}

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

/// destination[i . destination_strides] = source[i . source_strides] for every
/// index i < sizes (strides in elements).
void copy_strided(const void *source, const int64_t *source_strides, void *destination,
                  const int64_t *destination_strides, const int64_t *sizes, int64_t rank,
                  int64_t element_bytes) {
  const int64_t total = product(sizes, rank);
  if (total == 0)
    return;
  const CopyViews views = simplify(sizes, source_strides, destination_strides, rank);
  // Rows are every dimension but the innermost one, which copy_line copies.
  StridedShape source_rows = views.source, destination_rows = views.source;
  const int64_t inner = views.source.rank - 1;
  const int64_t line = views.source.sizes[inner];
  --source_rows.rank;
  --destination_rows.rank;
  for (int64_t d = 0; d < destination_rows.rank; ++d)
    destination_rows.strides[d] = views.destination_strides[d];
  const int64_t rows = product(source_rows.sizes, source_rows.rank);
  const auto *from = static_cast<const char *>(source);
  auto *to = static_cast<char *>(destination);

#pragma omp parallel if (worth_parallel(total))
  {
    // Contiguous row ranges per thread, so that each walks its rows with an
    // odometer instead of dividing per row.
    const int64_t threads = omp_get_num_threads(), thread = omp_get_thread_num();
    const int64_t begin = rows * thread / threads, end = rows * (thread + 1) / threads;
    if (begin < end) {
      Odometer source_row(source_rows, begin), destination_row(destination_rows, begin);
      for (int64_t r = begin; r < end; ++r, source_row.next(), destination_row.next())
        copy_line(from + source_row.offset() * element_bytes, views.source.strides[inner],
                  to + destination_row.offset() * element_bytes, views.destination_strides[inner],
                  line, element_bytes);
    }
  }
}

void check_rank(int64_t rank) {
  KERNEL_CHECK(rank >= 0 && rank <= kMaxRank, "tensor rank out of range");
}

void check_element_bytes(int64_t element_bytes) {
  KERNEL_CHECK(element_bytes > 0, "element size must be positive");
}

/// Element strides and base offset of the window starts + i * strides of a
/// tensor of shape `whole`, checking that the window of `window` elements
/// stays inside it.
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
  std::memset(output, 0, product(output_shape, rank) * element_bytes);
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
  auto *out = static_cast<char *>(output);
  int64_t column_bytes = 0; // where input t starts inside an output row
  for (int64_t t = 0; t < num_inputs; ++t) {
    const int64_t row_bytes = axis_sizes[t] * inner * element_bytes;
    if (row_bytes == 0)
      continue; // an empty input (whose buffer may be null)
    const auto *in = static_cast<const char *>(inputs[t]);
#pragma omp parallel for schedule(static) if (worth_parallel(outer * axis_sizes[t] * inner))
    for (int64_t o = 0; o < outer; ++o)
      std::memcpy(out + o * output_row_bytes + column_bytes, in + o * row_bytes, row_bytes);
    column_bytes += row_bytes;
  }
}

void iota(int64_t start, int64_t step, int64_t n, int64_t *output) {
  KERNEL_CHECK(n >= 0, "negative iota size");
#pragma omp parallel for simd schedule(static) if (worth_parallel(n))
  for (int64_t i = 0; i < n; ++i)
    output[i] = start + i * step;
}

void iota(int64_t start, int64_t step, int64_t n, float *output) {
  KERNEL_CHECK(n >= 0, "negative iota size");
#pragma omp parallel for simd schedule(static) if (worth_parallel(n))
  for (int64_t i = 0; i < n; ++i)
    output[i] = static_cast<float>(start + i * step);
}

} // namespace cleave::rt::cpu
