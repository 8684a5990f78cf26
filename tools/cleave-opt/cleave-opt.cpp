//===- cleave-opt.cpp - mlir-opt with the cleave dialect and passes -------===//
#include "compiler/Registration.h"

#include "mlir/IR/DialectRegistry.h"
#include "mlir/Tools/mlir-opt/MlirOptMain.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/Debug.h"

#include <memory>
#include <string>
#include <vector>

#ifndef NDEBUG
/// Debian's libLLVM is a release build: it has no `-debug` / `-debug-only`
/// options, yet it still holds the debug-stream state LDBG reads. In a
/// build of ours with traces compiled in (the `debug` preset), give
/// cleave-opt the two options so `--debug-only=cleave-search-sharding`
/// explains the search's decisions as it would with an assertions LLVM.
static void addDebugOptionsMissingFromLLVM() {
  if (llvm::cl::getRegisteredOptions().count("debug-only"))
    return;
  static auto debugAll = std::make_unique<llvm::cl::opt<bool, true>>(
      "debug", llvm::cl::desc("Print the debug traces of every pass"),
      llvm::cl::location(llvm::DebugFlag), llvm::cl::Hidden);
  static std::vector<std::string> types;
  static auto debugOnly = std::make_unique<llvm::cl::list<std::string>>(
      "debug-only",
      llvm::cl::desc("Print the debug traces of these passes only (comma-separated flags)"),
      llvm::cl::CommaSeparated, llvm::cl::value_desc("pass flags"),
      llvm::cl::callback([](const std::string &type) {
        types.push_back(type);
        std::vector<const char *> names;
        for (const std::string &name : types)
          names.push_back(name.c_str());
        llvm::DebugFlag = true;
        llvm::setCurrentDebugTypes(names.data(), names.size());
      }));
}
#endif

int main(int argc, char **argv) {
#ifndef NDEBUG
  addDebugOptionsMissingFromLLVM();
#endif
  mlir::DialectRegistry registry;
  mlir::cleave::registerAllDialects(registry);
  mlir::cleave::registerAllPasses();
  return mlir::asMainReturnCode(mlir::MlirOptMain(
      argc, argv, "cleave-opt: mlir-opt with the cleave dialect, passes and pipelines\n",
      registry));
}
