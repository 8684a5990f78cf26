//===- CopyArgumentSharding.cpp - one function's layouts for another ------===//
//
// The evaluation function reads the same parameters and batch as the train
// step, so its arguments must arrive in the train step's blocks: the layouts
// are matched by what each argument holds (a parameter's or an input's
// name), not by position, since the two signatures differ (the train step
// also takes optimizer state and step scalars).
//
//===----------------------------------------------------------------------===//
#include "dialects/Cleave/IR/CleaveDialect.h"
#include "passes/Passes.h"
#include "passes/TrainStepAttrs.h"

#include "llvm/ADT/StringMap.h"
#include "llvm/Support/DebugLog.h"

#define DEBUG_TYPE "cleave-copy-argument-sharding"

namespace mlir::cleave {
#define GEN_PASS_DEF_CLEAVECOPYARGUMENTSHARDING
#include "passes/Passes.h.inc"
} // namespace mlir::cleave

using namespace mlir;
using namespace mlir::cleave;

namespace {

/// The name a function argument is known by: its parameter's, or its
/// input's; empty for optimizer state and step scalars.
std::string argumentName(func::FuncOp function, unsigned index) {
  if (ParamAttr param = getParamAttr(function, index))
    return "param:" + param.getName().getValue().str();
  if (auto input = function.getArgAttrOfType<StringAttr>(index, CleaveDialect::kInputAttrName))
    return "input:" + input.getValue().str();
  return "";
}

struct CopyArgumentShardingPass
    : public mlir::cleave::impl::CleaveCopyArgumentShardingBase<CopyArgumentShardingPass> {
  using CleaveCopyArgumentShardingBase::CleaveCopyArgumentShardingBase;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    auto from = module.lookupSymbol<func::FuncOp>(source);
    auto to = module.lookupSymbol<func::FuncOp>(function);
    // The pipeline adds this pass whenever the train step has an
    // evaluation twin; without either there is nothing to align.
    if (!from || !to)
      return;
    llvm::StringMap<Attribute> layouts;
    for (unsigned i = 0; i < from.getNumArguments(); ++i)
      if (Attribute layout = from.getArgAttr(i, CleaveDialect::kShardingAttrName))
        layouts[argumentName(from, i)] = layout;
    for (unsigned i = 0; i < to.getNumArguments(); ++i) {
      std::string name = argumentName(to, i);
      if (name.empty()) {
        to.emitOpError() << "argument #" << i << " is neither a parameter nor an input";
        return signalPassFailure();
      }
      if (Attribute layout = layouts.lookup(name)) {
        to.setArgAttr(i, CleaveDialect::kShardingAttrName, layout);
        LDBG() << name << ": " << layout;
      }
    }
  }
};

} // namespace
