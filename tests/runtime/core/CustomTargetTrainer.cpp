//===- CustomTargetTrainer.cpp - cleave-rt-demo-custom-target ---------------===//
//
// How a backend plugs in (training_loop.h): its entry point hands its
// DeviceMemory to run_training(argc, argv, model, step, memory), as
// cpu::run_training and cuda::run_training do. This executable does so with
// a memory that is not "host" as far as the training loop knows, so that
// running it checks that training goes through copy_to_device/copy_to_host.
//
//===----------------------------------------------------------------------===//
#include "DemoModel.h"

#include "cleave/rt/training_loop.h"

#include <cstring>

namespace cleave::rt::custom {
namespace {

class CustomMemory final : public DeviceMemory {
public:
  const char *name() const override { return "custom"; }
  bool is_host() const override { return false; }
  void *alloc(int64_t bytes) override { return host_memory().alloc(bytes); }
  void free(void *ptr) override { host_memory().free(ptr); }
  void copy_to_device(void *dst, const void *src, int64_t bytes) override {
    std::memcpy(dst, src, static_cast<size_t>(bytes));
  }
  void copy_to_host(void *dst, const void *src, int64_t bytes) override {
    std::memcpy(dst, src, static_cast<size_t>(bytes));
  }
};

} // namespace

/// This backend's entry point.
int run_training(int argc, char **argv, const ModelInfo &model, StepFunction step) {
  CustomMemory memory;
  return rt::run_training(argc, argv, model, step, memory);
}

} // namespace cleave::rt::custom

int main(int argc, char **argv) {
  static const cleave::rt::ModelInfo model = cleave::rt::demo::linear_model(CLEAVE_DEMO_MODEL_PATH);
  return cleave::rt::custom::run_training(argc, argv, model, cleave::rt::demo::linear_step);
}
