//===- run_training.cpp - run_training for the CPU target ------------------===//
//
// The entry point generated programs call (model.h). It lives in its own
// object file on purpose: a CUDA runtime library defines its own
// run_training(argc, argv, model, step) handing its DeviceMemory to the
// overload in driver.h, and, linked before cleave_rt_core, it is the
// definition the linker picks; this object is then never pulled in.
//
//===----------------------------------------------------------------------===//
#include "cleave/rt/training_loop.h"

#include <cstdio>
#include <string>

namespace cleave::rt {

int run_training(int argc, char **argv, const ModelInfo &model, StepFunction step) {
  if (model.target && std::string(model.target) != "cpu") {
    std::fprintf(stderr,
                 "%s: error: the model was compiled for target '%s', but this executable "
                 "was linked with the CPU runtime only\n",
                 argc > 0 && argv[0] ? argv[0] : "train", model.target);
    return 1;
  }
  return run_training(argc, argv, model, step, host_memory());
}

} // namespace cleave::rt
