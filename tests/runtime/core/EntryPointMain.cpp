//===- EntryPointMain.cpp - a main() naming one backend's entry point -----===//
//
// Compiled twice, with CLEAVE_ENTRY_POINT cpu or cuda, to objects that the
// "entry point" ctest tests link by hand against the CPU runtime: the cpu
// one links, the cuda one must fail, naming cuda::run_training (a program
// gets its own backend's entry point or none, whatever the link order).
//
//===----------------------------------------------------------------------===//
#include "cleave/rt/model.h"

int main(int argc, char **argv) {
  static const cleave::rt::ModelInfo model{};
  return cleave::rt::CLEAVE_ENTRY_POINT::run_training(argc, argv, model, nullptr);
}
