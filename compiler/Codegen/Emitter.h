//===- Emitter.h - the state of one function's emission -------------------===//
//
// Internal to compiler/Codegen: the emitter of one function, split over
// Emitter.cpp (the file, constants, the entry points), FusedLoops.cpp,
// StepFunction.cpp and ModelTable.cpp. Ops' code comes from the rule table
// (Rules.h); target differences from the CodegenTarget (Target.h).
//
//===----------------------------------------------------------------------===//
#ifndef CLEAVE_COMPILER_CODEGEN_EMITTER_H
#define CLEAVE_COMPILER_CODEGEN_EMITTER_H

#include "compiler/Codegen/Codegen.h"
#include "compiler/Codegen/MemoryPlan.h"
#include "compiler/Codegen/Names.h"
#include "compiler/Codegen/Schedule.h"
#include "compiler/Codegen/Target.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "llvm/ADT/StringMap.h"

#include <memory>
#include <string>

namespace mlir::cleave::codegen {

/// One operand of a fused loop: how to read element `index` of the loop.
struct LoopOperand {
  Value value;
  std::string name;             // register or pointer variable
  SmallVector<int64_t> strides; // over the (collapsed) loop dimensions
  bool isScalarExpression = false;
};

class Emitter {
public:
  Emitter(func::FuncOp function, const CodegenOptions &options, raw_ostream &os);

  LogicalResult run(CodegenReport *report, Emitter *eval = nullptr);

  /// Where a parameter or input of the main function sits in
  /// StepBuffers::params / inputs, and its per-device type, by name.
  struct Slot {
    unsigned index;
    Type type;
  };
  llvm::StringMap<Slot> slotsByName();
  /// Makes this emitter write a second function into `namespace eval`
  /// that reads the main function's tables (`slots`).
  void setEvalFragment(llvm::StringMap<Slot> slots) {
    fragmentSlots = std::move(slots);
    fragment = true;
  }

  /// A pipeline program (PipelineStages.cpp): `stages[p]` emits
  /// @train_step_stage<p> into `namespace stage<p>`; this emitter (on the
  /// stage 0 function, whose signature all share) writes the file around
  /// them, the dispatching train_step and the model table.
  LogicalResult runPipeline(CodegenReport *report, ArrayRef<std::unique_ptr<Emitter>> stages);

private:
  // Naming (Emitter.cpp).
  FailureOr<std::string> typeName(Value value);
  /// A typed pointer expression to `value`'s storage; an error on `user`
  /// when the memory plan has none.
  FailureOr<std::string> pointer(Value value, Operation *user);
  /// For 0-d step scalars (lr, bias corrections): their expression.
  std::optional<std::string> stepScalar(Value value);

  // Emitter.cpp
  LogicalResult prepare();
  LogicalResult emitConstants();
  LogicalResult emitFunction();
  LogicalResult emitEvalFragment();
  LogicalResult emitLibraryCall(Operation *op);
  LogicalResult emitEntryPoints(bool grid);
  /// `int64_t workspace_bytes()` of a fragment: its plan and scratch.
  void emitWorkspaceBytesFunction();

  // PipelineStages.cpp
  LogicalResult emitStageFragment(int stage);
  void emitStageDispatch();
  /// ModelInfo's sharding prefix of argument `index` ("@1:", "@0,3:"):
  /// the stages whose function uses it, "" when all or none do.
  std::string stagePrefix(unsigned index);
  /// The function whose argument attributes describe argument `index`:
  /// the first stage that uses it (this function outside pipelines).
  func::FuncOp layoutFunction(unsigned index);

  // FusedLoops.cpp
  LogicalResult emitLoopKernels();
  LogicalResult emitLoop(int loopIndex);
  LogicalResult emitLoopBody(raw_ostream &out, const FusedLoop &loop, ArrayRef<int64_t> dims,
                             ArrayRef<LoopOperand> inputs, ArrayRef<LoopOperand> outputs,
                             StringRef indent);
  LogicalResult collectLoopOperands(const FusedLoop &loop, SmallVectorImpl<int64_t> &dims,
                                    SmallVectorImpl<LoopOperand> &inputs,
                                    SmallVectorImpl<LoopOperand> &outputs);

  // StepFunction.cpp
  LogicalResult emitStepFunction();
  /// The values that live in the workspace, in the function's order.
  SmallVector<Value> workspaceValues();

  // ModelTable.cpp
  LogicalResult emitModelTable();

  func::FuncOp function;
  const CodegenOptions &options;
  raw_ostream &os;
  std::unique_ptr<CodegenTarget> target;
  Schedule schedule;
  MemoryPlan plan;
  ValueNames names;
  llvm::DenseMap<Value, std::string> constantArrays;
  /// Scratch the kernels need, as C++ expressions for main() to maximise.
  SmallVector<std::string> scratchExpressions;
  std::string body; // the step function's statements
  bool fragment = false;
  llvm::StringMap<Slot> fragmentSlots;
  bool hasEval = false;
  /// A pipeline program's stage functions, in stage order (else empty).
  SmallVector<func::FuncOp> stageFunctions;
  /// The stage this emitter writes (emitStageFragment), else -1.
  int stage = -1;
};

/// Whether `function` reads argument `index`: a use other than returning
/// it unchanged as its own update (what a pipeline stage does with another
/// stage's tensor).
bool usesArgument(func::FuncOp function, unsigned index);

/// The pipeline stages of `module` (@<function>_stage0, _stage1...), empty
/// when it has none; failure (with an error) when they are not consecutive
/// or their signatures differ.
FailureOr<SmallVector<func::FuncOp>> findPipelineStages(ModuleOp module, StringRef function);

} // namespace mlir::cleave::codegen

#endif // CLEAVE_COMPILER_CODEGEN_EMITTER_H
