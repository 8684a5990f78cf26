//===- StructuralLabels.cpp - equal labels for ops that repeat -------------===//
#include "passes/Sharding/StructuralLabels.h"
#include "passes/TrainStepAttrs.h"

#include "llvm/ADT/Hashing.h"
#include "llvm/ADT/STLExtras.h"

#include <algorithm>

using namespace mlir;
using namespace mlir::cleave;

uint64_t StructuralLabels::of(Value value) const {
  if (auto argument = dyn_cast<BlockArgument>(value))
    return arguments[argument.getArgNumber()];
  auto result = cast<OpResult>(value);
  uint64_t label = ops.lookup(result.getOwner());
  return result.getOwner()->getNumResults() == 1
             ? label
             : static_cast<uint64_t>(llvm::hash_combine(label, result.getResultNumber()));
}

/// The op's attributes but where it sits in the step: the phase tags
/// (every op's cleave.fwd_id is its own, every backward op names its own
/// forward op) and the pipeline's chunk and phase would make each layer's
/// ops differ from the next layer's.
static llvm::hash_code opAttributes(Operation &op) {
  llvm::hash_code code = llvm::hash_value(0);
  for (NamedAttribute attribute : op.getAttrs()) {
    llvm::StringRef name = attribute.getName().getValue();
    if (name == CleaveDialect::kForwardIdAttrName || name == CleaveDialect::kBackwardOfAttrName ||
        name == CleaveDialect::kUpdateOfAttrName || name == CleaveDialect::kStageAttrName ||
        name == CleaveDialect::kPhaseAttrName)
      continue;
    code = llvm::hash_combine(code, attribute.getName().getAsOpaquePointer(),
                              attribute.getValue().getAsOpaquePointer());
  }
  return code;
}

StructuralLabels mlir::cleave::computeStructuralLabels(func::FuncOp function, int rounds) {
  StructuralLabels labels;
  for (BlockArgument argument : function.getArguments()) {
    unsigned index = argument.getArgNumber();
    // The optimizer state's role is the part after the parameter's name
    // ("exp_avg" of "h.3.mlp.c_fc.weight.exp_avg").
    llvm::StringRef stateRole;
    if (auto state = function.getArgAttrOfType<StringAttr>(index, CleaveDialect::kOptStateAttrName))
      stateRole = state.getValue().rsplit('.').second;
    labels.arguments.push_back(llvm::hash_combine(
        argument.getType().getAsOpaquePointer(), static_cast<bool>(getParamAttr(function, index)),
        static_cast<bool>(function.getArgAttr(index, CleaveDialect::kInputAttrName)),
        llvm::hash_value(stateRole)));
  }
  Block &body = function.getBody().front();
  for (Operation &op : body) {
    llvm::hash_code code = llvm::hash_combine(op.getName().getAsOpaquePointer(), opAttributes(op));
    for (Type type : op.getOperandTypes())
      code = llvm::hash_combine(code, type.getAsOpaquePointer());
    for (Type type : op.getResultTypes())
      code = llvm::hash_combine(code, type.getAsOpaquePointer());
    labels.ops[&op] = code;
  }

  for (int round = 0; round < rounds; ++round) {
    StructuralLabels next;
    auto usersLabel = [&](Value value) {
      // Users are unordered: sort their (label, operand number) pairs.
      SmallVector<uint64_t> users;
      for (OpOperand &use : value.getUses()) {
        // Which result of the function a value is says where it is, not
        // what it is (every layer's updated weight has its own).
        if (use.getOwner()->hasTrait<OpTrait::IsTerminator>()) {
          users.push_back(1);
          continue;
        }
        users.push_back(
            llvm::hash_combine(labels.ops.lookup(use.getOwner()), use.getOperandNumber()));
      }
      llvm::sort(users);
      return llvm::hash_combine_range(users.begin(), users.end());
    };
    for (BlockArgument argument : function.getArguments())
      next.arguments.push_back(
          llvm::hash_combine(labels.arguments[argument.getArgNumber()], usersLabel(argument)));
    for (Operation &op : body.without_terminator()) {
      llvm::hash_code code = labels.ops.lookup(&op);
      for (Value operand : op.getOperands())
        code = llvm::hash_combine(code, labels.of(operand));
      for (Value result : op.getResults())
        code = llvm::hash_combine(code, usersLabel(result));
      next.ops[&op] = code;
    }
    labels = std::move(next);
  }
  return labels;
}
