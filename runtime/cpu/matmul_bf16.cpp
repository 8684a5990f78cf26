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

kernels::MatmulBf16Scratch layout(int64_t batch, int64_t m, int64_t n, int64_t k,
                                  int64_t batch_stride_a, int64_t batch_stride_b) {
  // fp32 copies: see the file comment.
  return kernels::matmul_bf16_scratch(batch, m, n, k, batch_stride_a, batch_stride_b,
                                      sizeof(float), kScratchAlignment);
}

void round_span(const float *from, float *to, int64_t count) {
#pragma omp parallel for schedule(static) if (worth_parallel(count))
  for (int64_t i = 0; i < count; ++i)
    to[i] = round_to_bf16(from[i]);
}

} // namespace

int64_t matmul_bf16_scratch_bytes(int64_t batch, int64_t m, int64_t n, int64_t k,
                                  int64_t batch_stride_a, int64_t batch_stride_b) {
  return layout(batch, m, n, k, batch_stride_a, batch_stride_b).total;
}

void matmul_bf16(const float *a, const float *b, float *c, int64_t batch, int64_t m, int64_t n,
                 int64_t k, bool transpose_a, bool transpose_b, int64_t batch_stride_a,
                 int64_t batch_stride_b, bool accumulate, void *scratch) {
  kernels::MatmulWork work;
  require(kernels::plan_matmul_bf16(batch, m, n, k, batch_stride_a, batch_stride_b, scratch, work));
  if (work != kernels::MatmulWork::gemm) {
    // Nothing to round: matmul's empty cases (an empty sum writes zeros).
    matmul(a, b, c, batch, m, n, k, transpose_a, transpose_b, batch_stride_a, batch_stride_b,
           accumulate);
    return;
  }
  const kernels::MatmulBf16Scratch l = layout(batch, m, n, k, batch_stride_a, batch_stride_b);
  auto *rounded_a = static_cast<float *>(scratch);
  auto *rounded_b = reinterpret_cast<float *>(static_cast<char *>(scratch) + l.b_offset);
  round_span(a, rounded_a, l.a_elements);
  round_span(b, rounded_b, l.b_elements);
  matmul(rounded_a, rounded_b, c, batch, m, n, k, transpose_a, transpose_b, batch_stride_a,
         batch_stride_b, accumulate);
}

} // namespace cleave::rt::cpu
