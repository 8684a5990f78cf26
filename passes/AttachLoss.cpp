//===- AttachLoss.cpp - the scalar loss training minimises ----------------===//
//
// 1. Clone @forward into @loss (or `source` into `result`: the evaluation
//    function gets its loss the same way).
// 2. Pick the model output the loss reads (option `output`, else the first)
//    and, unless the loss is the model's own, add the labels argument.
// 3. Build the loss with PyTorch's semantics (mean reduction; class
//    dimension last for cross-entropy, so [B, C] with [B] labels and
//    [B, T, V] with [B, T] labels both work).
// 4. Return the loss (`cleave.loss`) and every BatchNorm running statistic
//    the step updates (`cleave.updates` = the buffer argument it replaces).
//
//===----------------------------------------------------------------------===//
#include "passes/Passes.h"

#include "dialects/Cleave/IR/TensorBuilder.h"
#include "passes/TrainStepAttrs.h"
#include "llvm/Support/DebugLog.h"

namespace mlir::cleave {
#define GEN_PASS_DEF_CLEAVEATTACHLOSS
#include "passes/Passes.h.inc"
} // namespace mlir::cleave

#define DEBUG_TYPE "cleave-attach-loss"

using namespace mlir;
using namespace mlir::cleave;

namespace {
struct AttachLossPass : public mlir::cleave::impl::CleaveAttachLossBase<AttachLossPass> {
  using CleaveAttachLossBase::CleaveAttachLossBase;
  AttachLossPass() = default;
  // Options declared here (not by tablegen) are registered anew by every
  // instance; clone() then copies their values.
  AttachLossPass(const AttachLossPass &other) : CleaveAttachLossBase(other) {}
  AttachLossPass(const LossSettings &settings, const CleaveAttachLossOptions &functions)
      : CleaveAttachLossBase(functions) {
#define CLEAVE_LOSS_OPTION(FIELD, TYPE, FLAG, CLI_FLAG, DEFAULT, HELP, CHECK, SHOW_DEFAULT)        \
  FIELD = settings.FIELD;
#include "passes/TrainOptions.def"
  }

  // FIELD names the member it declares: it cannot be parenthesised.
  // NOLINTBEGIN(bugprone-macro-parentheses)
#define CLEAVE_LOSS_OPTION(FIELD, TYPE, FLAG, CLI_FLAG, DEFAULT, HELP, CHECK, SHOW_DEFAULT)        \
  Option<TYPE> FIELD{*this, FLAG, llvm::cl::desc(HELP), llvm::cl::init(DEFAULT)};
#include "passes/TrainOptions.def"
  // NOLINTEND(bugprone-macro-parentheses)

  void runOnOperation() override {
    auto forward = lookupFunctionOrEmit(getOperation(), sourceFunction,
                                        "cleave-attach-loss: the module has no @" + sourceFunction +
                                            " function");
    if (!forward || failed(attachLoss(forward)))
      signalPassFailure();
  }

  /// Index of the forward result the loss reads.
  FailureOr<unsigned> findOutput(func::FuncOp forward) {
    if (forward.getNumResults() == 0)
      return forward.emitOpError() << "has no outputs to compute a loss from";
    if (output.empty())
      return 0u;
    std::string names;
    for (unsigned i = 0; i < forward.getNumResults(); ++i) {
      auto name = forward.getResultAttrOfType<StringAttr>(i, CleaveDialect::kOutputAttrName);
      if (name && name.getValue() == output)
        return i;
      names += (names.empty() ? "" : ", ") + (name ? name.getValue().str() : "?");
    }
    return forward.emitOpError() << "has no output named '" << output << "' (outputs: " << names
                                 << ")";
  }

