//===- Propagate.cpp - shard every op from its arguments' shardings -------===//
//
// The pinned-plan path (`--grid`, `--shard`, `--zero`): seeds on the
// arguments decide, and each op follows its operands (forward walk) or, if
// nothing reached it, its users (backward walk). The cost-driven search
// writes the same cleave.factor_axes attributes, so cleave-partition does
// not care which of the two produced a plan.
//
//===----------------------------------------------------------------------===//
#include "passes/Analysis/Sharding/ShardingAttrs.h"
#include "passes/Passes.h"

#include "dialects/Cleave/IR/CleaveOps.h"
#include "llvm/ADT/SmallBitVector.h"
#include "llvm/Support/DebugLog.h"

#define DEBUG_TYPE "cleave-propagate-sharding"

namespace mlir::cleave {
#define GEN_PASS_DEF_CLEAVEPROPAGATESHARDING
#include "passes/Passes.h.inc"
} // namespace mlir::cleave

using namespace mlir;
using namespace mlir::cleave;

namespace {

struct OpPlan {
  FactorRule rule;
  SmallVector<AxisList> axes;
  bool anySplit() const {
    return llvm::any_of(axes, [](const AxisList &a) { return !a.empty(); });
  }
};

class Propagator {
public:
  Propagator(func::FuncOp func, const GridInfo &grid) : func(func), grid(grid) {}

  void run() {
    Block &body = func.getBody().front();
    for (BlockArgument argument : body.getArguments()) {
      auto type = cast<RankedTensorType>(argument.getType());
      TensorSharding sharding = TensorSharding::replicated(type.getRank());
      if (auto dims = getArgSharding(func, argument.getArgNumber()))
        sharding.dims = *dims;
      known[argument] = sharding.dims;
    }
    SmallVector<Operation *> ops;
    for (Operation &op : body.without_terminator())
      if (auto ruleOp = dyn_cast<FactorRuleOpInterface>(&op)) {
        OpPlan plan{ruleOp.getFactorRule(), {}};
        plan.axes.resize(plan.rule.factors.size());
        plans[&op] = std::move(plan);
        ops.push_back(&op);
      }

    // Forward: a factor follows the first operand dimension that carries it.
    for (Operation *op : ops) {
      OpPlan &plan = plans[op];
      for (auto [operand, dims] : llvm::zip(op->getOperands(), plan.rule.operands)) {
        auto it = known.find(operand);
        if (it == known.end())
          continue;
        for (auto [dim, factors] : llvm::enumerate(dims))
          if (!factors.empty())
            propose(plan, factors.front(), it->second[dim]);
      }
      recordResults(op, plan);
    }
    // Backward: ops nothing reached take the layout their users want.
    for (Operation *op : llvm::reverse(ops)) {
      OpPlan &plan = plans[op];
      if (plan.anySplit())
        continue;
      for (auto [index, result] : llvm::enumerate(op->getResults())) {
        for (OpOperand &use : result.getUses()) {
          SmallVector<AxisList> wanted = requiredBy(use);
          for (auto [dim, factors] : llvm::enumerate(plan.rule.results[index]))
            if (!factors.empty() && dim < wanted.size())
              propose(plan, factors.front(), wanted[dim]);
        }
      }
      recordResults(op, plan);
    }
    for (Operation *op : ops)
      setFactorAxes(op, plans[op].axes);
  }

private:
  /// The sharding, per dimension, that `use`'s owner needs of the operand.
  SmallVector<AxisList> requiredBy(OpOperand &use) {
    Operation *user = use.getOwner();
    unsigned index = use.getOperandNumber();
    if (isa<func::ReturnOp>(user)) {
      if (auto dims = getResultSharding(func, index))
        return SmallVector<AxisList>(dims->begin(), dims->end());
      return SmallVector<AxisList>(cast<RankedTensorType>(use.get().getType()).getRank());
    }
    auto it = plans.find(user);
    if (it == plans.end())
      return SmallVector<AxisList>(cast<RankedTensorType>(use.get().getType()).getRank());
    SmallVector<AxisList> dims;
    for (const DimFactors &factors : it->second.rule.operands[index])
      dims.push_back(factors.empty() ? AxisList{} : it->second.axes[factors.front()]);
    return dims;
  }

  void recordResults(Operation *op, const OpPlan &plan) {
    for (auto [index, result] : llvm::enumerate(op->getResults())) {
      SmallVector<AxisList, 4> dims;
      for (const DimFactors &factors : plan.rule.results[index])
        dims.push_back(factors.empty() ? AxisList{} : plan.axes[factors.front()]);
      known[result] = dims;
    }
  }

  bool isMinorAnywhere(const OpPlan &plan, int factor) const {
    auto check = [&](const TensorFactors &dims) {
      for (const DimFactors &factors : dims)
        if (factors.size() > 1 && llvm::is_contained(ArrayRef<int>(factors).drop_front(), factor))
          return true;
      return false;
    };
    return llvm::any_of(plan.rule.operands, check) || llvm::any_of(plan.rule.results, check);
  }

  void propose(OpPlan &plan, int factor, ArrayRef<int16_t> axes) {
    if (axes.empty() || !plan.axes[factor].empty())
      return;
    const Factor &info = plan.rule.factors[factor];
    if (info.kind == FactorKind::whole || info.size % grid.axesSize(axes) != 0)
      return;
    for (const AxisList &used : plan.axes)
      for (int16_t axis : axes)
        if (llvm::is_contained(used, axis))
          return;
    if (isMinorAnywhere(plan, factor))
      return;
    plan.axes[factor] = AxisList(axes.begin(), axes.end());
  }

  func::FuncOp func;
  const GridInfo &grid;
  DenseMap<Operation *, OpPlan> plans;
  DenseMap<Value, SmallVector<AxisList, 4>> known;
};

struct PropagateShardingPass
    : public mlir::cleave::impl::CleavePropagateShardingBase<PropagateShardingPass> {
  using CleavePropagateShardingBase::CleavePropagateShardingBase;
  void runOnOperation() override {
    ModuleOp module = getOperation();
    if (fromSearch) {
      // Only where the search left its fallback to seeding and this pass.
      if (!module->hasAttr(CleaveDialect::kShardFallbackAttrName)) {
        LDBG() << "no cleave.shard_fallback: the search planned";
        return;
      }
      module->removeAttr(CleaveDialect::kShardFallbackAttrName);
    }
    if (module.getOps<shard::GridOp>().empty())
      return;
    FailureOr<GridInfo> grid = getGrid(module);
    if (failed(grid))
      return signalPassFailure();
    auto func = module.lookupSymbol<func::FuncOp>(function);
    if (!func || func.isExternal()) {
      module.emitError() << "cleave-propagate-sharding: no function @" << function;
      return signalPassFailure();
    }
    LDBG() << "propagating over @" << function << " on " << grid->shape.size() << " grid axes";
    Propagator(func, *grid).run();
  }
};

} // namespace
