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

#include "cleave/rt/bf16.h"

#include <climits>

namespace cleave::rt::cuda {
namespace {

/// Where the rounded B starts in scratch, and the alignment cuBLAS's
/// tensor-core kernels like best (they need 16 bytes).
constexpr int64_t kScratchAlignment = 256;

int64_t align_up(int64_t bytes) { return ceil_div(bytes, kScratchAlignment) * kScratchAlignment; }

/// Elements one operand's batch spans: every matrix that some batch entry
/// reads, from the first element to the last. A stride of 0 is one matrix.
int64_t operand_span(int64_t batch, int64_t stride, int64_t matrix_elements) {
  if (batch == 0 || matrix_elements == 0)
    return 0;
  return stride == 0 ? matrix_elements : (batch - 1) * stride + matrix_elements;
}

__global__ void round_to_bf16_kernel(const float *__restrict__ from, uint16_t *__restrict__ to,
                                     int64_t n) {
  for (int64_t i = global_thread(); i < n; i += grid_threads())
    to[i] = float_to_bf16_bits(from[i]);
}

void round_span(const float *from, uint16_t *to, int64_t n) {
  if (n == 0)
    return;
  round_to_bf16_kernel<<<blocks_for(n), kBlockSize>>>(from, to, n);
  CLEAVE_CUDA_CHECK_LAUNCH();
}

} // namespace

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

int64_t matmul_bf16_scratch_bytes(int64_t batch, int64_t m, int64_t n, int64_t k,
                                  int64_t batch_stride_a, int64_t batch_stride_b) {
  (void)n;
  return align_up(operand_span(batch, batch_stride_a, m * k) * int64_t(sizeof(uint16_t))) +
         align_up(operand_span(batch, batch_stride_b, k * n) * int64_t(sizeof(uint16_t)));
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
  KERNEL_CHECK(m <= INT_MAX && n <= INT_MAX && k <= INT_MAX && batch <= INT_MAX,
               "matrix too large for cuBLAS");
  const int64_t span_a = operand_span(batch, batch_stride_a, m * k);
  const int64_t span_b = operand_span(batch, batch_stride_b, k * n);
  auto *rounded_a = static_cast<uint16_t *>(scratch);
  auto *rounded_b = reinterpret_cast<uint16_t *>(static_cast<char *>(scratch) +
                                                 align_up(span_a * int64_t(sizeof(uint16_t))));
  round_span(a, rounded_a, span_a);
  round_span(b, rounded_b, span_b);
  const int lda = static_cast<int>(transpose_a ? m : k); // row-major leading dimensions
  const int ldb = static_cast<int>(transpose_b ? k : n);
  const float alpha = 1.0f;
  const float beta = accumulate ? 1.0f : 0.0f; // 0: C is not read (may be NaN)
  CLEAVE_CUBLAS_CHECK(cublasGemmStridedBatchedEx(
      detail::cublas_handle(), transpose_b ? CUBLAS_OP_T : CUBLAS_OP_N,
      transpose_a ? CUBLAS_OP_T : CUBLAS_OP_N, static_cast<int>(n), static_cast<int>(m),
      static_cast<int>(k), &alpha, rounded_b, CUDA_R_16BF, ldb, batch_stride_b, rounded_a,
      CUDA_R_16BF, lda, batch_stride_a, &beta, c, CUDA_R_32F, static_cast<int>(n), m * n,
      static_cast<int>(batch), CUBLAS_COMPUTE_32F, CUBLAS_GEMM_DEFAULT));
}

} // namespace cleave::rt::cuda
