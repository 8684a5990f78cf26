//===- CheckTest.cpp - CLEAVE_CHECK, KERNEL_CHECK and Error -----------------===//
#include "cleave/rt/check.h"
#include "cleave/rt/kernels.h"

#include <catch2/catch.hpp>

#include <cstdio>
#include <functional>
#include <iostream>
#include <sys/wait.h>
#include <unistd.h>

using namespace cleave::rt;
using Catch::Matchers::Contains;

namespace {

struct Exit {
  bool exited = false; // false when killed by a signal (SIGABRT)
  int status = -1;
  std::string stderr_text;
};

/// Runs `body` in a child process; how it ended and what it wrote to stderr.
Exit run_in_child(const std::function<void()> &body) {
  int fds[2];
  REQUIRE(pipe(fds) == 0);
  std::cout.flush();
  std::fflush(nullptr);
  pid_t child = fork();
  REQUIRE(child >= 0);
  if (child == 0) {
    dup2(fds[1], STDERR_FILENO);
    close(fds[0]);
    body();
    _exit(0);
  }
  close(fds[1]);
  Exit result;
  char buffer[256];
  ssize_t got;
  while ((got = read(fds[0], buffer, sizeof buffer)) > 0)
    result.stderr_text.append(buffer, static_cast<size_t>(got));
  close(fds[0]);
  int status = 0;
  REQUIRE(waitpid(child, &status, 0) == child);
  result.exited = WIFEXITED(status);
  result.status = result.exited ? WEXITSTATUS(status) : -1;
  return result;
}

/// Stands for a kernel: KERNEL_CHECK names the enclosing function.
void scale_rows(int64_t rows) { KERNEL_CHECK(rows >= 0, "negative row count"); }

} // namespace

TEST_CASE("check: CLEAVE_CHECK exits 1 with file, line, condition and message",
          "[runtime][check]") {
  Exit result = run_in_child([] {
    int answer = 41;
    CLEAVE_CHECK(answer == 42, "the answer is ", answer);
  });
  REQUIRE(result.exited); // exited, not killed by SIGABRT
  CHECK(result.status == 1);
  CHECK_THAT(result.stderr_text,
             Contains("CheckTest.cpp:") && Contains("`answer == 42` failed: the answer is 41"));
}

TEST_CASE("check: KERNEL_CHECK exits 1 naming the kernel and the condition, never aborts",
          "[runtime][check]") {
  Exit result = run_in_child([] { scale_rows(-3); });
  REQUIRE(result.exited); // the CPU kernels used to abort() here
  CHECK(result.status == 1);
  CHECK_THAT(result.stderr_text,
             Contains("CheckTest.cpp:") &&
                 Contains("internal error in kernel scale_rows: `rows >= 0` failed: "
                          "negative row count"));

  Exit passed = run_in_child([] { scale_rows(3); });
  CHECK(passed.exited);
  CHECK(passed.status == 0);
  CHECK(passed.stderr_text.empty());
}

TEST_CASE("check: a CPU kernel's failed KERNEL_CHECK exits 1 naming it", "[runtime][check]") {
  Exit result = run_in_child([] {
    uint8_t mask[1];
    cpu::bernoulli_mask(1, 0, -1, 0.5f, mask);
  });
  REQUIRE(result.exited);
  CHECK(result.status == 1);
  CHECK_THAT(result.stderr_text,
             Contains("random.cpp:") && Contains("in kernel bernoulli_mask: `n >= 0` failed: "
                                                 "negative mask size"));
}

TEST_CASE("check: a failure reported without the kernel's name has the same form",
          "[runtime][check]") {
  Exit result = run_in_child([] {
    detail::kernel_check_failed("plan.cpp", 12, nullptr, "rank <= 8", "too many dimensions");
  });
  REQUIRE(result.exited);
  CHECK(result.status == 1);
  CHECK_THAT(result.stderr_text,
             Contains("plan.cpp:12: internal error: `rank <= 8` failed: too many dimensions"));
}

TEST_CASE("check: fail throws Error with the streamed message", "[runtime][check]") {
  REQUIRE_THROWS_AS(fail("x"), Error);
  REQUIRE_THROWS_WITH(fail("file '", "a.npy", "' has ", 3, " rows"), "file 'a.npy' has 3 rows");
}
