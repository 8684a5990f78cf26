//===- cpu_training.cpp - the CPU backend's entry point -------------------===//
//
// cpu::run_training (model.h), which generated CPU programs' main() calls:
// the training loop with host memory. It lives in cleave_rt_cpu, beside the
// kernels, so that only a program linked with the CPU runtime finds it.
//
//===----------------------------------------------------------------------===//
#include "cleave/rt/training_loop.h"

#include <cstdio>
#include <string>

namespace cleave::rt::cpu {

int run_training(int argc, char **argv, const ModelInfo &model, StepFunction step) {
  std::string wrong = wrong_target(model, "cpu", "the CPU runtime only");
  if (!wrong.empty()) {
    std::fprintf(stderr, "%s: error: %s\n", argc > 0 && argv[0] ? argv[0] : "train", wrong.c_str());
    return 1;
  }
  return rt::run_training(argc, argv, model, step, host_memory());
}

} // namespace cleave::rt::cpu
