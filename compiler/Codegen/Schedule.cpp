//===- Schedule.cpp - the order of work in a generated train step ---------===//
//
// 1. Walk the ops in program order. Reshapes become views, splat constants
//    literals; elementwise ops join the open loop if they have its shape,
//    else open a new one; any other op closes the loop and is a library call
//    (the pipeline transfers too: no loop spans one, and a recv_wait's
//    result is a view of its recv_start's buffer; so is a collective_wait's
//    of its start's).
// 2. A loop value is an output when anything outside the loop reads it
//    (directly or through a view) or the function returns it.
// 3. Record, per stored value, the step that defines it and the last step
//    that reads it.
//
//===----------------------------------------------------------------------===//
#include "compiler/Codegen/Schedule.h"
#include "compiler/Codegen/Rules.h"

#include "dialects/Cleave/IR/CleaveOps.h"

#include "mlir/IR/Matchers.h"
#include "llvm/ADT/SetVector.h"

using namespace mlir;
using namespace mlir::cleave;
using namespace mlir::cleave::codegen;

bool codegen::isSplatConstant(Operation *op) {
  auto constant = dyn_cast<ConstantOp>(op);
  if (!constant)
    return false;
  auto dense = dyn_cast<DenseElementsAttr>(constant.getValue());
  return dense && dense.isSplat();
}

// The ops with a scalar expression in the rule table, so that fusion and
// emission agree on what a loop can hold.
bool codegen::isElementwise(Operation *op) {
  if (isa<ConstantOp>(op))
    return isSplatConstant(op);
  return getRuleTable().lookupExpression(op) != nullptr;
}

Value Schedule::storageOf(Value value) const {
  auto it = viewOf.find(value);
  while (it != viewOf.end()) {
    value = it->second;
    it = viewOf.find(value);
  }
  return value;
}

static ArrayRef<int64_t> shapeOf(Value value) {
  return cast<RankedTensorType>(value.getType()).getShape();
}

Schedule codegen::buildSchedule(func::FuncOp function) {
  Schedule schedule;
  Block &body = function.getBody().front();
  llvm::DenseMap<Operation *, int> loopOf;
  int openLoop = -1;

  // A splat constant read only by loops is a literal; one that a library
  // op reads must be materialised, by a loop of its own.
  auto isLiteral = [&](Operation *op) {
    return isSplatConstant(op) &&
           llvm::all_of(op->getUsers(), [](Operation *user) { return isElementwise(user); });
  };

  for (Operation &op : body.without_terminator()) {
    if (auto reshape = dyn_cast<ReshapeOp>(op)) {
      schedule.viewOf[reshape.getResult()] = reshape.getInput();
      continue;
    }
    if (isa<ConstantOp>(op) && (isLiteral(&op) || !isSplatConstant(&op)))
      continue; // literals and static arrays need no step
    if (isElementwise(&op)) {
      ArrayRef<int64_t> shape = shapeOf(op.getResult(0));
      bool joins = openLoop >= 0 && !isSplatConstant(&op) &&
                   ArrayRef<int64_t>(schedule.loops[openLoop].shape) == shape;
      if (!joins) {
        openLoop = schedule.loops.size();
        schedule.loops.push_back(FusedLoop{{}, SmallVector<int64_t>(shape), {}, {}});
        schedule.steps.push_back(Step{nullptr, openLoop});
      }
      schedule.loops[openLoop].ops.push_back(&op);
      loopOf[&op] = openLoop;
      // A materialised splat stands alone.
      if (isSplatConstant(&op))
        openLoop = -1;
      continue;
    }
    // A received tensor is its receive's buffer; the wait is still a step
    // of its own (a call), so no loop that reads the tensor starts before it.
    if (auto wait = dyn_cast<RecvWaitOp>(op))
      schedule.viewOf[wait.getResult()] = wait.getBuffer();
    // Likewise a collective's result is its start's buffer; the wait reads
    // the start's input too, which keeps that alive until the wait.
    if (auto wait = dyn_cast<CollectiveWaitOp>(op))
      schedule.viewOf[wait.getResult()] = wait.getBuffer();
    openLoop = -1;
    schedule.steps.push_back(Step{&op, -1});
  }

  // Users that read `value` from memory, looking through views.
  std::function<void(Value, SmallVectorImpl<Operation *> &)> memoryUsers =
      [&](Value value, SmallVectorImpl<Operation *> &users) {
        for (Operation *user : value.getUsers()) {
          if (auto reshape = dyn_cast<ReshapeOp>(user))
            memoryUsers(reshape.getResult(), users);
          else
            users.push_back(user);
        }
      };

  for (auto [index, step] : llvm::enumerate(schedule.steps)) {
    SmallVector<Operation *> ops;
    if (step.op)
      ops.push_back(step.op);
    else
      ops = schedule.loops[step.loop].ops;
    for (Operation *op : ops)
      for (Value result : op->getResults())
        schedule.definingStep[result] = index;
  }

  // Loop inputs and outputs.
  for (auto [loopIndex, loop] : llvm::enumerate(schedule.loops)) {
    llvm::SetVector<Value> inputs;
    llvm::DenseSet<Operation *> members(loop.ops.begin(), loop.ops.end());
    for (Operation *op : loop.ops) {
      for (Value operand : op->getOperands()) {
        Operation *producer = operand.getDefiningOp();
        bool inLoop = producer && members.contains(producer);
        bool literal = producer && isLiteral(producer);
        if (!inLoop && !literal)
          inputs.insert(operand);
      }
      for (Value result : op->getResults()) {
        SmallVector<Operation *> users;
        memoryUsers(result, users);
        bool escapes = llvm::any_of(users, [&](Operation *user) {
          return isa<func::ReturnOp>(user) || !members.contains(user);
        });
        if (escapes)
          loop.outputs.push_back(result);
      }
    }
    loop.inputs = inputs.takeVector();
  }

  // Last reads from memory.
  int end = schedule.endStep();
  auto noteUse = [&](Value value, int step) {
    Value storage = schedule.storageOf(value);
    int &last = schedule.lastUse[storage];
    last = std::max(last, step);
  };
  for (auto [index, step] : llvm::enumerate(schedule.steps)) {
    if (step.op) {
      for (Value operand : step.op->getOperands())
        noteUse(operand, index);
    } else {
      for (Value input : schedule.loops[step.loop].inputs)
        noteUse(input, index);
    }
  }
  for (Value returned : body.getTerminator()->getOperands())
    noteUse(returned, end);
  // Values nothing reads still need a place to be written.
  for (auto [value, step] : schedule.definingStep)
    if (!schedule.lastUse.count(schedule.storageOf(value)))
      schedule.lastUse[schedule.storageOf(value)] = step;
  return schedule;
}
