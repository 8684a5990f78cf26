//===- DeriveEval.cpp - the model in evaluation semantics -----------------===//
//
// A training-mode export runs dropout and batch statistics; PyTorch's
// model.eval() runs neither. The evaluation function is a clone of the
// forward pass with dropout removed and every BatchNorm normalising with
// its running statistics (the importer's inference form), which it reads
// but never updates.
//
//===----------------------------------------------------------------------===//
#include "passes/Passes.h"

#include "dialects/Cleave/IR/TensorBuilder.h"
#include "passes/TrainStepAttrs.h"
#include "llvm/Support/DebugLog.h"

namespace mlir::cleave {
#define GEN_PASS_DEF_CLEAVEDERIVEEVAL
#include "passes/Passes.h.inc"
} // namespace mlir::cleave

#define DEBUG_TYPE "cleave-derive-eval"

using namespace mlir;
using namespace mlir::cleave;

namespace {

/// y = (x - mean) * scale * rsqrt(var + eps) + bias, per channel (dim 1).
Value inferenceBatchNorm(BatchNormOp op) {
  OpBuilder builder(op);
  TensorBuilder b(builder, op.getLoc());
  auto type = cast<RankedTensorType>(op.getInput().getType());
  SmallVector<int64_t> channelShape(type.getRank() - 1, 1);
  channelShape[0] = type.getDimSize(1);
  Value shiftedVar =
      b.add(op.getRunningVar(), b.scalar(type.getElementType(), op.getEpsilon().convertToDouble()));
  Value factor = b.mul(op.getScale(), b.unary(UnaryKind::rsqrt, shiftedVar));
  Value centered = b.sub(op.getInput(), b.reshape(op.getRunningMean(), channelShape));
  Value scaled = b.mul(centered, b.reshape(factor, channelShape));
  return b.add(scaled, b.reshape(op.getBias(), channelShape));
}

struct DeriveEvalPass : public mlir::cleave::impl::CleaveDeriveEvalBase<DeriveEvalPass> {
  using CleaveDeriveEvalBase::CleaveDeriveEvalBase;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    auto source = lookupFunctionOrEmit(module, sourceFunction,
                                       "cleave-derive-eval: the module has no @" + sourceFunction +
                                           " function");
    if (!source)
      return signalPassFailure();
    if (module.lookupSymbol(resultFunction)) {
      module.emitError() << "cleave-derive-eval: the module already has a @" << resultFunction;
      return signalPassFailure();
    }
    OpBuilder builder(source);
    builder.setInsertionPointAfter(source);
    auto function = cast<func::FuncOp>(builder.clone(*source));
    function.setSymName(resultFunction);
    SmallVector<DropoutOp> dropouts;
    SmallVector<BatchNormOp> norms;
    bool random = false;
    function.walk([&](Operation *op) {
      if (auto dropout = dyn_cast<DropoutOp>(op)) {
        dropouts.push_back(dropout);
      } else if (auto norm = dyn_cast<BatchNormOp>(op)) {
        norms.push_back(norm);
      } else if (isa<RandomMaskOp>(op)) {
        op->emitOpError() << "draws a dropout mask, which evaluation must not: run "
                             "cleave-derive-eval before cleave-lower-dropout";
        random = true;
      }
    });
    if (random)
      return signalPassFailure();
    LDBG() << "@" << resultFunction << ": " << dropouts.size() << " dropouts removed, "
           << norms.size() << " batch norms in inference form";
    for (DropoutOp op : dropouts) {
      op.replaceAllUsesWith(op.getInput());
      op.erase();
    }
    for (BatchNormOp op : norms) {
      op.getResult().replaceAllUsesWith(inferenceBatchNorm(op));
      // Evaluation leaves the statistics as they were.
      op.getNewRunningMean().replaceAllUsesWith(op.getRunningMean());
      op.getNewRunningVar().replaceAllUsesWith(op.getRunningVar());
      op.erase();
    }
  }
};

} // namespace
