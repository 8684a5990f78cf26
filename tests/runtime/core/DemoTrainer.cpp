//===- DemoTrainer.cpp - cleave-rt-demo-trainer -----------------------------===//
//
// A training executable shaped like the ones cleavec generates: a ModelInfo
// (the linear demo model, its ONNX file written at build time by
// cleave-rt-demo-model) and a step function, handed to cpu::run_training. The
// kill-and-resume test and the command-line ctest tests run it.
//
//===----------------------------------------------------------------------===//
#include "DemoModel.h"

int main(int argc, char **argv) {
  static const cleave::rt::ModelInfo model = cleave::rt::demo::linear_model(CLEAVE_DEMO_MODEL_PATH);
  return cleave::rt::cpu::run_training(argc, argv, model, cleave::rt::demo::linear_step);
}
