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
#include "cleave/rt/kernels/matmul.h"

#include "parallel.h"
#include "require.h"

namespace cleave::rt::cpu {
namespace {

/// Rounded copies start at this alignment (a cache line, an AVX-512 vector).
constexpr int64_t kScratchAlignment = 64;

/// The rounded copies are fp32 (see above).
constexpr int64_t kCopyBytes = sizeof(float);

/// Rounds `count` elements of `from` into `copy` and returns the copy.
const float *rounded(const float *from, void *copy, int64_t count) {
  auto *to = static_cast<float *>(copy);
#pragma omp parallel for schedule(static) if (worth_parallel(count))
  for (int64_t i = 0; i < count; ++i)
    to[i] = round_to_bf16(from[i]);
  return to;
}

} // namespace

int64_t matmul_bf16_scratch_bytes(int64_t batch, int64_t m, int64_t n, int64_t k,
                                  int64_t batch_stride_a, int64_t batch_stride_b) {
  return kernels::matmul_bf16_scratch(batch, m, n, k, batch_stride_a, batch_stride_b, kCopyBytes,
                                      kScratchAlignment)
      .total;
}

void matmul_bf16(const float *a, const float *b, float *c, int64_t batch, int64_t m, int64_t n,
                 int64_t k, bool transpose_a, bool transpose_b, int64_t batch_stride_a,
                 int64_t batch_stride_b, bool accumulate, void *scratch) {
  kernels::MatmulBf16Plan plan;
  require(kernels::plan_matmul_bf16(batch, m, n, k, batch_stride_a, batch_stride_b, accumulate,
                                    scratch, kCopyBytes, kScratchAlignment, plan));
  // Without a product there is nothing to round: matmul writes the zeros.
  const float *a_operand = plan.product.gemm ? rounded(a, plan.a_copy, plan.a_elements) : a;
  const float *b_operand = plan.product.gemm ? rounded(b, plan.b_copy, plan.b_elements) : b;
  matmul(a_operand, b_operand, c, batch, m, n, k, transpose_a, transpose_b, batch_stride_a,
         batch_stride_b, accumulate);
}

} // namespace cleave::rt::cpu
