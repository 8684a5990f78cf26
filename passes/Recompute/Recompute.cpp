//===- Recompute.cpp - activation recomputation of a train step -----------===//
#include "passes/Recompute/Recompute.h"

#include "passes/Recompute/RecomputeRegions.h"

#include "dialects/Cleave/IR/CleaveDialect.h"
#include "dialects/Cleave/Interfaces/CostInterface.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/IRMapping.h"
#include "llvm/ADT/SmallPtrSet.h"
#include "llvm/Support/DebugLog.h"

#define DEBUG_TYPE "cleave-recompute"

using namespace mlir;
using namespace mlir::cleave;

std::optional<RecomputeMode> mlir::cleave::parseRecomputeMode(llvm::StringRef text) {
  if (text == "none")
    return RecomputeMode::none;
  if (text == "selective")
    return RecomputeMode::selective;
  if (text == "full")
    return RecomputeMode::full;
  return std::nullopt;
}

llvm::StringRef mlir::cleave::recomputeModeName(RecomputeMode mode) {
  switch (mode) {
  case RecomputeMode::none:
    return "none";
  case RecomputeMode::selective:
    return "selective";
  case RecomputeMode::full:
    return "full";
  }
  return "none";
}

static bool isBackward(const TrainStepPhases &phases, Operation *op) {
  const OpRole *role = phases.getRole(op);
  return role && role->phase == SplitPhase::backward;
}

/// The forward id the backward op `op` serves: its own cleave.bwd_of, or,
/// for an op canonicalization made, that of the forward op it was anchored
/// to (so the split anchors its clones where it anchors it).
static int64_t getServedForwardId(const TrainStepPhases &phases, Operation *op) {
  if (auto id = op->getAttrOfType<IntegerAttr>(CleaveDialect::kBackwardOfAttrName))
    return id.getInt();
  Operation *anchor = phases.getForwardOps()[phases.getRole(op)->anchor];
  return anchor->getAttrOfType<IntegerAttr>(CleaveDialect::kForwardIdAttrName).getInt();
}

/// Clones the ops of `region` that make its stashed values right before
/// the first backward op reading one, and points every backward reader at
/// the clones. The forward originals stay for the forward's own readers.
static void recomputeRegion(const TrainStepPhases &phases, const RecomputeRegion &region,
                            RecomputeSummary &summary) {
  llvm::SmallPtrSet<Operation *, 16> inRegion(region.begin(), region.end());
  llvm::SmallVector<Value> stashed;
  Operation *first = nullptr;
  for (Operation *op : region)
    for (Value result : op->getResults())
      for (Operation *user : result.getUsers()) {
        if (!isBackward(phases, user))
          continue;
        if (stashed.empty() || stashed.back() != result)
          stashed.push_back(result);
        if (!first || user->isBeforeInBlock(first))
          first = user;
      }
  if (stashed.empty())
    return;
  // What the stashed values need from the region; the rest of their
  // operands stay stashed (the region's inputs, parameters, constants).
  llvm::SmallPtrSet<Operation *, 16> needed;
  llvm::SmallVector<Operation *> worklist;
  for (Value value : stashed)
    if (needed.insert(value.getDefiningOp()).second)
      worklist.push_back(value.getDefiningOp());
  while (!worklist.empty()) {
    Operation *op = worklist.pop_back_val();
    for (Value operand : op->getOperands())
      if (Operation *producer = operand.getDefiningOp())
        if (inRegion.contains(producer) && needed.insert(producer).second)
          worklist.push_back(producer);
  }

  OpBuilder builder(first);
  IntegerAttr served = builder.getI64IntegerAttr(getServedForwardId(phases, first));
  IRMapping mapping;
  for (Operation *op : region) {
    if (!needed.contains(op))
      continue;
    Operation *clone = builder.clone(*op, mapping);
    clone->removeAttr(CleaveDialect::kForwardIdAttrName);
    clone->setAttr(CleaveDialect::kBackwardOfAttrName, served);
    clone->setAttr(kRecomputedAttrName, builder.getUnitAttr());
  }
  for (Value value : stashed) {
    value.replaceUsesWithIf(mapping.lookup(value),
                            [&](OpOperand &use) { return isBackward(phases, use.getOwner()); });
    summary.droppedBytes += getTensorBytes(value.getType());
  }
  summary.regions += 1;
  summary.clonedOps += needed.size();
  summary.droppedValues += stashed.size();
  LDBG() << "region of " << region.size() << " ops: " << stashed.size() << " stashed values from "
         << needed.size() << " clones before " << *first;
}

LogicalResult mlir::cleave::recomputeActivations(func::FuncOp trainStep, RecomputeMode mode,
                                                 RecomputeSummary *summary) {
  RecomputeSummary local;
  RecomputeSummary &result = summary ? *summary : local;
  result = RecomputeSummary();
  if (!trainStep.getBody().hasOneBlock())
    return trainStep.emitOpError() << "cannot be recomputed: its body must be one block";
  bool tagged = false;
  for (Operation &op : trainStep.getBody().front()) {
    if (op.hasAttr(CleaveDialect::kStageAttrName) || op.hasAttr(CleaveDialect::kPhaseAttrName))
      return trainStep.emitOpError()
             << "is already cut into pipeline chunks (" << CleaveDialect::kStageAttrName
             << "): run cleave-recompute before cleave-pipeline-split";
    tagged |= op.hasAttr(CleaveDialect::kForwardIdAttrName);
  }
  if (!tagged)
    return trainStep.emitOpError()
           << "has no op tagged " << CleaveDialect::kForwardIdAttrName
           << ": cleave-recompute needs the train step built with phase tags "
              "(--cleave-train-pipeline=\"... phase-tags=true\"; cleavec --recompute turns "
              "them on)";
  if (mode == RecomputeMode::none) {
    result.nothingBecause = "mode none";
    return success();
  }
  FailureOr<TrainStepPhases> phases = TrainStepPhases::analyze(trainStep);
  if (failed(phases))
    return failure();
  std::vector<RecomputeRegion> regions =
      mode == RecomputeMode::full ? findLayerRegions(*phases) : findAttentionRegions(*phases);
  for (const RecomputeRegion &region : regions)
    recomputeRegion(*phases, region, result);
  if (result.regions == 0)
    result.nothingBecause =
        mode == RecomputeMode::full
            ? "the model has one layer (the split's layer boundaries), whose backward starts "
              "as soon as its forward ends"
            : "no attention core (a softmax over the last axis between two batched matmuls)";
  return success();
}
