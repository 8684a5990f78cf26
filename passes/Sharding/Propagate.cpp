//===- Propagate.cpp - shard every op from its arguments' shardings -------===//
//
// The pinned-plan path (`--grid`, `--shard`, `--zero`): seeds on the
// arguments decide, and each op follows its operands (forward walk) or, if
// nothing reached it, its users (backward walk). The cost-driven search
// writes the same cleave.factor_axes attributes, so cleave-partition does
// not care which of the two produced a plan.
//
// With `sequence-parallel`, a tensor-parallel partial sum (a row-parallel
// product's output, partial over the "tp" axis) entering a norm or an
// elementwise op is reduce-scattered into rows instead of all-reduced
// (Megatron-SP): those ops run on 1/tp of the rows, and the rows are
// gathered again where a product's pinned weight claims the axis. Such row
// splits are soft: an op takes its operands' other splits first.
//
//===----------------------------------------------------------------------===//
#include "passes/Analysis/Sharding/ShardingAttrs.h"
#include "passes/Passes.h"
#include "passes/TrainStepAttrs.h"

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
  /// Per factor: split by sequence parallelism (yields to other splits).
  llvm::SmallBitVector soft;
  bool anySplit() const {
    return llvm::any_of(axes, [](const AxisList &a) { return !a.empty(); });
  }
};

class Propagator {
public:
  Propagator(func::FuncOp func, const GridInfo &grid, bool sequenceParallel)
      : func(func), grid(grid) {
    if (sequenceParallel)
      for (auto [axis, name] : llvm::enumerate(grid.names))
        if (name == "tp" && grid.shape[axis] > 1)
          tpAxis = static_cast<int16_t>(axis);
  }

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
        plan.soft.resize(plan.rule.factors.size());
        plans[&op] = std::move(plan);
        ops.push_back(&op);
      }

    if (tpAxis >= 0)
      for (BlockArgument argument : body.getArguments())
        if (getParamAttr(func, argument.getArgNumber()) ||
            func.getArgAttr(argument.getArgNumber(), CleaveDialect::kOptStateAttrName))
          parameterTypes.insert(argument.getType());
    // Forward: a factor follows the first operand dimension that carries
    // it; soft (sequence-parallel) splits only where nothing else claims
    // the factor or the axis.
    for (Operation *op : ops) {
      OpPlan &plan = plans[op];
      for (bool soft : {false, true})
        for (auto [operand, dims] : llvm::zip(op->getOperands(), plan.rule.operands)) {
          auto it = known.find(operand);
          if (it == known.end())
            continue;
          const llvm::SmallBitVector &softDims = softOf[operand];
          for (auto [dim, factors] : llvm::enumerate(dims)) {
            if (factors.empty())
              continue;
            ArrayRef<int16_t> axes = it->second[dim];
            if (!(dim < softDims.size() && softDims.test(dim))) {
              if (!soft)
                propose(plan, factors.front(), axes);
            } else if (!soft) {
              // The split under the soft tp axis (dp of dp*tp) holds.
              AxisList firm(axes.begin(), axes.end());
              llvm::erase(firm, tpAxis);
              propose(plan, factors.front(), firm);
            } else if (extend(plan, factors.front(), axes)) {
              plan.soft.set(factors.front());
            }
          }
        }
      if (tpAxis >= 0)
        splitPartialRows(op, plan);
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
      llvm::SmallBitVector soft(plan.rule.results[index].size());
      for (auto [dim, factors] : llvm::enumerate(plan.rule.results[index])) {
        dims.push_back(factors.empty() ? AxisList{} : plan.axes[factors.front()]);
        if (!factors.empty() && plan.soft.test(factors.front()))
          soft.set(dim);
      }
      known[result] = dims;
      softOf[result] = soft;
      bool partialOverTp = false;
      for (auto [factor, axes] : llvm::enumerate(plan.axes))
        partialOverTp |= llvm::is_contained(axes, tpAxis) &&
                         !plan.rule.resultCarries(index, static_cast<int>(factor));
      if (partialOverTp)
        partialOverTensorParallel.insert(result);
    }
  }

  /// Megatron-SP: an activation that is a partial sum over tp, entering a
  /// norm or a cheap op, is scattered into rows (the dimensions before the
  /// last) rather than all-reduced. The leading row dimension takes tp
  /// after the axes it has (dp*tp): the rows of [batch, sequence] then stay
  /// one major split when the loss merges them into one dimension, which a
  /// split sequence would not (a minor split of a merged dimension).
  void splitPartialRows(Operation *op, OpPlan &plan) {
    if (op->hasTrait<OpTrait::cleave::HeavyOp>() && !isa<LayerNormOp, LayerNormGradOp>(op))
      return;
    for (const AxisList &axes : plan.axes)
      if (llvm::is_contained(axes, tpAxis))
        return;
    for (auto [operand, dims] : llvm::zip(op->getOperands(), plan.rule.operands)) {
      auto type = dyn_cast<RankedTensorType>(operand.getType());
      if (!type || type.getRank() < 2 || !partialOverTensorParallel.contains(operand) ||
          parameterTypes.contains(type))
        continue;
      for (int dim = 0; dim + 1 < static_cast<int>(dims.size()); ++dim) {
        if (dims[dim].empty())
          continue;
        int factor = dims[dim].front();
        AxisList axes = plan.axes[factor];
        axes.push_back(tpAxis);
        if (extend(plan, factor, axes)) {
          plan.soft.set(factor);
          return;
        }
      }
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

  /// Whether `factor`, unsplit or split over a prefix of `axes`, took the
  /// rest of them.
  bool extend(OpPlan &plan, int factor, ArrayRef<int16_t> axes) {
    const AxisList &have = plan.axes[factor];
    if (have.empty())
      return propose(plan, factor, axes);
    if (have.size() >= axes.size() || !llvm::equal(have, axes.take_front(have.size())))
      return false;
    const Factor &info = plan.rule.factors[factor];
    if (info.kind == FactorKind::whole || info.size % grid.axesSize(axes) != 0)
      return false;
    for (const AxisList &used : plan.axes)
      for (int16_t axis : axes.drop_front(have.size()))
        if (llvm::is_contained(used, axis))
          return false;
    if (isMinorAnywhere(plan, factor))
      return false;
    plan.axes[factor] = AxisList(axes.begin(), axes.end());
    return true;
  }

  /// Whether `factor` took `axes`.
  bool propose(OpPlan &plan, int factor, ArrayRef<int16_t> axes) {
    if (axes.empty() || !plan.axes[factor].empty())
      return false;
    const Factor &info = plan.rule.factors[factor];
    if (info.kind == FactorKind::whole || info.size % grid.axesSize(axes) != 0)
      return false;
    for (const AxisList &used : plan.axes)
      for (int16_t axis : axes)
        if (llvm::is_contained(used, axis))
          return false;
    if (isMinorAnywhere(plan, factor))
      return false;
    plan.axes[factor] = AxisList(axes.begin(), axes.end());
    return true;
  }

  func::FuncOp func;
  const GridInfo &grid;
  DenseMap<Operation *, OpPlan> plans;
  DenseMap<Value, SmallVector<AxisList, 4>> known;
  DenseMap<Value, llvm::SmallBitVector> softOf;
  /// The "tp" axis under sequence parallelism, else -1.
  int16_t tpAxis = -1;
  DenseSet<Value> partialOverTensorParallel;
  /// Parameter and optimizer state types: their gradients and updates are
  /// not activations, so they are never split by rows.
  DenseSet<Type> parameterTypes;
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
    Propagator(func, *grid, sequenceParallel).run();
  }
};

} // namespace
