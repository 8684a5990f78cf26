//===- Codegen.h - train step -> C++ or CUDA C++ source -------------------===//
//
// Turns the module's @train_step into one source file that defines the
// runtime's ModelInfo table and StepFunction (runtime/include/cleave/rt/
// model.h) and a main() that hands both to run_training. Library ops call
// the runtime's kernels (cleave::rt::cpu or cleave::rt::cuda); chains of
// elementwise ops become one fused loop (CPU) or kernel (CUDA); every
// intermediate lives in one workspace whose offsets come from a liveness
// plan. Each op's code comes from a rule table (Rules.h); what differs
// between the targets, from a CodegenTarget (Target.h).
//
//===----------------------------------------------------------------------===//
#ifndef CLEAVE_COMPILER_CODEGEN_CODEGEN_H
#define CLEAVE_COMPILER_CODEGEN_CODEGEN_H

#include "passes/TrainOptions.h"

#include "mlir/IR/BuiltinOps.h"
#include "llvm/Support/raw_ostream.h"

#include <string>

namespace mlir::cleave::codegen {

enum class Target { cpu, cuda };

/// What matrix products compute in (docs/training.md, "Precision").
/// fp32: everything in fp32. bf16: matmul and conv2d operands (forward and
/// backward) are rounded to bfloat16 and multiplied with fp32 accumulation
/// into fp32 results (PyTorch autocast's products, with an fp32 output);
/// parameters, gradients, optimizer state and every other op stay fp32
/// (master weights).
enum class Precision { fp32, bf16 };

/// Training settings baked into the executable as its defaults
/// (TrainDefaults in model.h); declared in passes/TrainOptions.def.
using TrainSettings = OptimizerSettings;

struct CodegenOptions {
  Target target = Target::cpu;
  Precision precision = Precision::fp32;
  TrainSettings train;
  /// The ONNX file the executable loads its initial weights from.
  std::string modelPath;
  /// Emit main() (an executable). Without it the source exports
  /// `cleave_model_info()` and `cleave_train_step()` with C linkage, for a
  /// shared library that a host program (or a test) drives itself.
  bool emitMain = true;
  /// The function to compile: @train_step, or any function whose arguments
  /// carry cleave.param / cleave.input and whose results cleave.output (a
  /// forward pass, written to StepBuffers::outputs).
  std::string function = "train_step";
  /// Prefix of the exported C symbols without main() (`<prefix>model_info`,
  /// `<prefix>train_step`), so that several programs share one library.
  std::string symbolPrefix = "cleave_";
  /// A forward-only function compiled into the same program, whose loss
  /// the executable reports on held-out data (ModelInfo::eval_step;
  /// cleavec passes "eval_loss"). Its parameters and inputs are found in
  /// the main function's tables by name. Empty: none.
  std::string evalFunction;
};

/// What the memory plan decided, for reports (cleavec prints it).
struct CodegenReport {
  int64_t workspaceBytes = 0;
  int64_t naiveBytes = 0; // one buffer per value, no reuse
  int64_t fusedLoops = 0;
  int64_t fusedOps = 0;
  int64_t libraryCalls = 0;
};

/// Writes the source for @train_step of `module` to `os`. The module is
/// rewritten in place first (codegen legalisation). Errors are emitted as
/// diagnostics on the offending op.
LogicalResult emitTrainStep(ModuleOp module, const CodegenOptions &options, llvm::raw_ostream &os,
                            CodegenReport *report = nullptr);

} // namespace mlir::cleave::codegen

#endif // CLEAVE_COMPILER_CODEGEN_CODEGEN_H
