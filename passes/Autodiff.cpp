//===- Autodiff.cpp - reverse-mode differentiation of the loss ------------===//
//
// 1. Clone @loss into @gradients.
// 2. Mark the active values: those that depend on a trainable parameter
//    and on which the loss depends. Only they get gradients.
// 3. Walk the ops backwards from the loss (seeded with 1), asking each
//    op's gradient rule for its active operands' gradients; a value used
//    several times (a tied embedding) sums its gradients.
// 4. Return the loss, the state updates, and one gradient per trainable
//    parameter the loss depends on (`cleave.grad_of` = its argument).
//
//===----------------------------------------------------------------------===//
#include "passes/Passes.h"

#include "passes/Autodiff/GradientRules.h"
#include "passes/TrainStepAttrs.h"

#include "mlir/IR/IRMapping.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/Transforms/RegionUtils.h"
#include "llvm/ADT/SetVector.h"
#include "llvm/Support/DebugLog.h"

namespace mlir::cleave {
#define GEN_PASS_DEF_CLEAVEAUTODIFF
#include "passes/Passes.h.inc"
} // namespace mlir::cleave

#define DEBUG_TYPE "cleave-autodiff"

using namespace mlir;
using namespace mlir::cleave;
using namespace mlir::cleave::autodiff;

namespace {

/// Values on a path from a trainable parameter to the loss.
static llvm::DenseSet<Value> findActiveValues(func::FuncOp function, Value loss) {
  llvm::DenseSet<Value> dependsOnParam;
  for (BlockArgument argument : function.getArguments())
    if (isTrainableParam(function, argument.getArgNumber()))
      dependsOnParam.insert(argument);
  for (Operation &op : function.getBody().front())
    if (llvm::any_of(op.getOperands(), [&](Value v) { return dependsOnParam.contains(v); }))
      for (Value result : op.getResults())
        dependsOnParam.insert(result);

  llvm::DenseSet<Value> active;
  if (!dependsOnParam.contains(loss))
    return active;
  active.insert(loss);
  for (Operation &op : llvm::reverse(function.getBody().front())) {
    if (!llvm::any_of(op.getResults(), [&](Value v) { return active.contains(v); }))
      continue;
    for (Value operand : op.getOperands())
      if (dependsOnParam.contains(operand))
        active.insert(operand);
  }
  return active;
}

struct AutodiffPass : public mlir::cleave::impl::CleaveAutodiffBase<AutodiffPass> {
  using CleaveAutodiffBase::CleaveAutodiffBase;

  /// Tags the ops between `lastBefore` (exclusive; null: the block's start)
  /// and `end` with the forward op they differentiate. Constants stay
  /// untagged: every stage can materialise its own.
  static void tagNewOps(Operation *lastBefore, Operation *end, Attribute forwardId) {
    Block *block = end->getBlock();
    auto it = lastBefore ? std::next(lastBefore->getIterator()) : block->begin();
    for (; &*it != end; ++it)
      if (!isa<ConstantOp>(*it))
        it->setAttr(CleaveDialect::kBackwardOfAttrName, forwardId);
  }

  void runOnOperation() override {
    ModuleOp module = getOperation();
    auto loss = lookupFunctionOrEmit(module, sourceFunction,
                                     "cleave-autodiff: no function @" + sourceFunction +
                                         " (run cleave-attach-loss first)");
    if (!loss || failed(differentiate(module, loss)))
      signalPassFailure();
  }

  LogicalResult differentiate(ModuleOp module, func::FuncOp loss) {
    LDBG() << "differentiating @" << sourceFunction;
    int lossIndex = findLossResult(loss);
    if (lossIndex < 0)
      return loss.emitOpError() << "has no result marked cleave.loss";
    OpBuilder builder(module.getContext());
    builder.setInsertionPointAfter(loss);
    auto function = cast<func::FuncOp>(builder.clone(*loss));
    function.setSymName(resultFunction);
    Block &body = function.getBody().front();
    auto returnOp = cast<func::ReturnOp>(body.getTerminator());
    Value lossValue = returnOp.getOperand(lossIndex);
    if (cast<RankedTensorType>(lossValue.getType()).getRank() != 0)
      return loss.emitOpError() << "loss result must be a scalar (0-d) tensor";

    llvm::DenseSet<Value> active = findActiveValues(function, lossValue);
    llvm::DenseMap<Value, Value> adjoints;
    builder.setInsertionPoint(returnOp);
    TensorBuilder tensors(builder, returnOp.getLoc());
    auto accumulate = [&](Value value, Value grad) {
      auto [it, inserted] = adjoints.try_emplace(value, grad);
      if (!inserted)
        it->second = tensors.add(it->second, grad);
    };
    if (active.contains(lossValue))
      accumulate(lossValue, tensors.scalar(TensorBuilder::elementTypeOf(lossValue), 1.0));

    // Collect first: the rules insert new ops before the return.
    SmallVector<Operation *> forwardOps;
    for (Operation &op : body.without_terminator())
      forwardOps.push_back(&op);
    if (phaseTags)
      for (auto [index, op] : llvm::enumerate(forwardOps))
        if (!isa<ConstantOp>(op))
          op->setAttr(CleaveDialect::kForwardIdAttrName, builder.getI64IntegerAttr(index));
    for (Operation *op : llvm::reverse(forwardOps)) {
      SmallVector<Value> resultGrads;
      bool anyGrad = false;
      for (Value result : op->getResults()) {
        resultGrads.push_back(adjoints.lookup(result));
        anyGrad |= static_cast<bool>(resultGrads.back());
      }
      if (!anyGrad)
        continue;
      const GradientRule *rule = getGradientTable().lookup(op);
      if (!rule)
        return op->emitOpError() << "has no gradient rule, but the loss depends on it through "
                                    "a trainable parameter";
      SmallVector<bool> needsGrad;
      for (Value operand : op->getOperands())
        needsGrad.push_back(active.contains(operand));
      Operation *lastBefore = returnOp->getPrevNode();
      TensorBuilder opTensors(builder, op->getLoc());
      GradientContext ctx(opTensors, op, resultGrads, needsGrad);
      (*rule)(ctx);
      for (auto [operand, grad] : llvm::zip(op->getOperands(), ctx.getOperandGrads()))
        if (grad && active.contains(operand))
          accumulate(operand, grad);
      if (phaseTags)
        tagNewOps(lastBefore, returnOp, op->getAttr(CleaveDialect::kForwardIdAttrName));
    }

    // New results: everything @loss returned, then the gradients.
    SmallVector<Value> results(returnOp.getOperands());
    SmallVector<DictionaryAttr> resultAttrs;
    for (unsigned i = 0; i < loss.getNumResults(); ++i)
      resultAttrs.push_back(loss.getResultAttrDict(i));
    for (BlockArgument argument : function.getArguments()) {
      Value grad = adjoints.lookup(argument);
      // A parameter the loss does not depend on gets no gradient, and so
      // (as in PyTorch) no update.
      if (!grad || !isTrainableParam(function, argument.getArgNumber()))
        continue;
      results.push_back(grad);
      resultAttrs.push_back(builder.getDictionaryAttr(builder.getNamedAttr(
          CleaveDialect::kGradOfAttrName, builder.getI64IntegerAttr(argument.getArgNumber()))));
    }
    replaceResults(function, results, resultAttrs);

    IRRewriter rewriter(builder);
    (void)runRegionDCE(rewriter, function.getBody());
    return success();
  }
};
} // namespace
