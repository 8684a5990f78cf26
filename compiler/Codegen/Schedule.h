//===- Schedule.h - the order of work in a generated train step -----------===//
//
// A schedule is the train step as a list of steps, each either one library
// call (a runtime kernel) or one fused loop: a run of elementwise ops with
// the same iteration shape, consecutive in program order, computed element
// by element in registers. Values that leave a loop are written to memory;
// the rest never are.
//
//===----------------------------------------------------------------------===//
#ifndef CLEAVE_COMPILER_CODEGEN_SCHEDULE_H
#define CLEAVE_COMPILER_CODEGEN_SCHEDULE_H

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/SmallVector.h"

namespace mlir::cleave::codegen {

struct FusedLoop {
  SmallVector<Operation *> ops; // program order
  SmallVector<int64_t> shape;   // the iteration space: every op's result shape
  SmallVector<Value> inputs;    // values read from memory, in order of first use
  SmallVector<Value> outputs;   // values written to memory (used after the loop)
};

struct Step {
  Operation *op = nullptr; // a library call, or
  int loop = -1;           // an index into Schedule::loops
};

/// Ops computed element by element inside fused loops: those with a scalar
/// expression rule (Rules.h), and splat constants.
bool isElementwise(Operation *op);
/// A constant whose elements are all equal: an inline literal.
bool isSplatConstant(Operation *op);

struct Schedule {
  SmallVector<Step> steps;
  SmallVector<FusedLoop> loops;
  /// Step that computes each value stored in memory.
  llvm::DenseMap<Value, int> definingStep;
  /// Last step that reads each value from memory (views count for the value
  /// they alias); values the function returns live to the end.
  llvm::DenseMap<Value, int> lastUse;
  /// Values that are views of another value's storage (reshape and
  /// recv_wait results).
  llvm::DenseMap<Value, Value> viewOf;

  /// The value whose storage `value` uses (itself unless it is a view).
  Value storageOf(Value value) const;
  int endStep() const { return steps.size(); }
};

/// Builds the schedule of `function` (the train step).
Schedule buildSchedule(func::FuncOp function);

} // namespace mlir::cleave::codegen

#endif // CLEAVE_COMPILER_CODEGEN_SCHEDULE_H
