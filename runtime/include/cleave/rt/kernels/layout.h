//===- layout.h - plans of transpose, broadcast, slice, concat, iota -------===//
//
// Transpose, broadcast, slice and slice_scatter are one operation: a copy
// between two strided views of the same sizes (a source stride of 0 repeats
// an element). Their plans check the arguments, build the two views and
// simplify them (size-1 dimensions dropped, neighbours that both views step
// over as one longer dimension merged), so that most real cases become a
// copy of one to three dimensions. Each backend then runs the copy its own
// way (runtime/cpu/layout.cpp, runtime/cuda/layout.cu).
//
//===----------------------------------------------------------------------===//
#ifndef CLEAVE_RT_KERNELS_LAYOUT_H
#define CLEAVE_RT_KERNELS_LAYOUT_H

#include "cleave/rt/kernels/check.h"
#include "cleave/rt/kernels/types.h"

#include <cstdint>

namespace cleave::rt::kernels {

/// dest[i . destination_strides] = source[i . source_strides] for every
/// index i < sizes, strides in elements.
struct CopyPlan {
  /// Dimensions after simplification; 0 for a single element. One more
  /// than a tensor may have: room for a backend to add the bytes of an
  /// unusually sized element as an innermost dimension.
  int64_t rank = 0;
  int64_t sizes[kMaxRank + 1];
  int64_t source_strides[kMaxRank + 1];
  int64_t destination_strides[kMaxRank + 1];
  /// Elements to copy; 0: nothing to copy (the buffers may be null).
  int64_t elements = 0;
  /// Where the views start in their buffers, in elements.
  int64_t source_offset = 0;
  int64_t destination_offset = 0;
  /// Destination elements to zero before the copy (slice_scatter's output).
  int64_t zeroed_elements = 0;
};

/// Drops size-1 dimensions and merges each dimension into the previous one
/// when both views step over them as one longer dimension.
CopyPlan simplify_copy(const int64_t *sizes, const int64_t *source_strides,
                       const int64_t *destination_strides, int64_t rank);

/// The plans of the kernels.h functions of the same names.
CheckFailure plan_transpose(int64_t rank, const int64_t *input_shape, const int64_t *permutation,
                            int64_t element_bytes, CopyPlan &plan);
CheckFailure plan_broadcast(int64_t input_rank, const int64_t *input_shape, int64_t output_rank,
                            const int64_t *output_shape, int64_t element_bytes, CopyPlan &plan);
CheckFailure plan_slice(int64_t rank, const int64_t *input_shape, const int64_t *starts,
                        const int64_t *strides, const int64_t *output_shape, int64_t element_bytes,
                        CopyPlan &plan);
CheckFailure plan_slice_scatter(int64_t rank, const int64_t *input_shape, const int64_t *starts,
                                const int64_t *strides, const int64_t *output_shape,
                                int64_t element_bytes, CopyPlan &plan);

/// Concat: input t fills bytes [column_bytes(t), + row_bytes(t)) of each of
/// the `outer` output rows of output_row_bytes.
struct ConcatPlan {
  int64_t output_row_bytes = 0;
};

CheckFailure plan_concat(const int64_t *axis_sizes, int64_t num_inputs, int64_t outer,
                         int64_t inner, int64_t element_bytes, ConcatPlan &plan);

/// Calls copy(t, row_bytes, column_bytes) for every input t of concat with
/// elements to copy, in order.
template <typename Copy>
void for_each_concat_input(const int64_t *axis_sizes, int64_t num_inputs, int64_t inner,
                           int64_t element_bytes, Copy copy) {
  int64_t column_bytes = 0; // where input t starts inside an output row
  for (int64_t t = 0; t < num_inputs; ++t) {
    const int64_t row_bytes = axis_sizes[t] * inner * element_bytes;
    if (row_bytes == 0)
      continue; // an empty input (whose buffer may be null)
    copy(t, row_bytes, column_bytes);
    column_bytes += row_bytes;
  }
}

CheckFailure check_iota(int64_t n);

} // namespace cleave::rt::kernels

#endif // CLEAVE_RT_KERNELS_LAYOUT_H
