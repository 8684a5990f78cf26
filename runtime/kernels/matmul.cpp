//===- matmul.cpp - the plans of the batched matrix products ---------------===//

#include "cleave/rt/kernels/matmul.h"

namespace cleave::rt::kernels {
namespace {

/// Elements one operand's batch spans: every matrix that some batch entry
/// reads, from the first element to the last. A stride of 0 is one matrix.
int64_t operand_span(int64_t batch, int64_t stride, int64_t matrix_elements) {
  if (batch == 0 || matrix_elements == 0)
    return 0;
  return stride == 0 ? matrix_elements : (batch - 1) * stride + matrix_elements;
}

int64_t align_up(int64_t bytes, int64_t alignment) {
  return (bytes + alignment - 1) / alignment * alignment;
}

} // namespace

CheckFailure plan_matmul(int64_t batch, int64_t m, int64_t n, int64_t k, int64_t batch_stride_a,
                         int64_t batch_stride_b, bool accumulate, MatmulPlan &plan) {
  PLAN_CHECK(batch >= 0 && m >= 0 && n >= 0 && k >= 0, "negative matmul size");
  PLAN_CHECK(batch_stride_a >= 0 && batch_stride_b >= 0, "negative batch stride");
  const bool empty = batch == 0 || m == 0 || n == 0;
  plan.zeroed_elements = !empty && k == 0 && !accumulate ? batch * m * n : 0;
  plan.gemm = !empty && k > 0;
  return {};
}

MatmulBf16Scratch matmul_bf16_scratch(int64_t batch, int64_t m, int64_t n, int64_t k,
                                      int64_t batch_stride_a, int64_t batch_stride_b,
                                      int64_t element_bytes, int64_t alignment) {
  MatmulBf16Scratch layout;
  layout.a_elements = operand_span(batch, batch_stride_a, m * k);
  layout.b_elements = operand_span(batch, batch_stride_b, k * n);
  layout.b_offset = align_up(layout.a_elements * element_bytes, alignment);
  layout.total = layout.b_offset + align_up(layout.b_elements * element_bytes, alignment);
  return layout;
}

CheckFailure plan_matmul_bf16(int64_t batch, int64_t m, int64_t n, int64_t k,
                              int64_t batch_stride_a, int64_t batch_stride_b, bool accumulate,
                              void *scratch, int64_t element_bytes, int64_t alignment,
                              MatmulBf16Plan &plan) {
  PLAN_TRY(plan_matmul(batch, m, n, k, batch_stride_a, batch_stride_b, accumulate, plan.product));
  if (!plan.product.gemm)
    return {};
  PLAN_CHECK(scratch, "matmul_bf16 needs matmul_bf16_scratch_bytes() of scratch");
  const MatmulBf16Scratch layout =
      matmul_bf16_scratch(batch, m, n, k, batch_stride_a, batch_stride_b, element_bytes, alignment);
  plan.a_copy = scratch;
  plan.b_copy = static_cast<char *>(scratch) + layout.b_offset;
  plan.a_elements = layout.a_elements;
  plan.b_elements = layout.b_elements;
  return {};
}

} // namespace cleave::rt::kernels
