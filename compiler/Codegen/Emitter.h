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
};

} // namespace mlir::cleave::codegen

#endif // CLEAVE_COMPILER_CODEGEN_EMITTER_H
