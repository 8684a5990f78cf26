//===- CheckTest.cpp - CLEAVE_CHECK and Error --------------------------------===//
#include "cleave/rt/check.h"

#include <catch2/catch.hpp>

#include <cstdio>
#include <iostream>
#include <sys/wait.h>
#include <unistd.h>

using namespace cleave::rt;
using Catch::Matchers::Contains;

TEST_CASE("check: CLEAVE_CHECK exits 1 with file, line, condition and message",
          "[runtime][check]") {
  int fds[2];
  REQUIRE(pipe(fds) == 0);
  std::cout.flush();
  std::fflush(nullptr);
  pid_t child = fork();
  REQUIRE(child >= 0);
  if (child == 0) {
    dup2(fds[1], STDERR_FILENO);
    close(fds[0]);
    int answer = 41;
    CLEAVE_CHECK(answer == 42, "the answer is ", answer);
    _exit(0);
  }
  close(fds[1]);
  std::string output;
  char buffer[256];
  ssize_t got;
  while ((got = read(fds[0], buffer, sizeof buffer)) > 0)
    output.append(buffer, static_cast<size_t>(got));
  close(fds[0]);
  int status = 0;
  REQUIRE(waitpid(child, &status, 0) == child);
  REQUIRE(WIFEXITED(status)); // exited, not killed by SIGABRT
  CHECK(WEXITSTATUS(status) == 1);
  CHECK_THAT(output,
             Contains("CheckTest.cpp:") && Contains("`answer == 42` failed: the answer is 41"));
}

TEST_CASE("check: fail throws Error with the streamed message", "[runtime][check]") {
  REQUIRE_THROWS_AS(fail("x"), Error);
  REQUIRE_THROWS_WITH(fail("file '", "a.npy", "' has ", 3, " rows"), "file 'a.npy' has 3 rows");
}
