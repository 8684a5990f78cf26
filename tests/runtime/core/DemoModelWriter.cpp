//===- DemoModelWriter.cpp - cleave-rt-demo-model OUT.onnx ------------------===//
//
// Writes, at build time, the linear demo model's ONNX file (weights zero)
// for the demo trainers, and 64 rows of data beside it (x.npy, y.npy) for
// the command-line tests.
//
//===----------------------------------------------------------------------===//
#include "DemoModel.h"

#include <cstdio>
#include <exception>
#include <string>

int main(int argc, char **argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s OUT.onnx\n", argv[0]);
    return 2;
  }
  try {
    std::string path = argv[1];
    size_t slash = path.find_last_of('/');
    cleave::rt::demo::write_linear_onnx(path, {0.0f, 0.0f, 0.0f}, 0.0f);
    cleave::rt::demo::write_linear_data(slash == std::string::npos ? "." : path.substr(0, slash),
                                        64);
  } catch (const std::exception &error) {
    std::fprintf(stderr, "%s: error: %s\n", argv[0], error.what());
    return 1;
  }
  return 0;
}
