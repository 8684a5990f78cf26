//===- cleave-opt.cpp - mlir-opt with the cleave dialect and passes -------===//
#include "compiler/Registration.h"

#include "mlir/IR/DialectRegistry.h"
#include "mlir/Tools/mlir-opt/MlirOptMain.h"

int main(int argc, char **argv) {
  mlir::DialectRegistry registry;
  mlir::cleave::registerAllDialects(registry);
  mlir::cleave::registerAllPasses();
  return mlir::asMainReturnCode(mlir::MlirOptMain(
      argc, argv, "cleave-opt: mlir-opt with the cleave dialect, passes and pipelines\n",
      registry));
}
