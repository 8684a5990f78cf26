//===- TestUtil.h - scratch directories and in-process runs for tests -------===//
#ifndef CLEAVE_TESTS_RUNTIME_TEST_UTIL_H
#define CLEAVE_TESTS_RUNTIME_TEST_UTIL_H

#include "cleave/rt/training_loop.h"

#include <cstdint>
#include <string>
#include <vector>

namespace cleave::rt::test {

/// A fresh directory under $TMPDIR (or /tmp), removed with its contents.
class TempDir {
public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir &) = delete;
  TempDir &operator=(const TempDir &) = delete;

  const std::string &path() const { return path_; }
  std::string operator/(const std::string &name) const { return path_ + "/" + name; }

private:
  std::string path_;
};

std::string read_bytes(const std::string &path);
void write_bytes(const std::string &path, const std::string &bytes);
bool file_exists(const std::string &path);
/// Names of the entries of `dir`, sorted.
std::vector<std::string> list_dir(const std::string &dir);

/// parse_command_line on {"trainer", args...}; throws what it throws.
TrainConfig parse(const std::vector<std::string> &args, const ModelInfo &model);

/// cpu::run_training on {"trainer", args...}; the exit code.
int run(const std::vector<std::string> &args, const ModelInfo &model, StepFunction step);

/// The "loss" values of a --metrics file, as written (exact text).
std::vector<std::string> metric_losses(const std::string &path);

} // namespace cleave::rt::test

#endif // CLEAVE_TESTS_RUNTIME_TEST_UTIL_H
