//===- EmitCppPass.cpp - the generated source of a module, for lit --------===//
//
// cleave-emit-cpp: emitTrainStep on the module cleave-opt reads, with the
// default training settings, printed to stdout.
//
//===----------------------------------------------------------------------===//
#include "compiler/Codegen/Codegen.h"
#include "compiler/Codegen/Passes.h"

namespace mlir::cleave::codegen {
#define GEN_PASS_DEF_CLEAVEEMITCPP
#include "compiler/Codegen/Passes.h.inc"
} // namespace mlir::cleave::codegen

using namespace mlir;
using namespace mlir::cleave;
using namespace mlir::cleave::codegen;

namespace {
struct EmitCppPass : codegen::impl::CleaveEmitCppBase<EmitCppPass> {
  using CleaveEmitCppBase::CleaveEmitCppBase;
  void runOnOperation() override {
    CodegenOptions options;
    if (target != "cpu" && target != "cuda") {
      getOperation().emitError() << "cleave-emit-cpp: unknown target '" << target
                                 << "' (use target=cpu or target=cuda)";
      return signalPassFailure();
    }
    options.target = target == "cuda" ? Target::cuda : Target::cpu;
    options.emitMain = emitMain;
    options.modelPath = modelPath;
    // Printed only when emission succeeds, so that an error's output is the
    // diagnostic alone.
    std::string source;
    llvm::raw_string_ostream os(source);
    if (failed(emitTrainStep(getOperation(), options, os)))
      return signalPassFailure();
    llvm::outs() << source;
  }
};
} // namespace
