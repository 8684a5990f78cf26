//===- KillResumeTest.cpp - SIGKILL a training process, resume, compare ----===//
//
// Runs cleave-rt-demo-trainer as a separate process (fork + exec), kills it
// with SIGKILL in the middle of training, resumes it from its checkpoint
// directory, and checks that the losses of the whole run equal those of a
// run that was never interrupted.
//
//===----------------------------------------------------------------------===//
#include "DemoModel.h"
#include "TestUtil.h"

#include "cleave/rt/checkpoint.h"

#include <catch2/catch.hpp>

#include <chrono>
#include <csignal>
#include <cstdlib>
#include <fcntl.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

using namespace cleave::rt;
using test::TempDir;

namespace {

/// Starts the demo trainer with `args`, stdout and stderr into `log`, and
/// CLEAVE_DEMO_STEP_SLEEP_MS = `sleep_ms`. Returns its pid.
pid_t start_trainer(const std::vector<std::string> &args, const std::string &log, int sleep_ms) {
  std::vector<std::string> storage = {CLEAVE_DEMO_TRAINER};
  storage.insert(storage.end(), args.begin(), args.end());
  std::vector<char *> argv;
  for (std::string &arg : storage)
    argv.push_back(arg.data());
  argv.push_back(nullptr);
  std::string sleep_text = std::to_string(sleep_ms);
  std::fflush(nullptr);
  pid_t child = fork();
  if (child == 0) {
    int fd = open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    dup2(fd, STDOUT_FILENO);
    dup2(fd, STDERR_FILENO);
    setenv("CLEAVE_DEMO_STEP_SLEEP_MS", sleep_text.c_str(), 1);
    execv(argv[0], argv.data());
    _exit(127);
  }
  return child;
}

int wait_exit_code(pid_t child) {
  int status = 0;
  waitpid(child, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -WTERMSIG(status);
}

size_t metric_lines(const std::string &path) {
  return test::file_exists(path) ? test::metric_losses(path).size() : 0;
}

} // namespace

TEST_CASE("kill: a run killed with SIGKILL resumes to the uninterrupted losses",
          "[runtime][kill]") {
  TempDir dir;
  demo::write_linear_data(dir.path(), 40);
  auto args = [&](const std::string &name) {
    return std::vector<std::string>{"--data",
                                    "x=" + dir / "x.npy" + ",y=" + dir / "y.npy",
                                    "--steps",
                                    "60",
                                    "--shuffle",
                                    "--seed",
                                    "9",
                                    "--schedule",
                                    "cosine",
                                    "--warmup",
                                    "6",
                                    "--checkpoint-every",
                                    "8",
                                    "--log-every",
                                    "5",
                                    "--checkpoint-dir",
                                    dir / name,
                                    "--metrics",
                                    dir / (name + ".jsonl")};
  };

  pid_t reference = start_trainer(args("reference"), dir / "reference.log", 0);
  REQUIRE(wait_exit_code(reference) == 0);

  // 30 ms per step: kill once step 21 is logged (checkpoints at 8 and 16
  // exist), over a second before the run could reach step 60.
  pid_t victim = start_trainer(args("killed"), dir / "killed.log", 30);
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (metric_lines(dir / "killed.jsonl") < 21 && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  kill(victim, SIGKILL);
  REQUIRE(wait_exit_code(victim) == -SIGKILL);
  size_t logged = metric_lines(dir / "killed.jsonl");
  INFO("steps logged before the kill: " << logged);
  REQUIRE(logged >= 21);
  REQUIRE(logged < 60);
  int64_t checkpointed = Checkpoint(resolve_checkpoint("", dir / "killed")).meta().step;
  CHECK(checkpointed >= 16);
  CHECK(checkpointed % 8 == 0);

  std::vector<std::string> resume_args = args("killed");
  resume_args.push_back("--resume");
  pid_t resumed = start_trainer(resume_args, dir / "resumed.log", 0);
  REQUIRE(wait_exit_code(resumed) == 0);
  CHECK_THAT(test::read_bytes(dir / "resumed.log"),
             Catch::Matchers::Contains("resumed from " + dir / "killed/ckpt-"));

  std::vector<std::string> expected = test::metric_losses(dir / "reference.jsonl");
  REQUIRE(expected.size() == 60);
  CHECK(test::metric_losses(dir / "killed.jsonl") == expected);
  CHECK(test::read_bytes(dir / "killed/ckpt-00000060.safetensors") ==
        test::read_bytes(dir / "reference/ckpt-00000060.safetensors"));
}
