//===- MemoryPlan.cpp - where each value of the train step lives ----------===//
//
// 1. Arguments are their own storage; a result updating an argument takes
//    the argument's storage when its producer may write in place (an
//    elementwise loop, or batch_norm's running statistics) and no later
//    step reads the argument. A result that is the argument it updates
//    needs nothing.
// 2. Every other stored value gets a workspace interval [defined, last
//    read]. Intervals are placed in order of definition, each at the
//    lowest offset where it overlaps no live interval (first fit).
//
//===----------------------------------------------------------------------===//
#include "compiler/Codegen/MemoryPlan.h"

#include "dialects/Cleave/IR/CleaveOps.h"

#include <map>

using namespace mlir;
using namespace mlir::cleave;
using namespace mlir::cleave::codegen;

int64_t codegen::valueBytes(Value value) { return getTensorBytes(value.getType()); }

static int64_t alignUp(int64_t bytes) {
  return (bytes + kWorkspaceAlignment - 1) / kWorkspaceAlignment * kWorkspaceAlignment;
}

MemoryPlan codegen::planMemory(func::FuncOp function, const Schedule &schedule) {
  MemoryPlan plan;
  for (BlockArgument argument : function.getArguments())
    plan.storage[argument] = Storage{Storage::Kind::argument, argument.getArgNumber(), 0};

  auto returnOp = cast<func::ReturnOp>(function.getBody().front().getTerminator());
  // Steps after which nothing reads each argument.
  auto lastRead = [&](Value argument) {
    auto it = schedule.lastUse.find(argument);
    return it == schedule.lastUse.end() ? -1 : it->second;
  };
  for (auto [index, result] : llvm::enumerate(returnOp.getOperands())) {
    auto updated =
        function.getResultAttrOfType<IntegerAttr>(index, CleaveDialect::kUpdatesAttrName);
    if (!updated)
      continue;
    unsigned argIndex = updated.getInt();
    // A pipeline stage returns another stage's tensor unchanged: it is
    // already where it belongs.
    if (result == function.getArgument(argIndex))
      continue;
    Value storage = schedule.storageOf(result);
    auto defining = schedule.definingStep.find(storage);
    bool inPlace = false;
    if (defining != schedule.definingStep.end() && !plan.storage.count(storage)) {
      const Step &step = schedule.steps[defining->second];
      bool producerWritesInPlace = step.loop >= 0 || isa<BatchNormOp>(step.op);
      // The loop reads the argument (if at all) at the very element it writes.
      bool sameShape = cast<RankedTensorType>(storage.getType()) ==
                       cast<RankedTensorType>(function.getArgument(argIndex).getType());
      inPlace = producerWritesInPlace && sameShape &&
                lastRead(function.getArgument(argIndex)) <= defining->second;
      // Two results must not claim one argument, nor one result two.
      for (auto &[other, storageOfOther] : plan.storage)
        if (storageOfOther.kind == Storage::Kind::argument && storageOfOther.argument == argIndex &&
            other != function.getArgument(argIndex))
          inPlace = false;
    }
    if (inPlace)
      plan.storage[storage] = Storage{Storage::Kind::argument, argIndex, 0};
    else
      plan.copiesAtEnd.push_back({result, argIndex});
  }

  // Workspace intervals, by definition step.
  struct Interval {
    int64_t start, end, bytes;
    Value value;
    int64_t order; // position in the function: ties must not follow pointer order
  };
  // A step can define several values of one size (a loop's outputs, a
  // multi-result op): order them by their place in the function so the plan
  // (and the generated source) is the same on every run.
  llvm::DenseMap<Value, int64_t> positionInFunction;
  function.walk([&](Operation *op) {
    for (Value result : op->getResults())
      positionInFunction.try_emplace(result, positionInFunction.size());
  });
  std::vector<Interval> intervals;
  for (auto [value, step] : schedule.definingStep) {
    if (schedule.storageOf(value) != value || plan.storage.count(value))
      continue;
    // Register-only loop values need no memory.
    const Step &defining = schedule.steps[step];
    if (defining.loop >= 0 && !llvm::is_contained(schedule.loops[defining.loop].outputs, value))
      continue;
    auto last = schedule.lastUse.find(value);
    int64_t end = last == schedule.lastUse.end() ? step : last->second;
    intervals.push_back(
        {step, end, alignUp(valueBytes(value)), value, positionInFunction.lookup(value)});
  }
  llvm::sort(intervals, [](const Interval &a, const Interval &b) {
    if (a.start != b.start)
      return a.start < b.start;
    return a.bytes != b.bytes ? a.bytes > b.bytes : a.order < b.order;
  });

  // Placed intervals by offset; an interval is free to share bytes with
  // every placed one whose life ended before it starts.
  std::vector<Interval> placed;
  std::vector<int64_t> offsets;
  for (const Interval &interval : intervals) {
    std::map<int64_t, int64_t> busy; // offset -> end offset of live intervals
    for (size_t i = 0; i < placed.size(); ++i)
      if (placed[i].end >= interval.start && placed[i].start <= interval.end)
        busy[offsets[i]] = std::max(busy[offsets[i]], offsets[i] + placed[i].bytes);
    int64_t offset = 0;
    for (auto [begin, finish] : busy) {
      if (begin >= offset + interval.bytes)
        break;
      offset = std::max(offset, finish);
    }
    placed.push_back(interval);
    offsets.push_back(offset);
    plan.storage[interval.value] = Storage{Storage::Kind::workspace, -1, offset};
    plan.workspaceBytes = std::max(plan.workspaceBytes, offset + interval.bytes);
    plan.naiveBytes += interval.bytes;
  }
  return plan;
}
