//===- Phases.cpp - which ops of a train step run per micro-batch ---------===//
#include "passes/Pipeline/Phases.h"

#include "dialects/Cleave/IR/CleaveDialect.h"
#include "dialects/Cleave/IR/CleaveOps.h"
#include "passes/TrainStepAttrs.h"

#include "mlir/Dialect/Shard/IR/ShardOps.h"
#include "llvm/ADT/DenseSet.h"

using namespace mlir;
using namespace mlir::cleave;

/// The part an op's own tags give it, if any.
static std::optional<StepPart> getTaggedPart(Operation *op) {
  if (op->hasTrait<OpTrait::ConstantLike>())
    return StepPart::shared;
  if (auto phase = op->getAttrOfType<StringAttr>(CleaveDialect::kPhaseAttrName))
    return phase.getValue() == "update" ? StepPart::once : StepPart::perMicroBatch;
  if (op->hasAttr(CleaveDialect::kForwardIdAttrName) ||
      op->hasAttr(CleaveDialect::kBackwardOfAttrName))
    return StepPart::perMicroBatch;
  if (op->hasAttr(CleaveDialect::kUpdateOfAttrName))
    return StepPart::once;
  return std::nullopt;
}

/// Sum collectives: they commute with the micro-batch sum.
static bool isSumCollective(Operation *op) {
  if (auto reduce = dyn_cast<shard::AllReduceOp>(op))
    return reduce.getReduction() == shard::ReductionKind::Sum;
  if (auto scatter = dyn_cast<shard::ReduceScatterOp>(op))
    return scatter.getReduction() == shard::ReductionKind::Sum;
  return false;
}

/// Ops whose result's mean over micro-batches is the op of the operands'
/// means (operands not computed per micro-batch are the same in each).
static bool commutesWithMean(Operation *op) {
  return isSumCollective(op) || isa<shard::AllGatherOp, shard::AllSliceOp, shard::AllToAllOp,
                                    ReshapeOp, TransposeOp, SliceOp, ConcatOp>(op);
}

/// Whether result `index` of `function` is the new value of a parameter
/// no optimizer updates (a buffer: running statistics).
static bool updatesBuffer(func::FuncOp function, unsigned index) {
  auto updates = function.getResultAttrOfType<IntegerAttr>(index, CleaveDialect::kUpdatesAttrName);
  if (!updates)
    return false;
  unsigned argument = static_cast<unsigned>(updates.getInt());
  return function.getArgAttr(argument, CleaveDialect::kParamAttrName) &&
         !isTrainableParam(function, argument);
}

LogicalResult mlir::cleave::classifyStepOps(func::FuncOp function,
                                            llvm::DenseMap<Operation *, StepPart> &parts) {
  Block &body = function.getBody().front();
  // Which values differ between micro-batches: the batch, what reads it,
  // the dropout masks.
  llvm::DenseSet<Operation *> varies;
  for (Operation &op : body.without_terminator()) {
    bool dependent = isa<RandomMaskOp>(op);
    for (Value operand : op.getOperands()) {
      if (auto argument = dyn_cast<BlockArgument>(operand))
        dependent |= static_cast<bool>(
            function.getArgAttr(argument.getArgNumber(), CleaveDialect::kInputAttrName));
      else
        dependent |= varies.contains(operand.getDefiningOp());
    }
    if (dependent)
      varies.insert(&op);
  }

  llvm::SmallVector<Operation *> ops;
  for (Operation &op : body.without_terminator())
    ops.push_back(&op);
  // Users come after their producers: walking backwards, every user's part
  // is known.
  for (Operation *op : llvm::reverse(ops)) {
    std::optional<StepPart> tagged = getTaggedPart(op);
    // The return counts as once: what only it reads (the all-gather of a
    // parameter updated in shards) belongs to the update.
    // Not a buffer's new value (BatchNorm's running statistics, also where
    // a collective rebuilds them): the next micro-batch reads it.
    bool usersRunOnce = !op->use_empty() && llvm::all_of(op->getUses(), [&](OpOperand &use) {
      Operation *user = use.getOwner();
      if (user->hasTrait<OpTrait::IsTerminator>())
        return !updatesBuffer(function, use.getOperandNumber());
      auto found = parts.find(user);
      return found != parts.end() && found->second == StepPart::once;
    });
    // Also the reshape between such a collective and the update (a bias
    // gradient's [1, n] -> [n]): moving it lets the collective follow.
    if (tagged == StepPart::perMicroBatch && usersRunOnce && commutesWithMean(op)) {
      parts[op] = StepPart::once;
      continue;
    }
    if (tagged) {
      parts[op] = *tagged;
      continue;
    }
    if (!op->getRegions().empty())
      return op->emitOpError() << "has regions and no phase: the pipeline passes cannot place it";
    bool once = usersRunOnce && (!varies.contains(op) || commutesWithMean(op));
    parts[op] = once ? StepPart::once : StepPart::perMicroBatch;
  }
  // What reads an update-phase value runs after the update (the
  // redistribution of an updated parameter for the return).
  for (Operation *op : ops)
    if (parts[op] == StepPart::perMicroBatch && !getTaggedPart(op) &&
        llvm::any_of(op->getOperands(), [&](Value operand) {
          Operation *producer = operand.getDefiningOp();
          return producer && parts.lookup(producer) == StepPart::once;
        }))
      parts[op] = StepPart::once;
  return success();
}
