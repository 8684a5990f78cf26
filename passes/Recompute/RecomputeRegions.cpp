//===- RecomputeRegions.cpp - which forward ops are recomputed together --===//
#include "passes/Recompute/RecomputeRegions.h"

#include "dialects/Cleave/IR/CleaveOps.h"
#include "passes/Pipeline/SplitCuts.h"

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

/// Only ops without side effects or regions can run twice.
static bool isClonable(Operation *op) { return op->getNumRegions() == 0 && isMemoryEffectFree(op); }

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

/// An elementwise op's main operand: the one forward value of the result's
/// shape (a scale, a mask or a bias broadcast into it are not), or null.
static Value getMainOperand(const TrainStepPhases &phases, Operation *op) {
  if (!isa<UnaryOp, BinaryOp, SelectOp, CastOp>(op) || op->getNumResults() != 1)
    return nullptr;
  auto type = cast<ShapedType>(op->getResult(0).getType());
  Value main;
  for (Value operand : op->getOperands()) {
    auto operandType = dyn_cast<ShapedType>(operand.getType());
    if (!operandType || operandType.getShape() != type.getShape() ||
        !isForward(phases, operand.getDefiningOp()) || isa<RandomMaskOp>(operand.getDefiningOp()))
      continue;
    if (main)
      return nullptr;
    main = operand;
  }
  return main;
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
  Value value = softmax.getInput();
  for (int step = 0;; ++step) {
    Operation *producer = value.getDefiningOp();
    if (step == kLongestChain || !isForward(phases, producer) || !isClonable(producer))
      return {};
    region.push_back(producer);
    if (isBatchedProduct(phases, producer))
      break;
    value = getMainOperand(phases, producer);
    if (!value)
      return {};
  }
  // On to the product with V.
  value = softmax.getResult();
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
    if (getMainOperand(phases, user) != value)
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
