//===- matmul.cu - batched fp32 and bf16 GEMMs through cuBLAS ------------===//
//
// cuBLAS is column-major; a row-major matrix is the column-major view of its
// transpose. So row-major C = op(A) @ op(B) is computed as column-major
// C^T = op(B)^T @ op(A)^T: swap the operands (and m with n) and keep each
// operand's own transpose flag. A batch stride of 0 is legal for
// cublasSgemmStridedBatched and gives NumPy's batch broadcasting.
//
// matmul_bf16 (`--precision bf16`) rounds both operands into the caller's
// scratch as bfloat16 (bf16.h's rounding, the CPU kernel's bits exactly),
// then runs cublasGemmStridedBatchedEx with CUDA_R_16BF inputs, fp32 output
// and CUBLAS_COMPUTE_32F: tensor cores multiply (exactly: a bf16 x bf16
// product fits fp32) and accumulate in fp32. The rounded copies keep the
// fp32 operands' layout and batch strides, so the call is matmul's with
// other pointers and types.
//
//===----------------------------------------------------------------------===//

#include "common.cuh"
#include "context.h"
#include "require.cuh"

#include "cleave/rt/kernels/matmul.h"

#include "cleave/rt/bf16.h"

#include <climits>

namespace cleave::rt::cuda {
namespace {

/// Where the rounded B starts in scratch, and the alignment cuBLAS's
/// tensor-core kernels like best (they need 16 bytes).
constexpr int64_t kScratchAlignment = 256;

__global__ void round_to_bf16_kernel(const float *__restrict__ from, uint16_t *__restrict__ to,
                                     int64_t n) {
  for (int64_t i = global_thread(); i < n; i += grid_threads())
    to[i] = float_to_bf16_bits(from[i]);
}

/// Rounds `n` elements of `from` into `copy` (bf16 bits) and returns it.
const uint16_t *rounded(const float *from, void *copy, int64_t n) {
  auto *to = static_cast<uint16_t *>(copy);
  if (n > 0) {
    round_to_bf16_kernel<<<blocks_for(n), kBlockSize>>>(from, to, n);
    CLEAVE_CUDA_CHECK_LAUNCH();
  }
  return to;
}

/// The empty sums a plan spells out (see kernels::MatmulPlan).
void zero_empty_sums(float *c, const kernels::MatmulPlan &plan) {
  if (plan.zeroed_elements > 0)
    CLEAVE_CUDA_CHECK(cudaMemsetAsync(c, 0, plan.zeroed_elements * sizeof(float), 0));
}

/// Row-major C = op(A) @ op(B) as cuBLAS's column-major C^T = op(B)^T @
/// op(A)^T, A and B of cuBLAS type `type` (fp32, or bf16 with fp32 sums).
void gemm_ex(const void *a, const void *b, float *c, cudaDataType type, int64_t batch, int64_t m,
             int64_t n, int64_t k, bool transpose_a, bool transpose_b, int64_t batch_stride_a,
             int64_t batch_stride_b, bool accumulate) {
  KERNEL_CHECK(m <= INT_MAX && n <= INT_MAX && k <= INT_MAX && batch <= INT_MAX,
               "matrix too large for cuBLAS");
  const int lda = static_cast<int>(transpose_a ? m : k); // row-major leading dimensions
  const int ldb = static_cast<int>(transpose_b ? k : n);
  const float alpha = 1.0f;
  // beta == 0: cuBLAS does not read C, so C may hold garbage (even NaN).
  const float beta = accumulate ? 1.0f : 0.0f;
  const cublasOperation_t op_a = transpose_a ? CUBLAS_OP_T : CUBLAS_OP_N;
  const cublasOperation_t op_b = transpose_b ? CUBLAS_OP_T : CUBLAS_OP_N;
  if (type == CUDA_R_32F)
    CLEAVE_CUBLAS_CHECK(cublasSgemmStridedBatched(
        detail::cublas_handle(), op_b, op_a, static_cast<int>(n), static_cast<int>(m),
        static_cast<int>(k), &alpha, static_cast<const float *>(b), ldb, batch_stride_b,
        static_cast<const float *>(a), lda, batch_stride_a, &beta, c, static_cast<int>(n), m * n,
        static_cast<int>(batch)));
  else
    CLEAVE_CUBLAS_CHECK(cublasGemmStridedBatchedEx(
        detail::cublas_handle(), op_b, op_a, static_cast<int>(n), static_cast<int>(m),
        static_cast<int>(k), &alpha, b, type, ldb, batch_stride_b, a, type, lda, batch_stride_a,
        &beta, c, CUDA_R_32F, static_cast<int>(n), m * n, static_cast<int>(batch),
        CUBLAS_COMPUTE_32F, CUBLAS_GEMM_DEFAULT));
}

} // namespace
} // namespace cleave::rt::cuda

// The kernels of api.inc, defined qualified: a definition that does not
// match its declaration does not compile.
namespace cleave::rt {

void cuda::matmul(const float *a, const float *b, float *c, int64_t batch, int64_t m, int64_t n,
                  int64_t k, bool transpose_a, bool transpose_b, int64_t batch_stride_a,
                  int64_t batch_stride_b, bool accumulate) {
  kernels::MatmulPlan plan;
  require(kernels::plan_matmul(batch, m, n, k, batch_stride_a, batch_stride_b, accumulate, plan));
  zero_empty_sums(c, plan);
  if (plan.gemm)
    gemm_ex(a, b, c, CUDA_R_32F, batch, m, n, k, transpose_a, transpose_b, batch_stride_a,
            batch_stride_b, accumulate);
}

int64_t cuda::matmul_bf16_scratch_bytes(int64_t batch, int64_t m, int64_t n, int64_t k,
                                        int64_t batch_stride_a, int64_t batch_stride_b) {
  return kernels::matmul_bf16_scratch(batch, m, n, k, batch_stride_a, batch_stride_b,
                                      sizeof(uint16_t), kScratchAlignment)
      .total;
}

void cuda::matmul_bf16(const float *a, const float *b, float *c, int64_t batch, int64_t m,
                       int64_t n, int64_t k, bool transpose_a, bool transpose_b,
                       int64_t batch_stride_a, int64_t batch_stride_b, bool accumulate,
                       void *scratch) {
  kernels::MatmulBf16Plan plan;
  require(kernels::plan_matmul_bf16(batch, m, n, k, batch_stride_a, batch_stride_b, accumulate,
                                    scratch, sizeof(uint16_t), kScratchAlignment, plan));
  zero_empty_sums(c, plan.product);
  if (plan.product.gemm)
    gemm_ex(rounded(a, plan.a_copy, plan.a_elements), rounded(b, plan.b_copy, plan.b_elements), c,
            CUDA_R_16BF, batch, m, n, k, transpose_a, transpose_b, batch_stride_a, batch_stride_b,
            accumulate);
}

} // namespace cleave::rt
