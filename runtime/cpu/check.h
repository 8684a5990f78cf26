//===- check.h - argument checks for the CPU kernels ----------------------===//
//
// KERNEL_CHECK is defined once for every backend, in cleave/rt/check.h
// (a message naming the kernel and the condition, then exit status 1).
//
//===----------------------------------------------------------------------===//
#ifndef CLEAVE_RT_CPU_CHECK_H
#define CLEAVE_RT_CPU_CHECK_H

#include "cleave/rt/check.h"

namespace cleave::rt::cpu {

/// KERNEL_CHECK's report for a failure that arrives as data rather than at
/// the check itself (a kernel plan's CheckFailure): the same message and
/// exit status, without the kernel's name.
[[noreturn]] inline void check_failed(const char *file, int line, const char *condition,
                                      const char *message) {
  ::cleave::rt::detail::kernel_check_failed(file, line, nullptr, condition, message);
}

} // namespace cleave::rt::cpu

#endif // CLEAVE_RT_CPU_CHECK_H
