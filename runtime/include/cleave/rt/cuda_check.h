//===- cuda_check.h - CUDA and cuBLAS error checks with file and line ------===//
//
// CLEAVE_CUDA_CHECK(call) wraps every CUDA runtime call of the CUDA runtime
// library and of the code cleavec generates for --target cuda. A failure is
// a broken invariant of the program (an illegal address, a launch with a bad
// configuration, a lost device), not something the user can fix, so, like
// CLEAVE_CHECK (check.h) and llm.c's cudaCheck, it prints the file, line,
// call and CUDA's own message and exits with status 1 (no abort, no core
// file). Running out of GPU memory when allocating the model's tensors is
// the user-fixable exception: the CUDA DeviceMemory reports that through
// cleave::rt::Error instead.
//
//===----------------------------------------------------------------------===//
#ifndef CLEAVE_RT_CUDA_CHECK_H
#define CLEAVE_RT_CUDA_CHECK_H

#include <cuda_runtime.h>

namespace cleave::rt::cuda::detail {

/// Prints "<file>:<line>: CUDA error <name> (<message>) in `<call>`" to
/// stderr and exits with status 1.
[[noreturn]] void cuda_failed(cudaError_t error, const char *file, int line, const char *call);

/// The same for a cuBLAS status (an int so that this header needs no
/// cublas_v2.h).
[[noreturn]] void cublas_failed(int status, const char *file, int line, const char *call);

} // namespace cleave::rt::cuda::detail

#define CLEAVE_CUDA_CHECK(call)                                                                    \
  do {                                                                                             \
    const cudaError_t cleave_cuda_error_ = (call);                                                 \
    if (cleave_cuda_error_ != cudaSuccess)                                                         \
      ::cleave::rt::cuda::detail::cuda_failed(cleave_cuda_error_, __FILE__, __LINE__, #call);      \
  } while (0)

#define CLEAVE_CUBLAS_CHECK(call)                                                                  \
  do {                                                                                             \
    const int cleave_cublas_status_ = static_cast<int>(call);                                      \
    if (cleave_cublas_status_ != 0)                                                                \
      ::cleave::rt::cuda::detail::cublas_failed(cleave_cublas_status_, __FILE__, __LINE__, #call); \
  } while (0)

#endif // CLEAVE_RT_CUDA_CHECK_H
