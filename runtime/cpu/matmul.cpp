//===- matmul.cpp - batched sgemm -----------------------------------------===//

#include "cleave/rt/kernels/matmul.h"
#include "cleave/rt/kernels.h"

#include "check.h"
#include "parallel.h"
#include "require.h"

#include <cblas.h>

#include <type_traits>

namespace cleave::rt::cpu {

// OpenBLAS 0.3 runs an sgemm with m*n*k below 4 * 65536 on the calling
// thread alone (GEMM_MULTITHREAD_THRESHOLD * SMP_THRESHOLD_MIN in
// interface/gemm.c). Such small products gain from spreading the batch over
// OpenMP threads instead; larger ones are left to OpenBLAS's own threads,
// since nesting both would oversubscribe the cores.
constexpr int64_t kSingleThreadedGemmVolume = 4 * 65536;

template <typename T>
static void gemm_batched(const T *a, const T *b, T *c, int64_t batch, int64_t m, int64_t n,
                         int64_t k, bool transpose_a, bool transpose_b, int64_t batch_stride_a,
                         int64_t batch_stride_b, bool accumulate) {
  kernels::MatmulPlan plan;
  require(kernels::plan_matmul(batch, m, n, k, batch_stride_a, batch_stride_b, accumulate, plan));
  for (int64_t i = 0; i < plan.zeroed_elements; ++i)
    c[i] = T(0);
  if (!plan.gemm)
    return;
  // Products that share B (a linear layer over [batch, rows, features])
  // with A's entries back to back are one product with batch * m rows: one
  // large sgemm runs at ~75 GFLOP/s on a Zen core where eight of 128 rows
  // reach ~55 (OpenBLAS packs B once instead of once per entry).
  if (batch > 1 && batch_stride_b == 0 && !transpose_a && batch_stride_a == m * k) {
    m *= batch;
    batch = 1;
  }
  KERNEL_CHECK(m <= INT32_MAX && n <= INT32_MAX && k <= INT32_MAX, "matrix too large for BLAS");
  const int lda = static_cast<int>(transpose_a ? m : k);
  const int ldb = static_cast<int>(transpose_b ? k : n);
  const T beta = accumulate ? T(1) : T(0);
  auto multiply = [&](int64_t entry) {
    auto gemm = [](auto... args) {
      if constexpr (std::is_same_v<T, float>)
        cblas_sgemm(args...);
      else
        cblas_dgemm(args...);
    };
    gemm(CblasRowMajor, transpose_a ? CblasTrans : CblasNoTrans,
         transpose_b ? CblasTrans : CblasNoTrans, static_cast<int>(m), static_cast<int>(n),
         static_cast<int>(k), T(1), a + entry * batch_stride_a, lda, b + entry * batch_stride_b,
         ldb, beta, c + entry * m * n, static_cast<int>(n));
  };
  if (batch > 1 && m * n * k <= kSingleThreadedGemmVolume) {
#pragma omp parallel for schedule(static) if (worth_parallel(batch * m * n * k))
    for (int64_t entry = 0; entry < batch; ++entry)
      multiply(entry);
  } else {
    for (int64_t entry = 0; entry < batch; ++entry)
      multiply(entry);
  }
}

void matmul(const float *a, const float *b, float *c, int64_t batch, int64_t m, int64_t n,
            int64_t k, bool transpose_a, bool transpose_b, int64_t batch_stride_a,
            int64_t batch_stride_b, bool accumulate) {
  gemm_batched(a, b, c, batch, m, n, k, transpose_a, transpose_b, batch_stride_a, batch_stride_b,
               accumulate);
}

void matmul(const double *a, const double *b, double *c, int64_t batch, int64_t m, int64_t n,
            int64_t k, bool transpose_a, bool transpose_b, int64_t batch_stride_a,
            int64_t batch_stride_b, bool accumulate) {
  gemm_batched(a, b, c, batch, m, n, k, transpose_a, transpose_b, batch_stride_a, batch_stride_b,
               accumulate);
}

} // namespace cleave::rt::cpu
