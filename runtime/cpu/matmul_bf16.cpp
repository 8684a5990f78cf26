//===- matmul_bf16.cpp - matmul with operands rounded to bfloat16 ---------===//
//
// The CPU side of `--precision bf16`. There is no bf16 GEMM in OpenBLAS 0.3
// that Debian ships on every x86-64, and none is needed for the numbers: a
// bfloat16 has 8 significant bits, so the product of two is exact in fp32's
// 24, and an fp32 sgemm over rounded copies computes exactly what a bf16
// tensor-core GEMM with fp32 accumulation does, up to the order of the
// sums. So the rounded copies stay fp32 (in the caller's scratch) and the
// ordinary sgemm path (matmul.cpp) does the rest. It is a numerics mode,
// not a speed-up, on this target.
//
//===----------------------------------------------------------------------===//

#include "cleave/rt/bf16.h"
#include "cleave/rt/kernels.h"

#include "check.h"
#include "parallel.h"

namespace cleave::rt::cpu {
namespace {

/// Rounded copies start at this alignment (a cache line, an AVX-512 vector).
constexpr int64_t kScratchAlignment = 64;

int64_t align_up(int64_t bytes) {
  return (bytes + kScratchAlignment - 1) / kScratchAlignment * kScratchAlignment;
}

/// Elements one operand's batch spans: every matrix that some batch entry
/// reads, from the first element to the last. A stride of 0 is one matrix.
int64_t operand_span(int64_t batch, int64_t stride, int64_t matrix_elements) {
  if (batch == 0 || matrix_elements == 0)
    return 0;
  return stride == 0 ? matrix_elements : (batch - 1) * stride + matrix_elements;
}

void round_span(const float *from, float *to, int64_t count) {
#pragma omp parallel for schedule(static) if (worth_parallel(count))
  for (int64_t i = 0; i < count; ++i)
    to[i] = round_to_bf16(from[i]);
}

} // namespace

int64_t matmul_bf16_scratch_bytes(int64_t batch, int64_t m, int64_t n, int64_t k,
                                  int64_t batch_stride_a, int64_t batch_stride_b) {
  (void)n;
  return align_up(operand_span(batch, batch_stride_a, m * k) * int64_t(sizeof(float))) +
         align_up(operand_span(batch, batch_stride_b, k * n) * int64_t(sizeof(float)));
}

void matmul_bf16(const float *a, const float *b, float *c, int64_t batch, int64_t m, int64_t n,
                 int64_t k, bool transpose_a, bool transpose_b, int64_t batch_stride_a,
                 int64_t batch_stride_b, bool accumulate, void *scratch) {
  KERNEL_CHECK(batch >= 0 && m >= 0 && n >= 0 && k >= 0, "negative matmul size");
  KERNEL_CHECK(batch_stride_a >= 0 && batch_stride_b >= 0, "negative batch stride");
  if (batch == 0 || m == 0 || n == 0 || k == 0) {
    // Nothing to round: matmul's empty cases (an empty sum writes zeros).
    matmul(a, b, c, batch, m, n, k, transpose_a, transpose_b, batch_stride_a, batch_stride_b,
           accumulate);
    return;
  }
  KERNEL_CHECK(scratch, "matmul_bf16 needs matmul_bf16_scratch_bytes() of scratch");
  const int64_t span_a = operand_span(batch, batch_stride_a, m * k);
  const int64_t span_b = operand_span(batch, batch_stride_b, k * n);
  float *rounded_a = static_cast<float *>(scratch);
  float *rounded_b = reinterpret_cast<float *>(static_cast<char *>(scratch) +
                                               align_up(span_a * int64_t(sizeof(float))));
  round_span(a, rounded_a, span_a);
  round_span(b, rounded_b, span_b);
  matmul(rounded_a, rounded_b, c, batch, m, n, k, transpose_a, transpose_b, batch_stride_a,
         batch_stride_b, accumulate);
}

} // namespace cleave::rt::cpu
