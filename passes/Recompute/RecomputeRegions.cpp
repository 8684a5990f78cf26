//===- RecomputeRegions.cpp - which forward ops are recomputed together --===//
#include "passes/Recompute/RecomputeRegions.h"

#include "dialects/Cleave/IR/CleaveOps.h"
#include "passes/Pipeline/SplitCuts.h"
#include "passes/TrainStepAttrs.h"

#include "mlir/Interfaces/SideEffectInterfaces.h"
#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/SmallPtrSet.h"

#include <algorithm>

using namespace mlir;
using namespace mlir::cleave;

static bool isForward(const TrainStepPhases &phases, Operation *op) {
  const OpRole *role = op ? phases.getRole(op) : nullptr;
  return role && role->phase == SplitPhase::forward;
}

/// Only ops without side effects or regions can run twice. Nor an op that
/// reads state the step updates and does not train (BatchNorm's running
/// statistics): a clone reading it in the backward would keep the memory
/// plan from updating it in place, holding its new value in the workspace
/// for the rest of the step (the CNN's peak grew by that).
static bool isClonable(Operation *op) {
  if (op->getNumRegions() != 0 || !isMemoryEffectFree(op))
    return false;
  auto function = op->getParentOfType<func::FuncOp>();
  return llvm::none_of(op->getOperands(), [&](Value operand) {
    auto arg = dyn_cast<BlockArgument>(operand);
    if (!arg || arg.getOwner() != &function.getBody().front() ||
        isTrainableParam(function, arg.getArgNumber()))
      return false;
    for (unsigned result = 0, e = function.getNumResults(); result < e; ++result)
      if (auto updates =
              function.getResultAttrOfType<IntegerAttr>(result, CleaveDialect::kUpdatesAttrName))
        if (updates.getInt() == arg.getArgNumber())
          return true;
    return false;
  });
}

std::vector<RecomputeRegion> mlir::cleave::findLayerRegions(const TrainStepPhases &phases) {
  // The split's layer boundaries, not a layer notion of our own: a
  // pipeline cut then never falls inside a recomputed layer. Seconds do
  // not matter for the boundaries.
  CutProfile profile = profileCuts(phases, [](Operation *) { return 0.0; });
  const std::vector<int64_t> &bounds = profile.candidates;
  auto layerOf = [&](Operation *op) -> int64_t {
    return llvm::upper_bound(bounds, phases.getRole(op)->anchor) - bounds.begin();
  };
  int64_t last = bounds.size();
  std::vector<RecomputeRegion> regions(last);
  for (Operation *op : phases.getOps()) {
    if (!isForward(phases, op) || !isClonable(op))
      continue;
    int64_t layer = layerOf(op);
    if (layer == last)
      continue;
    bool output = llvm::any_of(op->getUsers(), [&](Operation *user) {
      return isForward(phases, user) && layerOf(user) != layer;
    });
    if (!output)
      regions[layer].push_back(op);
  }
  llvm::erase_if(regions, [](const RecomputeRegion &region) { return region.empty(); });
  return regions;
}

/// A product of two batch-dependent operands with batch dimensions (Q K^T,
/// P V), rather than a projection by a weight argument.
static bool isBatchedProduct(const TrainStepPhases &phases, Operation *op) {
  auto matmul = dyn_cast_or_null<MatmulOp>(op);
  if (!matmul || !isForward(phases, op) || matmul.getType().getRank() < 3)
    return false;
  return isForward(phases, matmul.getLhs().getDefiningOp()) &&
         isForward(phases, matmul.getRhs().getDefiningOp());
}

/// The forward values among `op`'s operands that an elementwise op could
/// carry the scores through: of the result's shape (a scale, or a mask
/// broadcast into it, is not), and not a dropout mask.
static llvm::SmallVector<Value> getCarriedOperands(const TrainStepPhases &phases, Operation *op) {
  if (!isa<UnaryOp, BinaryOp, SelectOp, CastOp>(op) || op->getNumResults() != 1)
    return {};
  auto type = cast<ShapedType>(op->getResult(0).getType());
  llvm::SmallVector<Value> carried;
  for (Value operand : op->getOperands()) {
    auto operandType = dyn_cast<ShapedType>(operand.getType());
    if (operandType && operandType.getShape() == type.getShape() &&
        isForward(phases, operand.getDefiningOp()) && !isa<RandomMaskOp>(operand.getDefiningOp()))
      carried.push_back(operand);
  }
  return carried;
}

/// Appends to `chain` the elementwise ops from `value` back to a batched
/// product (the product last), searching at most `depth` ops deep through
/// each carried operand (a same-shaped mask made by other forward ops is
/// another branch, which does not reach a product); false, `chain`
/// unchanged, when none does.
static bool findScoresChain(const TrainStepPhases &phases, Value value, int depth,
                            RecomputeRegion &chain) {
  Operation *producer = value.getDefiningOp();
  if (depth == 0 || !isForward(phases, producer) || !isClonable(producer))
    return false;
  chain.push_back(producer);
  if (isBatchedProduct(phases, producer))
    return true;
  for (Value operand : getCarriedOperands(phases, producer))
    if (findScoresChain(phases, operand, depth - 1, chain))
      return true;
  chain.pop_back();
  return false;
}

/// The attention core around `softmax`, or an empty region.
static RecomputeRegion matchAttentionCore(const TrainStepPhases &phases, SoftmaxOp softmax) {
  // Bounds the walks: a scaling, a mask and a cast, or dropout, are a few.
  const int kLongestChain = 8;
  if (softmax.getLog() ||
      static_cast<int64_t>(softmax.getAxis()) != softmax.getType().getRank() - 1)
    return {};
  RecomputeRegion region = {softmax};
  // Back to the scores product.
  if (!findScoresChain(phases, softmax.getInput(), kLongestChain, region))
    return {};
  // On to the product with V.
  Value value = softmax.getResult();
  for (int step = 0;; ++step) {
    llvm::SmallVector<Operation *> users;
    for (Operation *user : value.getUsers())
      if (isForward(phases, user) && !llvm::is_contained(users, user))
        users.push_back(user);
    if (step == kLongestChain || users.size() != 1 || !isClonable(users.front()))
      return {};
    Operation *user = users.front();
    if (isBatchedProduct(phases, user)) {
      if (cast<MatmulOp>(user).getLhs() != value)
        return {};
      break;
    }
    if (!llvm::is_contained(getCarriedOperands(phases, user), value))
      return {};
    region.push_back(user);
    // Dropout's mask is made for this product alone.
    for (Value operand : user->getOperands())
      if (auto mask = operand.getDefiningOp<RandomMaskOp>(); mask && isForward(phases, mask))
        region.push_back(mask);
    value = user->getResult(0);
  }
  llvm::sort(region, [](Operation *a, Operation *b) { return a->isBeforeInBlock(b); });
  return region;
}

std::vector<RecomputeRegion> mlir::cleave::findAttentionRegions(const TrainStepPhases &phases) {
  std::vector<RecomputeRegion> regions;
  for (Operation *op : phases.getOps())
    if (auto softmax = dyn_cast<SoftmaxOp>(op); softmax && isForward(phases, op))
      if (RecomputeRegion region = matchAttentionCore(phases, softmax); !region.empty())
        regions.push_back(std::move(region));
  return regions;
}
