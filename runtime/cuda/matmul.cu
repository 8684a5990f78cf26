//===- matmul.cu - batched sgemm through cuBLAS ----------------------------===//
//
// cuBLAS is column-major; a row-major matrix is the column-major view of its
// transpose. So row-major C = op(A) @ op(B) is computed as column-major
// C^T = op(B)^T @ op(A)^T: swap the operands (and m with n) and keep each
// operand's own transpose flag. A batch stride of 0 is legal for
// cublasSgemmStridedBatched and gives NumPy's batch broadcasting.
//
//===----------------------------------------------------------------------===//

#include "common.cuh"
#include "context.h"

#include <climits>

namespace cleave::rt::cuda {

void matmul(const float *a, const float *b, float *c, int64_t batch, int64_t m, int64_t n,
            int64_t k, bool transpose_a, bool transpose_b, int64_t batch_stride_a,
            int64_t batch_stride_b, bool accumulate) {
  KERNEL_CHECK(batch >= 0 && m >= 0 && n >= 0 && k >= 0, "negative matmul size");
  KERNEL_CHECK(batch_stride_a >= 0 && batch_stride_b >= 0, "negative batch stride");
  if (batch == 0 || m == 0 || n == 0)
    return;
  if (k == 0) {
    // An empty sum: spelled out, so that an uninitialised C cannot leak NaN.
    if (!accumulate)
      CLEAVE_CUDA_CHECK(cudaMemsetAsync(c, 0, batch * m * n * sizeof(float), 0));
    return;
  }
  KERNEL_CHECK(m <= INT_MAX && n <= INT_MAX && k <= INT_MAX && batch <= INT_MAX,
               "matrix too large for cuBLAS");
  const int lda = static_cast<int>(transpose_a ? m : k); // row-major leading dimensions
  const int ldb = static_cast<int>(transpose_b ? k : n);
  const float alpha = 1.0f;
  // beta == 0: cuBLAS does not read C, so C may hold garbage (even NaN).
  const float beta = accumulate ? 1.0f : 0.0f;
  CLEAVE_CUBLAS_CHECK(cublasSgemmStridedBatched(
      detail::cublas_handle(), transpose_b ? CUBLAS_OP_T : CUBLAS_OP_N,
      transpose_a ? CUBLAS_OP_T : CUBLAS_OP_N, static_cast<int>(n), static_cast<int>(m),
      static_cast<int>(k), &alpha, b, ldb, batch_stride_b, a, lda, batch_stride_a, &beta, c,
      static_cast<int>(n), m * n, static_cast<int>(batch)));
}

} // namespace cleave::rt::cuda
