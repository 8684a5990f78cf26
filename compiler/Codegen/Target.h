//===- Target.h - what differs between the CPU and the CUDA source -------===//
//
// The emitter and its rules write one program for either target; every
// place where the two differ (headers, the kernels' namespace, where
// constants live, how a fused loop runs, how bytes are copied, which math
// functions a loop calls) asks the target, so no rule branches on it.
//
//===----------------------------------------------------------------------===//
#ifndef CLEAVE_COMPILER_CODEGEN_TARGET_H
#define CLEAVE_COMPILER_CODEGEN_TARGET_H

#include "compiler/Codegen/Codegen.h"

#include "llvm/ADT/STLFunctionalExtras.h"

#include <memory>
#include <string>

namespace mlir::cleave::codegen {

/// A fused loop as the step function runs it: the loop's index, its
/// collapsed iteration space and the pointers it reads and writes.
struct LoopLaunch {
  int index;
  ArrayRef<int64_t> dims;
  /// Pointer expressions, in the order of the kernel's parameters.
  ArrayRef<std::string> arguments;
};

/// One pointer parameter of a fused loop's kernel.
struct KernelParameter {
  std::string type; // element type
  std::string name;
  bool isConst;
  /// Another parameter points to the same buffer (an update in place).
  bool aliased;
};

/// Writes the body of one fused loop at `indent`, the loop indices i0, i1..
/// in scope.
using LoopBodyWriter = llvm::function_ref<LogicalResult(raw_ostream &, StringRef indent)>;

/// What a target spells differently, as text.
struct TargetSpelling {
  /// ModelInfo::target ("cpu" or "cuda").
  StringRef name;
  /// Under cleave/rt/: the collectives' header, and the kernels' headers.
  StringRef collectivesHeader;
  ArrayRef<StringRef> kernelHeaders;
  /// The namespace that `K::` names: the kernels of this target.
  StringRef kernelNamespace;
  /// The prefix of the collectives' calls, ending in "::".
  StringRef collectivePrefix;
  /// The CPU runtime also runs f64 matmuls and reductions (for f64 models).
  bool hasF64Kernels;
  /// What precedes `const T kConstantN[] = {...}` at namespace scope.
  StringRef constantQualifier;
  /// What precedes the step function's definition.
  StringRef stepFunctionPrefix;
  /// Whether each fused loop is a function of its own (a CUDA kernel),
  /// defined before the step function by emitLoopKernel.
  bool loopsAreKernels;
};

class CodegenTarget {
public:
  explicit CodegenTarget(const TargetSpelling &spelling) : spelling(spelling) {}
  virtual ~CodegenTarget() = default;
  static std::unique_ptr<CodegenTarget> get(Target target);

  StringRef name() const { return spelling.name; }
  /// The runtime headers the program includes (the collectives' when
  /// `distributed`).
  void emitIncludes(raw_ostream &os, bool distributed) const;
  StringRef kernelNamespace() const { return spelling.kernelNamespace; }
  StringRef collectivePrefix() const { return spelling.collectivePrefix; }
  bool hasF64Kernels() const { return spelling.hasF64Kernels; }
  StringRef constantQualifier() const { return spelling.constantQualifier; }
  StringRef stepFunctionPrefix() const { return spelling.stepFunctionPrefix; }
  bool loopsAreKernels() const { return spelling.loopsAreKernels; }

  /// How the step function names constant array `name`.
  virtual std::string constantPointer(StringRef name) const = 0;
  /// Statements at the top of the step function that make
  /// constantPointer(name) valid.
  virtual void emitConstantAccess(raw_ostream &os, StringRef type, StringRef name) const = 0;

  /// A statement copying `bytes` bytes between two buffers of the step.
  virtual std::string copyStatement(StringRef to, StringRef from, int64_t bytes) const = 0;
  /// A statement storing the 0-d f32 buffer `from` into `*io.loss` (host).
  virtual std::string lossStatement(StringRef from) const = 0;

  /// C math function `function` ("exp", "log"...) as the target calls it.
  virtual std::string mathFunction(StringRef function) const = 0;
  /// The same where a faster variant for float elements (`isFloat`) exists
  /// (exp and erf on the CPU), as generated loops call it.
  virtual std::string fastMathFunction(StringRef function, bool isFloat) const {
    return mathFunction(function);
  }

  /// A fused loop as a function of its own (when loopsAreKernels()).
  virtual LogicalResult emitLoopKernel(raw_ostream &os, int index,
                                       ArrayRef<KernelParameter> parameters, ArrayRef<int64_t> dims,
                                       LoopBodyWriter body) const;
  /// The statements of the step function that run fused loop `launch`.
  virtual LogicalResult emitLoopStep(raw_ostream &os, const LoopLaunch &launch,
                                     LoopBodyWriter body) const = 0;

private:
  const TargetSpelling &spelling;
};

} // namespace mlir::cleave::codegen

#endif // CLEAVE_COMPILER_CODEGEN_TARGET_H
