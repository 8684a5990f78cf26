//===- require.cuh - the CUDA kernels' answer to a failed plan check -------===//
#ifndef CLEAVE_RT_CUDA_REQUIRE_CUH
#define CLEAVE_RT_CUDA_REQUIRE_CUH

#include "cleave/rt/kernels/check.h"

#include "common.cuh"

namespace cleave::rt::cuda {

/// Stops the process as KERNEL_CHECK does, naming the plan's check, when
/// a kernel plan (cleave/rt/kernels) failed one.
inline void require(const kernels::CheckFailure &failure) {
  if (failure)
    detail::kernel_check_failed(failure.file, failure.line, failure.condition, failure.message);
}

} // namespace cleave::rt::cuda

#endif // CLEAVE_RT_CUDA_REQUIRE_CUH
