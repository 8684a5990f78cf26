//===- TestUtil.cpp - scratch directories and in-process runs for tests -----===//
#include "TestUtil.h"

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>

namespace cleave::rt::test {

TempDir::TempDir() {
  const char *base = std::getenv("TMPDIR");
  std::string pattern = std::string(base && *base ? base : "/tmp") + "/cleave-rt-test-XXXXXX";
  if (!mkdtemp(pattern.data()))
    throw std::runtime_error("mkdtemp failed");
  path_ = pattern;
}

TempDir::~TempDir() {
  std::error_code ignored;
  std::filesystem::remove_all(path_, ignored);
}

std::string read_bytes(const std::string &path) {
  std::ifstream in(path, std::ios::binary);
  if (!in)
    throw std::runtime_error("cannot read " + path);
  std::ostringstream bytes;
  bytes << in.rdbuf();
  return bytes.str();
}

void write_bytes(const std::string &path, const std::string &bytes) {
  std::ofstream out(path, std::ios::binary);
  out << bytes;
  if (!out)
    throw std::runtime_error("cannot write " + path);
}

bool file_exists(const std::string &path) { return std::filesystem::exists(path); }

std::vector<std::string> list_dir(const std::string &dir) {
  std::vector<std::string> names;
  for (const auto &entry : std::filesystem::directory_iterator(dir))
    names.push_back(entry.path().filename().string());
  std::sort(names.begin(), names.end());
  return names;
}

static std::vector<char *> make_argv(std::vector<std::string> &storage) {
  std::vector<char *> argv;
  for (std::string &arg : storage)
    argv.push_back(arg.data());
  argv.push_back(nullptr);
  return argv;
}

TrainConfig parse(const std::vector<std::string> &args, const ModelInfo &model) {
  std::vector<std::string> storage = {"trainer"};
  storage.insert(storage.end(), args.begin(), args.end());
  std::vector<char *> argv = make_argv(storage);
  std::optional<TrainConfig> config =
      parse_command_line(static_cast<int>(storage.size()), argv.data(), model);
  if (!config)
    throw std::runtime_error("--help");
  return *config;
}

int run(const std::vector<std::string> &args, const ModelInfo &model, StepFunction step) {
  std::vector<std::string> storage = {"trainer"};
  storage.insert(storage.end(), args.begin(), args.end());
  std::vector<char *> argv = make_argv(storage);
  return cpu::run_training(static_cast<int>(storage.size()), argv.data(), model, step);
}

std::vector<std::string> metric_losses(const std::string &path) {
  std::vector<std::string> losses;
  std::istringstream lines(read_bytes(path));
  std::string line;
  while (std::getline(lines, line)) {
    size_t start = line.find("\"loss\":");
    if (start == std::string::npos)
      continue;
    start += 7;
    losses.push_back(line.substr(start, line.find(',', start) - start));
  }
  return losses;
}

} // namespace cleave::rt::test
