//===- require.h - the CPU kernels' answer to a failed plan check ----------===//
#ifndef CLEAVE_RT_CPU_REQUIRE_H
#define CLEAVE_RT_CPU_REQUIRE_H

#include "cleave/rt/kernels/check.h"

#include "check.h"

namespace cleave::rt::cpu {

/// Stops the process as KERNEL_CHECK does, naming the plan's check, when
/// a kernel plan (cleave/rt/kernels) failed one.
inline void require(const kernels::CheckFailure &failure) {
  if (failure)
    check_failed(failure.file, failure.line, failure.condition, failure.message);
}

} // namespace cleave::rt::cpu

#endif // CLEAVE_RT_CPU_REQUIRE_H
