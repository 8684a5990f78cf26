//===- check.h - how a kernel plan reports a bad argument ------------------===//
//
// A plan (the target-independent half of a kernel: validation,
// simplification, strides) does not stop the process itself: it returns the
// first check that failed, so that the unit tests can see every error case.
// The backend's execute half passes that on to its own KERNEL_CHECK report,
// which stops the process naming the plan's file and line: a failed check
// is a bug in the generated code, never bad data.
//
//===----------------------------------------------------------------------===//
#ifndef CLEAVE_RT_KERNELS_CHECK_H
#define CLEAVE_RT_KERNELS_CHECK_H

namespace cleave::rt::kernels {

/// The check a plan failed, or none (false).
struct [[nodiscard]] CheckFailure {
  const char *file = nullptr;
  int line = 0;
  const char *condition = nullptr;
  const char *message = nullptr; // what the caller got wrong

  explicit operator bool() const { return condition != nullptr; }
};

} // namespace cleave::rt::kernels

/// PLAN_CHECK(condition, "what the caller got wrong"), inside a function
/// that returns a CheckFailure.
#define PLAN_CHECK(condition, message)                                                             \
  do {                                                                                             \
    if (!(condition))                                                                              \
      return ::cleave::rt::kernels::CheckFailure{__FILE__, __LINE__, #condition, message};         \
  } while (0)

/// Returns the failure of a nested plan step, if any.
#define PLAN_TRY(step)                                                                             \
  do {                                                                                             \
    if (const ::cleave::rt::kernels::CheckFailure plan_failure_ = (step))                          \
      return plan_failure_;                                                                        \
  } while (0)

#endif // CLEAVE_RT_KERNELS_CHECK_H