  LogicalResult attachLoss(func::FuncOp forward) {
    LDBG() << "attaching the loss to @" << sourceFunction;
    FailureOr<unsigned> outputIndex = findOutput(forward);
    if (failed(outputIndex))
      return failure();
    OpBuilder builder(forward);
    builder.setInsertionPointAfter(forward);
    auto function = cast<func::FuncOp>(builder.clone(*forward));
    function.setSymName(resultFunction);
    Block &body = function.getBody().front();
    auto returnOp = cast<func::ReturnOp>(body.getTerminator());
    Value prediction = returnOp.getOperand(*outputIndex);
    auto predictionType = cast<RankedTensorType>(prediction.getType());
    builder.setInsertionPoint(returnOp);
    TensorBuilder b(builder, returnOp.getLoc());

    Value lossValue;
    if (loss == "model") {
      if (predictionType.getRank() != 0 || !isa<FloatType>(predictionType.getElementType()))
        return forward.emitOpError() << "--loss model needs a scalar float output, but the output "
                                        "is "
                                     << predictionType;
      lossValue = prediction;
    } else {
      if (labels.empty())
        return forward.emitOpError() << "--loss " << loss
                                     << " needs --labels NAME for the "
                                        "labels input";
      for (unsigned i = 0; i < function.getNumArguments(); ++i)
        if (auto name = function.getArgAttrOfType<StringAttr>(i, CleaveDialect::kInputAttrName))
          if (name.getValue() == labels)
            return forward.emitOpError() << "--labels '" << labels
                                         << "' is already an input of the model; choose another "
                                            "name";
      RankedTensorType labelType;
      if (loss == "cross_entropy") {
        if (predictionType.getRank() < 2 || !isa<FloatType>(predictionType.getElementType()))
          return forward.emitOpError() << "cross_entropy needs float logits with the class "
                                          "dimension last, got "
                                       << predictionType;
        labelType =
            RankedTensorType::get(predictionType.getShape().drop_back(), builder.getI64Type());
      } else if (loss == "mse") {
        labelType = predictionType;
      } else {
        return forward.emitOpError()
               << "unknown loss '" << loss << "'; choose cross_entropy, mse or model";
      }
      unsigned labelIndex = function.getNumArguments();
      if (failed(function.insertArgument(
              labelIndex, labelType,
              builder.getDictionaryAttr(builder.getNamedAttr(CleaveDialect::kInputAttrName,
                                                             builder.getStringAttr(labels))),
              function.getLoc())))
        return failure();
      Value target = function.getArgument(labelIndex);
      if (loss == "cross_entropy") {
        int64_t classes = predictionType.getShape().back();
        int64_t rows = predictionType.getNumElements() / classes;
        if (!(labelSmoothing >= 0.0 && labelSmoothing <= 1.0))
          return forward.emitOpError()
                 << "--label-smoothing must lie in [0, 1], got " << labelSmoothing;
        Value logits = b.reshape(prediction, {rows, classes});
        Value rowLabels = b.reshape(target, {rows});
        Type floatType = predictionType.getElementType();
        Value sum = builder.create<CrossEntropyOp>(
            returnOp.getLoc(), RankedTensorType::get({}, floatType), logits, rowLabels,
            builder.getI64IntegerAttr(ignoreIndex), builder.getF64FloatAttr(labelSmoothing),
            builder.getUnitAttr());
        // The mean over the rows not ignored, as the sum over the count:
        // under a split batch both add up over devices.
        Value kept = b.compare(CompareKind::ne, rowLabels,
                               b.scalar(builder.getI64Type(), static_cast<double>(ignoreIndex)));
        lossValue = b.div(sum, b.sumAll(b.convert(kept, floatType)));
      } else {
        Value difference = b.sub(prediction, target);
        SmallVector<int64_t> axes;
        for (int64_t dim = 0; dim < predictionType.getRank(); ++dim)
          axes.push_back(dim);
        lossValue = b.reduce(ReduceKind::mean, b.mul(difference, difference), axes, false);
      }
    }

    SmallVector<Value> results = {lossValue};
    SmallVector<DictionaryAttr> resultAttrs = {builder.getDictionaryAttr(
        builder.getNamedAttr(CleaveDialect::kLossAttrName, builder.getUnitAttr()))};
    auto addUpdate = [&](Value newValue, Value oldValue) {
      auto argument = dyn_cast<BlockArgument>(oldValue);
      ParamAttr param = argument ? getParamAttr(function, argument.getArgNumber()) : ParamAttr();
      if (!param || param.getKind() != ParamKind::buffer)
        return;
      results.push_back(newValue);
      resultAttrs.push_back(builder.getDictionaryAttr(builder.getNamedAttr(
          CleaveDialect::kUpdatesAttrName, builder.getI64IntegerAttr(argument.getArgNumber()))));
    };
    function.walk([&](BatchNormOp op) {
      addUpdate(op.getNewRunningMean(), op.getRunningMean());
      addUpdate(op.getNewRunningVar(), op.getRunningVar());
    });
    replaceResults(function, results, resultAttrs);
    return success();
  }
};
} // namespace

std::unique_ptr<Pass>
mlir::cleave::createCleaveAttachLoss(const LossSettings &settings,
                                     const CleaveAttachLossOptions &functions) {
  return std::make_unique<AttachLossPass>(settings, functions);
}
