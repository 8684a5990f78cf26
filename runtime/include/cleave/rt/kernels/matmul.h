//===- matmul.h - the plans of the batched matrix products -----------------===//
#ifndef CLEAVE_RT_KERNELS_MATMUL_H
#define CLEAVE_RT_KERNELS_MATMUL_H

#include "cleave/rt/kernels/check.h"

#include <cstdint>

namespace cleave::rt::kernels {

/// What a batched product (kernels.h's matmul) comes down to.
struct MatmulPlan {
  /// Elements of C to set to zero first: an empty sum (k == 0) that does
  /// not accumulate. Spelled out rather than left to BLAS, which would scale
  /// C by beta = 0 and so keep a NaN of uninitialised memory.
  int64_t zeroed_elements = 0;
  /// Whether there is a product to compute (no empty dimension).
  bool gemm = false;
};

/// Checks matmul's sizes and strides and says what work is left.
CheckFailure plan_matmul(int64_t batch, int64_t m, int64_t n, int64_t k, int64_t batch_stride_a,
                         int64_t batch_stride_b, bool accumulate, MatmulPlan &plan);

/// Where matmul_bf16 keeps the rounded operands in its scratch: A's span at
/// 0, B's at b_offset, each span every element some batch entry reads.
struct MatmulBf16Scratch {
  int64_t a_elements, b_elements;
  int64_t b_offset, total; // bytes
};

/// The layout for rounded elements of `element_bytes` (4: fp32 copies on
/// the CPU, 2: bf16 on CUDA), each span aligned to `alignment` bytes.
MatmulBf16Scratch matmul_bf16_scratch(int64_t batch, int64_t m, int64_t n, int64_t k,
                                      int64_t batch_stride_a, int64_t batch_stride_b,
                                      int64_t element_bytes, int64_t alignment);

/// matmul_bf16: matmul's plan, and where the rounded copies of A and B go
/// (only for a real product, which needs the scratch).
struct MatmulBf16Plan {
  MatmulPlan product;
  void *a_copy = nullptr, *b_copy = nullptr;
  int64_t a_elements = 0, b_elements = 0;
};

CheckFailure plan_matmul_bf16(int64_t batch, int64_t m, int64_t n, int64_t k,
                              int64_t batch_stride_a, int64_t batch_stride_b, bool accumulate,
                              void *scratch, int64_t element_bytes, int64_t alignment,
                              MatmulBf16Plan &plan);

} // namespace cleave::rt::kernels

#endif // CLEAVE_RT_KERNELS_MATMUL_H
