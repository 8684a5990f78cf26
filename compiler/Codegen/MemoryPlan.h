//===- MemoryPlan.h - where each value of the train step lives ------------===//
//
// Arguments (parameters, optimizer state, batch inputs) live in buffers the
// runtime owns; everything else the schedule stores lives in one workspace,
// at offsets chosen so that values whose lifetimes do not overlap share
// bytes. A result that replaces an argument (`cleave.updates`) is written
// straight into the argument when nothing reads the old value afterwards,
// and copied there at the end of the step otherwise.
//
//===----------------------------------------------------------------------===//
#ifndef CLEAVE_COMPILER_CODEGEN_MEMORYPLAN_H
#define CLEAVE_COMPILER_CODEGEN_MEMORYPLAN_H

#include "compiler/Codegen/Schedule.h"

namespace mlir::cleave::codegen {

/// Workspace offsets are multiples of this (cache lines; vector loads).
constexpr int64_t kWorkspaceAlignment = 64;

struct Storage {
  enum class Kind { argument, workspace };
  Kind kind = Kind::workspace;
  int64_t argument = -1; // Kind::argument: the train_step argument index
  int64_t offset = 0;    // Kind::workspace: byte offset
};

struct MemoryPlan {
  llvm::DenseMap<Value, Storage> storage;
  /// Results copied into the argument they update after the last step.
  SmallVector<std::pair<Value, unsigned>> copiesAtEnd;
  int64_t workspaceBytes = 0;
  int64_t naiveBytes = 0;
};

/// Bytes of one tensor value (i1 takes a byte per element).
int64_t valueBytes(Value value);

MemoryPlan planMemory(func::FuncOp function, const Schedule &schedule);

} // namespace mlir::cleave::codegen

#endif // CLEAVE_COMPILER_CODEGEN_MEMORYPLAN_H
