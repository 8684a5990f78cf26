//===- DemoModelWriter.cpp - cleave-rt-demo-model OUT.onnx ------------------===//
//
// Writes the linear demo model's ONNX file (weights zero) for
// cleave-rt-demo-trainer, at build time.
//
//===----------------------------------------------------------------------===//
#include "DemoModel.h"

#include <cstdio>
#include <exception>

int main(int argc, char **argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s OUT.onnx\n", argv[0]);
    return 2;
  }
  try {
    cleave::rt::demo::write_linear_onnx(argv[1], {0.0f, 0.0f, 0.0f}, 0.0f);
  } catch (const std::exception &error) {
    std::fprintf(stderr, "%s: error: %s\n", argv[0], error.what());
    return 1;
  }
  return 0;
}
