//===- CustomTargetTrainer.cpp - cleave-rt-demo-custom-target ---------------===//
//
// How a non-CPU runtime plugs in (driver.h): it defines run_training itself
// and passes its DeviceMemory to the driver. This executable does so with a
// memory that is not "host" as far as the driver knows, so that building it
// checks the override links (core's own run_training is not pulled in) and
// running it checks that training goes through copy_to_device/copy_to_host.
//
//===----------------------------------------------------------------------===//
#include "DemoModel.h"

#include "cleave/rt/training_loop.h"

#include <cstring>

namespace cleave::rt {
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

int run_training(int argc, char **argv, const ModelInfo &model, StepFunction step) {
  CustomMemory memory;
  return run_training(argc, argv, model, step, memory);
}

} // namespace cleave::rt

int main(int argc, char **argv) {
  static const cleave::rt::ModelInfo model = cleave::rt::demo::linear_model(CLEAVE_DEMO_MODEL_PATH);
  return cleave::rt::run_training(argc, argv, model, cleave::rt::demo::linear_step);
}
