//===- layout.cpp - plans of transpose, broadcast, slice, concat, iota -----===//

#include "cleave/rt/kernels/layout.h"
#include "cleave/rt/kernels/shape.h"

namespace cleave::rt::kernels {
namespace {

CheckFailure check_rank(int64_t rank) {
  PLAN_CHECK(rank >= 0 && rank <= kMaxRank, "tensor rank out of range");
  return {};
}

CheckFailure check_element_bytes(int64_t element_bytes) {
  PLAN_CHECK(element_bytes > 0, "element size must be positive");
  return {};
}

/// Element strides and base offset of the window starts + i * strides of a
/// tensor of shape `whole`, checking that the window of `window` elements
/// stays inside it.
CheckFailure window_strides(int64_t rank, const int64_t *whole, const int64_t *starts,
                            const int64_t *strides, const int64_t *window, int64_t *window_strides,
                            int64_t &offset) {
  int64_t whole_strides[kMaxRank];
  contiguous_strides(whole, rank, whole_strides);
  offset = 0;
  for (int64_t d = 0; d < rank; ++d) {
    PLAN_CHECK(strides[d] >= 1, "slice strides must be positive");
    PLAN_CHECK(window[d] >= 0, "negative slice size");
    PLAN_CHECK(window[d] == 0 ||
                   (starts[d] >= 0 && starts[d] + (window[d] - 1) * strides[d] < whole[d]),
               "slice reaches outside its tensor");
    window_strides[d] = whole_strides[d] * strides[d];
    offset += starts[d] * whole_strides[d];
  }
  return {};
}

/// The simplified copy of `sizes` between the two views.
CopyPlan make_copy(const int64_t *sizes, const int64_t *source_strides,
                   const int64_t *destination_strides, int64_t rank) {
  CopyPlan plan = simplify_copy(sizes, source_strides, destination_strides, rank);
  plan.elements = product(sizes, rank);
  return plan;
}

} // namespace

CopyPlan simplify_copy(const int64_t *sizes, const int64_t *source_strides,
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

CheckFailure plan_transpose(int64_t rank, const int64_t *input_shape, const int64_t *permutation,
                            int64_t element_bytes, CopyPlan &plan) {
  PLAN_TRY(check_rank(rank));
  PLAN_TRY(check_element_bytes(element_bytes));
  int64_t input_strides[kMaxRank], output_shape[kMaxRank], source_strides[kMaxRank],
      output_strides[kMaxRank];
  bool seen[kMaxRank] = {};
  contiguous_strides(input_shape, rank, input_strides);
  for (int64_t d = 0; d < rank; ++d) {
    const int64_t from = permutation[d];
    PLAN_CHECK(from >= 0 && from < rank && !seen[from], "not a permutation");
    seen[from] = true;
    output_shape[d] = input_shape[from];
    source_strides[d] = input_strides[from];
  }
  contiguous_strides(output_shape, rank, output_strides);
  plan = make_copy(output_shape, source_strides, output_strides, rank);
  return {};
}

CheckFailure plan_broadcast(int64_t input_rank, const int64_t *input_shape, int64_t output_rank,
                            const int64_t *output_shape, int64_t element_bytes, CopyPlan &plan) {
  PLAN_TRY(check_rank(output_rank));
  PLAN_TRY(check_element_bytes(element_bytes));
  PLAN_CHECK(input_rank >= 0 && input_rank <= output_rank, "broadcast to a smaller rank");
  int64_t input_strides[kMaxRank], source_strides[kMaxRank], output_strides[kMaxRank];
  contiguous_strides(input_shape, input_rank, input_strides);
  const int64_t leading = output_rank - input_rank;
  for (int64_t d = 0; d < output_rank; ++d) {
    if (d < leading) {
      source_strides[d] = 0;
      continue;
    }
    const int64_t size = input_shape[d - leading];
    PLAN_CHECK(size == output_shape[d] || size == 1, "shapes do not broadcast");
    source_strides[d] = size == 1 ? 0 : input_strides[d - leading];
  }
  contiguous_strides(output_shape, output_rank, output_strides);
  plan = make_copy(output_shape, source_strides, output_strides, output_rank);
  return {};
}

CheckFailure plan_slice(int64_t rank, const int64_t *input_shape, const int64_t *starts,
                        const int64_t *strides, const int64_t *output_shape, int64_t element_bytes,
                        CopyPlan &plan) {
  PLAN_TRY(check_rank(rank));
  PLAN_TRY(check_element_bytes(element_bytes));
  int64_t source_strides[kMaxRank], output_strides[kMaxRank], offset;
  PLAN_TRY(
      window_strides(rank, input_shape, starts, strides, output_shape, source_strides, offset));
  contiguous_strides(output_shape, rank, output_strides);
  plan = make_copy(output_shape, source_strides, output_strides, rank);
  plan.source_offset = offset;
  return {};
}

CheckFailure plan_slice_scatter(int64_t rank, const int64_t *input_shape, const int64_t *starts,
                                const int64_t *strides, const int64_t *output_shape,
                                int64_t element_bytes, CopyPlan &plan) {
  PLAN_TRY(check_rank(rank));
  PLAN_TRY(check_element_bytes(element_bytes));
  int64_t input_strides[kMaxRank], destination_strides[kMaxRank], offset;
  PLAN_TRY(window_strides(rank, output_shape, starts, strides, input_shape, destination_strides,
                          offset));
  contiguous_strides(input_shape, rank, input_strides);
  plan = make_copy(input_shape, input_strides, destination_strides, rank);
  plan.destination_offset = offset;
  plan.zeroed_elements = product(output_shape, rank);
  return {};
}

CheckFailure plan_concat(const int64_t *axis_sizes, int64_t num_inputs, int64_t outer,
                         int64_t inner, int64_t element_bytes, ConcatPlan &plan) {
  PLAN_CHECK(num_inputs >= 0 && outer >= 0 && inner >= 0, "negative concat size");
  PLAN_TRY(check_element_bytes(element_bytes));
  int64_t output_axis = 0;
  for (int64_t t = 0; t < num_inputs; ++t) {
    PLAN_CHECK(axis_sizes[t] >= 0, "negative concat size");
    output_axis += axis_sizes[t];
  }
  plan.output_row_bytes = output_axis * inner * element_bytes;
  return {};
}

CheckFailure check_iota(int64_t n) {
  PLAN_CHECK(n >= 0, "negative iota size");
  return {};
}

} // namespace cleave::rt::kernels
