//===- Zero.cpp - ZeRO's dp splits on top of a plan ------------------------===//
#include "passes/Sharding/Zero.h"

#include "passes/Analysis/Sharding/ShardingAttrs.h"
#include "passes/TrainStepAttrs.h"

#include "dialects/Cleave/IR/CleaveOps.h"
#include "llvm/ADT/DenseMap.h"

using namespace mlir;
using namespace mlir::cleave;

/// Splits the first dimension of `type` that `axis` divides (with the axes
/// already there); unchanged if `axis` splits a dimension already or none
/// can take it.
static bool addAxisToFirstDivisible(SmallVector<AxisList, 4> &dims, RankedTensorType type,
                                    int16_t axis, ArrayRef<int64_t> gridSizes) {
  for (const AxisList &axes : dims)
    if (llvm::is_contained(axes, axis))
      return false;
  for (auto [dim, size] : llvm::enumerate(type.getShape())) {
    int64_t parts = gridSizes[axis];
    for (int16_t other : dims[dim])
      parts *= gridSizes[other];
    if (size % parts == 0 && size / parts >= 1) {
      dims[dim].push_back(axis);
      return true;
    }
  }
  return false;
}

void mlir::cleave::addZeroArgumentSplits(func::FuncOp function, ArrayRef<int64_t> gridSizes,
                                         int16_t dp, int level) {
  if (level < 1 || dp < 0)
    return;
  llvm::DenseMap<unsigned, SmallVector<AxisList, 4>> changed;
  for (unsigned i = 0, e = function.getNumArguments(); i < e; ++i) {
    bool state = function.getArgAttr(i, CleaveDialect::kOptStateAttrName) != nullptr;
    if (!state && !(level == 3 && isTrainableParam(function, i)))
      continue;
    auto type = cast<RankedTensorType>(function.getArgumentTypes()[i]);
    if (type.getRank() == 0)
      continue;
    SmallVector<AxisList, 4> dims(type.getRank());
    if (auto existing = getArgSharding(function, i))
      dims = *existing;
    if (!addAxisToFirstDivisible(dims, type, dp, gridSizes))
      continue;
    setArgSharding(function, i, dims);
    changed[i] = dims;
  }
  for (unsigned r = 0, e = function.getNumResults(); r < e; ++r) {
    int64_t updated = getUpdatedArgument(function, r);
    if (auto it = changed.find(updated); updated >= 0 && it != changed.end())
      setResultSharding(function, r, it->second);
  }
}

namespace {

/// The factor axes of `op` and its rule, or nothing when it has no rule.
struct OpAxes {
  FactorRule rule;
  SmallVector<AxisList> axes;
};

std::optional<OpAxes> readAxes(Operation *op) {
  auto ruleOp = dyn_cast<FactorRuleOpInterface>(op);
  if (!ruleOp)
    return std::nullopt;
  OpAxes result{ruleOp.getFactorRule(), {}};
  result.axes.resize(result.rule.factors.size());
  if (shard::GridAxesArrayAttr attr = getFactorAxesAttr(op)) {
    if (attr.size() != result.rule.factors.size())
      return std::nullopt; // cleave-partition reports it
    for (auto [index, axes] : llvm::enumerate(fromAttr(attr)))
      result.axes[index] = axes;
  }
  return result;
}

/// The layout `use`'s owner needs of its operand: per dimension, the axes.
SmallVector<AxisList> wantedBy(func::FuncOp function, OpOperand &use) {
  Operation *user = use.getOwner();
  auto rank = cast<RankedTensorType>(use.get().getType()).getRank();
  if (isa<func::ReturnOp>(user)) {
    if (auto dims = getResultSharding(function, use.getOperandNumber()))
      return SmallVector<AxisList>(dims->begin(), dims->end());
    return SmallVector<AxisList>(rank);
  }
  std::optional<OpAxes> plan = readAxes(user);
  if (!plan)
    return SmallVector<AxisList>(rank);
  SmallVector<AxisList> dims;
  for (const DimFactors &factors : plan->rule.operands[use.getOperandNumber()])
    dims.push_back(factors.empty() ? AxisList{} : plan->axes[factors.front()]);
  return dims;
}

bool isMinorAnywhere(const FactorRule &rule, int factor) {
  auto check = [&](const TensorFactors &dims) {
    return llvm::any_of(dims, [&](const DimFactors &factors) {
      return factors.size() > 1 && llvm::is_contained(ArrayRef<int>(factors).drop_front(), factor);
    });
  };
  return llvm::any_of(rule.operands, check) || llvm::any_of(rule.results, check);
}

} // namespace

