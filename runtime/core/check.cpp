//===- check.cpp - failure reporting for the runtime -----------------------===//
#include "cleave/rt/check.h"

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace cleave::rt {
namespace {

[[noreturn]] void report_and_exit(const char *file, int line, const std::string &where,
                                  const char *condition, const char *message) {
  // Progress lines go to stdout: flush them so the failure lands after them.
  std::fflush(stdout);
  std::fprintf(stderr, "%s:%d: internal error%s: `%s` failed: %s\n", file, line, where.c_str(),
               condition, message);
  std::fflush(stderr);
  // exit, not abort: a failed check is a reported error, not a crash to debug
  // from a core file.
  std::exit(1);
}

} // namespace

void detail::check_failed(const char *file, int line, const char *condition,
                          const std::string &message) {
  report_and_exit(file, line, "", condition, message.c_str());
}

void detail::kernel_check_failed(const char *file, int line, const char *kernel,
                                 const char *condition, const char *message) {
  report_and_exit(file, line, kernel ? std::string(" in kernel ") + kernel : std::string(),
                  condition, message);
}

std::string last_system_error() { return std::strerror(errno); }

} // namespace cleave::rt
