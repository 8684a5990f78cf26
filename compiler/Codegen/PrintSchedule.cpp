//===- PrintSchedule.cpp - the schedule and memory plan, as text ----------===//
//
// cleave-print-codegen-schedule: what buildSchedule and planMemory decide
// for a function, for lit tests of fusion and buffer reuse.
//
//===----------------------------------------------------------------------===//
#include "compiler/Codegen/MemoryPlan.h"
#include "compiler/Codegen/Passes.h"
#include "compiler/Codegen/Schedule.h"

#include "mlir/IR/AsmState.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/DebugLog.h"
#include "llvm/Support/raw_ostream.h"

#define DEBUG_TYPE "cleave-print-codegen-schedule"

namespace mlir::cleave::codegen {
#define GEN_PASS_DEF_CLEAVEPRINTCODEGENSCHEDULE
#include "compiler/Codegen/Passes.h.inc"
} // namespace mlir::cleave::codegen

using namespace mlir;
using namespace mlir::cleave;
using namespace mlir::cleave::codegen;

namespace {
struct PrintCodegenSchedulePass
    : codegen::impl::CleavePrintCodegenScheduleBase<PrintCodegenSchedulePass> {
  void runOnOperation() override {
    func::FuncOp function = getOperation();
    if (function.isExternal())
      return;
    Schedule schedule = buildSchedule(function);
    MemoryPlan plan = planMemory(function, schedule);
    LDBG() << "@" << function.getSymName() << ": " << schedule.steps.size() << " steps, "
           << schedule.loops.size() << " fused loops, " << plan.workspaceBytes
           << " workspace bytes";
    AsmState state(function);
    raw_ostream &os = llvm::outs();
    auto name = [&](Value value) {
      std::string text;
      llvm::raw_string_ostream out(text);
      value.printAsOperand(out, state);
      return text;
    };
    auto names = [&](ArrayRef<Value> values) {
      SmallVector<std::string> list;
      for (Value value : values)
        list.push_back(name(value));
      return llvm::join(list, ", ");
    };

    os << "schedule @" << function.getSymName() << ": " << schedule.steps.size() << " steps, "
       << schedule.loops.size() << " fused loops\n";
    for (auto [index, step] : llvm::enumerate(schedule.steps)) {
      os << "  step " << index << ": ";
      if (step.op) {
        os << "call " << step.op->getName() << " -> "
           << names(SmallVector<Value>(step.op->getResults())) << "\n";
        continue;
      }
      const FusedLoop &loop = schedule.loops[step.loop];
      SmallVector<std::string> ops;
      for (Operation *op : loop.ops)
        ops.push_back(op->getName().getStringRef().str());
      os << "loop " << step.loop << " over [";
      llvm::interleaveComma(loop.shape, os);
      os << "]: " << llvm::join(ops, ", ") << "; in " << names(loop.inputs) << "; out "
         << names(loop.outputs) << "\n";
    }

    os << "memory @" << function.getSymName() << ": workspace " << plan.workspaceBytes << " bytes ("
       << plan.naiveBytes << " without reuse)\n";
    // In the function's order: the plan's map has none.
    SmallVector<Value> values(function.getArguments());
    function.walk([&](Operation *op) { llvm::append_range(values, op->getResults()); });
    for (Value value : values) {
      auto it = plan.storage.find(value);
      if (it == plan.storage.end())
        continue;
      const Storage &storage = it->second;
      os << "  " << name(value) << ": ";
      if (storage.kind == Storage::Kind::argument) {
        os << "argument " << storage.argument << "\n";
        continue;
      }
      os << "workspace [" << storage.offset << ", " << storage.offset + valueBytes(value)
         << ") steps " << schedule.definingStep.lookup(value) << ".."
         << schedule.lastUse.lookup(value) << "\n";
    }
    for (auto [result, argument] : plan.copiesAtEnd)
      os << "  copy at end: " << name(result) << " -> argument " << argument << "\n";
  }
};
} // namespace
