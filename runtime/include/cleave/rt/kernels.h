//===- kernels.h - the kernels generated train steps call ----------------===//
//
// One function per cleave op family (and per gradient the train step needs),
// declared once for every backend in kernels/api.inc and implemented for
// the CPU in namespace cleave::rt::cpu (OpenBLAS + OpenMP, runtime/cpu). The
// CUDA backend implements the same declarations in cleave::rt::cuda with
// device pointers (cuda_kernels.h), which is why every signature holds
// only plain pointers, int64 sizes and small POD parameter structs: no
// containers, no allocation. Kernels that need temporary memory take a
// caller-provided `scratch` pointer sized by the matching *_scratch_bytes().
// Each kernel is a target-independent plan (argument checks, simplified
// shapes, strides: runtime/kernels, kernels/*.h) and a backend's execute.
//
// Conventions for every kernel below:
//   - tensors are dense, row-major (C order) and do not overlap unless a
//     comment says otherwise;
//   - elements are fp32 unless the signature says otherwise; indices are
//     int64 or int32, booleans uint8 (0 or 1);
//   - "any element type" kernels copy `element_bytes`-sized elements and
//     never look at their values;
//   - ranks are at most kMaxRank;
//   - a bad argument that only generated code can cause (mismatched shapes,
//     a rank too large, missing scratch) stops the process with the file
//     and line of the check; bad *data* (an index out of range) never does:
//     it sets `*invalid_flag = 1` and the kernel goes on (see gather);
//   - kernels keep no state: any thread may call any of them, and they use
//     the OpenMP team only when the tensors are large enough to pay for it.
//
//===----------------------------------------------------------------------===//
#ifndef CLEAVE_RT_KERNELS_H
#define CLEAVE_RT_KERNELS_H

#include "cleave/rt/kernels/sizes.h"
#include "cleave/rt/kernels/types.h"

#include <cstdint>

namespace cleave::rt::cpu {

#include "cleave/rt/kernels/api.inc"

//===----------------------------------------------------------------------===//
// CPU only
//===----------------------------------------------------------------------===//

/// matmul in double (dgemm), for f64 models on the CPU.
void matmul(const double *a, const double *b, double *c, int64_t batch, int64_t m, int64_t n,
            int64_t k, bool transpose_a, bool transpose_b, int64_t batch_stride_a,
            int64_t batch_stride_b, bool accumulate);

/// reduce in f64: f64 models such as ONNX's own node tests.
void reduce(const double *input, double *output, int64_t rank, const int64_t *shape,
            const int64_t *axes, int64_t num_axes, ReduceKind kind);

} // namespace cleave::rt::cpu

#endif // CLEAVE_RT_KERNELS_H
