//===- NoDeviceTrainer.cpp - the CUDA run_training where no GPU is seen -----===//
//
// The runtime tests' linear demo model (tests/runtime/core/DemoModel.h),
// marked as a CUDA model and handed to cuda::run_training (cleave_rt_cuda).
// ctest runs it with every GPU
// hidden (CUDA_VISIBLE_DEVICES=-1) to check what a user of a CUDA program
// on a machine without a GPU sees: --help works, training stops with a
// clear message. The demo's step is CPU code; with no device it never runs.
//
//===----------------------------------------------------------------------===//
#include "DemoModel.h"

int main(int argc, char **argv) {
  static cleave::rt::ModelInfo model = cleave::rt::demo::linear_model(CLEAVE_DEMO_MODEL_PATH);
  model.target = "cuda";
  return cleave::rt::cuda::run_training(argc, argv, model, cleave::rt::demo::linear_step);
}