namespace {

/// Adds `dp` to the factor of `op` that result (or operand) dimensions carry
/// where `layouts` (one per tensor of `dims`) want exactly its axes plus
/// `dp`; at most one factor. Whether it did.
bool addAxisWhereWanted(OpAxes &plan, ArrayRef<TensorFactors> dims,
                        ArrayRef<std::optional<SmallVector<AxisList>>> layouts,
                        const GridInfo &grid, int16_t dp) {
  if (llvm::any_of(plan.axes, [&](const AxisList &a) { return llvm::is_contained(a, dp); }))
    return false;
  for (auto [tensor, layout] : llvm::zip(dims, layouts)) {
    if (!layout)
      continue;
    for (auto [dim, factors] : llvm::enumerate(tensor)) {
      if (factors.empty() || dim >= layout->size())
        continue;
      int factor = factors.front();
      AxisList target = plan.axes[factor];
      target.push_back(dp);
      const Factor &info = plan.rule.factors[factor];
      if ((*layout)[dim] != target || info.kind == FactorKind::whole || info.dividesByCount ||
          isMinorAnywhere(plan.rule, factor) || info.size % grid.axesSize(target) != 0)
        continue;
      plan.axes[factor] = target;
      return true;
    }
  }
  return false;
}

} // namespace

void mlir::cleave::splitUpdateOverAxis(func::FuncOp function, const GridInfo &grid, int16_t dp,
                                       bool reduceWhole) {
  Operation *loss = findLossOp(function);
  if (!loss || dp < 0)
    return;
  SmallVector<Operation *> after;
  for (Operation *op = loss->getNextNode(); op && !op->hasTrait<OpTrait::IsTerminator>();
       op = op->getNextNode())
    after.push_back(op);
  auto split = [&](Operation *op, OpAxes &plan) {
    setFactorAxes(op, plan.axes);
    if (reduceWhole)
      op->setAttr(CleaveDialect::kReduceWholeAttrName, UnitAttr::get(function.getContext()));
  };
  // Forward, as propagation does: an op reading a tensor that ZeRO split
  // (an argument it sharded, or a result of an op split here) follows it.
  llvm::DenseMap<Value, SmallVector<AxisList>> zeroLayouts;
  for (BlockArgument argument : function.getArguments())
    if (auto dims = getArgSharding(function, argument.getArgNumber()))
      if (llvm::any_of(*dims, [&](const AxisList &a) { return llvm::is_contained(a, dp); }))
        zeroLayouts[argument] = SmallVector<AxisList>(dims->begin(), dims->end());
  for (Operation *op : after) {
    std::optional<OpAxes> plan = readAxes(op);
    if (!plan)
      continue;
    SmallVector<std::optional<SmallVector<AxisList>>> layouts;
    for (Value operand : op->getOperands()) {
      auto it = zeroLayouts.find(operand);
      layouts.push_back(it == zeroLayouts.end() ? std::nullopt
                                                : std::optional<SmallVector<AxisList>>(it->second));
    }
    if (!addAxisWhereWanted(*plan, plan->rule.operands, layouts, grid, dp))
      continue;
    split(op, *plan);
    for (auto [index, result] : llvm::enumerate(op->getResults())) {
      SmallVector<AxisList> dims;
      for (const DimFactors &factors : plan->rule.results[index])
        dims.push_back(factors.empty() ? AxisList{} : plan->axes[factors.front()]);
      zeroLayouts[result] = dims;
    }
  }
  // Backward: an op whose users all want its result split over dp (the
  // gradient's scaling before the moment update) takes that split.
  for (Operation *op : llvm::reverse(after)) {
    std::optional<OpAxes> plan = readAxes(op);
    if (!plan || op->getNumResults() != 1)
      continue;
    std::optional<SmallVector<AxisList>> agreed;
    bool usable = true;
    for (OpOperand &use : op->getResult(0).getUses()) {
      SmallVector<AxisList> wanted = wantedBy(function, use);
      if (agreed && *agreed != wanted)
        usable = false;
      agreed = wanted;
    }
    if (usable && agreed && addAxisWhereWanted(*plan, plan->rule.results, {agreed}, grid, dp))
      split(op, *plan);
  }
}

void mlir::cleave::markReduceWholeAfterLoss(func::FuncOp function) {
  Operation *loss = findLossOp(function);
  if (!loss)
    return;
  UnitAttr unit = UnitAttr::get(function.getContext());
  for (Operation *op = loss->getNextNode(); op && !op->hasTrait<OpTrait::IsTerminator>();
       op = op->getNextNode())
    op->setAttr(CleaveDialect::kReduceWholeAttrName, unit);
}
