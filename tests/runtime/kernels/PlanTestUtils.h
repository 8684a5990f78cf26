//===- PlanTestUtils.h - looking at a kernel plan's failed check -----------===//
#ifndef CLEAVE_TESTS_RUNTIME_KERNELS_PLANTESTUTILS_H
#define CLEAVE_TESTS_RUNTIME_KERNELS_PLANTESTUTILS_H

#include "cleave/rt/kernels/check.h"

#include <string>

namespace cleave::rt::test {

/// The message of the check a plan failed, "" when it passed. The backends
/// print this message (with the check's file and line) and stop.
inline std::string failure_message(const kernels::CheckFailure &failure) {
  return failure ? failure.message : "";
}

} // namespace cleave::rt::test

#endif // CLEAVE_TESTS_RUNTIME_KERNELS_PLANTESTUTILS_H
