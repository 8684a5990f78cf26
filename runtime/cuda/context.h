//===- context.h - the cuBLAS handle of the current device -----------------===//
#ifndef CLEAVE_RT_CUDA_CONTEXT_H
#define CLEAVE_RT_CUDA_CONTEXT_H

#include <cublas_v2.h>

namespace cleave::rt::cuda::detail {

/// The current device's handle, created on first use, bound to the legacy
/// default stream, with TF32 on or off as set_allow_tf32 says.
cublasHandle_t cublas_handle();

} // namespace cleave::rt::cuda::detail

#endif // CLEAVE_RT_CUDA_CONTEXT_H
