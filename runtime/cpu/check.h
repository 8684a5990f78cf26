//===- check.h - argument checks for the CPU kernels ----------------------===//
//
// A failed check is a bug in the generated code or the driver (shapes that
// disagree, a null pointer), never bad data, so it stops the process at
// once, naming the file and line. Bad data (an index out of range) goes
// through the kernels' invalid_flag instead.
//
//===----------------------------------------------------------------------===//
#ifndef CLEAVE_RT_CPU_CHECK_H
#define CLEAVE_RT_CPU_CHECK_H

#include <cstdio>
#include <cstdlib>

namespace cleave::rt::cpu {

[[noreturn]] inline void check_failed(const char *file, int line, const char *condition,
                                      const char *message) {
  std::fprintf(stderr, "cleave runtime: check failed at %s:%d: %s (%s)\n", file, line, condition,
               message);
  std::abort();
}

} // namespace cleave::rt::cpu

/// KERNEL_CHECK(condition, "what the caller got wrong")
#define KERNEL_CHECK(condition, message)                                                           \
  do {                                                                                             \
    if (!(condition))                                                                              \
      ::cleave::rt::cpu::check_failed(__FILE__, __LINE__, #condition, message);                    \
  } while (0)

#endif // CLEAVE_RT_CPU_CHECK_H
