//===- check.cpp - failure reporting for the runtime -----------------------===//
#include "cleave/rt/check.h"

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace cleave::rt {

void detail::check_failed(const char *file, int line, const char *condition,
                          const std::string &message) {
  // Progress lines go to stdout: flush them so the failure lands after them.
  std::fflush(stdout);
  std::fprintf(stderr, "%s:%d: internal error: `%s` failed: %s\n", file, line, condition,
               message.c_str());
  std::fflush(stderr);
  // exit, not abort: a failed check is a reported error, not a crash to debug
  // from a core file.
  std::exit(1);
}

std::string last_system_error() { return std::strerror(errno); }

} // namespace cleave::rt
