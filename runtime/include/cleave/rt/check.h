//===- check.h - failure reporting for the runtime -------------------------===//
//
// Two ways to fail, for two kinds of mistakes:
//
//  * cleave::rt::Error is a mistake the user can fix: a bad flag, a missing
//    or malformed file, a checkpoint that belongs to another model. Library
//    code throws it; the driver catches it, prints "<exe>: error: <message>"
//    and returns a non-zero exit code. Tests check the message.
//
//  * CLEAVE_CHECK is a broken internal invariant (inconsistent ModelInfo
//    from the code generator, an allocation that cannot succeed): it prints
//    the file, line and condition and exits with status 1, like llm.c's
//    check macros. It never aborts, so no core dump is left behind.
//
//  * KERNEL_CHECK is the same for the kernels of every backend (CPU and
//    CUDA host code): an argument only generated code can get wrong (shapes
//    that disagree, a null scratch buffer). Its message names the kernel
//    (the enclosing function) as well; bad data (an index out of range)
//    goes through the kernels' invalid_flag instead.
//
//===----------------------------------------------------------------------===//
#ifndef CLEAVE_RT_CHECK_H
#define CLEAVE_RT_CHECK_H

#include <sstream>
#include <stdexcept>
#include <string>

namespace cleave::rt {

/// An error the user can fix; its message is complete on its own.
class Error : public std::runtime_error {
public:
  using std::runtime_error::runtime_error;
};

namespace detail {

/// Streams every argument into one string.
template <typename... Args> std::string concat(const Args &...args) {
  std::ostringstream os;
  (os << ... << args);
  return os.str();
}

/// Prints "<file>:<line>: internal error: `<condition>` failed: <message>"
/// to stderr and exits with status 1.
[[noreturn]] void check_failed(const char *file, int line, const char *condition,
                               const std::string &message);

/// Prints "<file>:<line>: internal error in kernel <kernel>: `<condition>`
/// failed: <message>" to stderr and exits with status 1. `kernel` may be
/// null where the caller does not know it (" in kernel <kernel>" is then
/// left out).
[[noreturn]] void kernel_check_failed(const char *file, int line, const char *kernel,
                                      const char *condition, const char *message);

} // namespace detail

/// Throws Error whose message is the arguments streamed together.
template <typename... Args> [[noreturn]] void fail(const Args &...args) {
  throw Error(detail::concat(args...));
}

/// strerror(errno) for the last failed system call, for error messages.
std::string last_system_error();

} // namespace cleave::rt

/// Exits with file, line and message when `cond` is false. For invariants
/// only; errors a user can cause throw cleave::rt::Error instead.
#define CLEAVE_CHECK(cond, ...)                                                                    \
  do {                                                                                             \
    if (!(cond))                                                                                   \
      ::cleave::rt::detail::check_failed(__FILE__, __LINE__, #cond,                                \
                                         ::cleave::rt::detail::concat(__VA_ARGS__));               \
  } while (0)

/// KERNEL_CHECK(condition, "what the caller got wrong"): CLEAVE_CHECK for
/// kernel arguments, naming the kernel; the message is a string literal so
/// that the check costs nothing when it holds.
#define KERNEL_CHECK(condition, message)                                                           \
  do {                                                                                             \
    if (!(condition))                                                                              \
      ::cleave::rt::detail::kernel_check_failed(__FILE__, __LINE__, __func__, #condition,          \
                                                message);                                          \
  } while (0)

#endif // CLEAVE_RT_CHECK_H
