//===- Optimizer.cpp - the parameter update of one training step ----------===//
//
// 1. Create @train_step: the parameters (trainable and buffers), then one
//    optimizer state tensor per slot and trainable parameter with a
//    gradient, then the data inputs, then the per-step scalars the host
//    computes in double from double hyper-parameters (lr; AdamW's step
//    size, sqrt of its second bias correction and decay factor), as
//    torch.optim's Python floats.
// 2. Inline @gradients; optionally clip the gradients to a global norm.
// 3. Update each parameter exactly as torch.optim does it (AdamW with
//    decoupled weight decay; SGD with optional momentum and weight decay).
// 4. Return the new parameters, states and buffers (`cleave.updates` =
//    the argument each overwrites, so codegen updates them in place) and
//    the loss.
//
//===----------------------------------------------------------------------===//
#include "passes/Passes.h"

#include "dialects/Cleave/IR/TensorBuilder.h"
#include "passes/TrainStepAttrs.h"

#include "mlir/IR/IRMapping.h"
#include "llvm/Support/DebugLog.h"

namespace mlir::cleave {
#define GEN_PASS_DEF_CLEAVEOPTIMIZER
#include "passes/Passes.h.inc"
} // namespace mlir::cleave

#define DEBUG_TYPE "cleave-optimizer"

using namespace mlir;
using namespace mlir::cleave;

namespace {

/// PyTorch's clip_grad_norm_ adds this to the norm before dividing.
constexpr double kClipEpsilon = 1e-6;

struct OptimizerPass : public mlir::cleave::impl::CleaveOptimizerBase<OptimizerPass> {
  using CleaveOptimizerBase::CleaveOptimizerBase;
  OptimizerPass() = default;
  // Options declared here (not by tablegen) are registered anew by every
  // instance; clone() then copies their values.
  OptimizerPass(const OptimizerPass &other) : CleaveOptimizerBase(other) {}
  explicit OptimizerPass(const OptimizerSettings &settings) {
    phaseTags = settings.phaseTags;
#define CLEAVE_OPTIMIZER_OPTION(FIELD, TYPE, FLAG, CLI_FLAG, DEFAULT, HELP, CHECK, SHOW_DEFAULT)   \
  FIELD = settings.FIELD;
#include "passes/TrainOptions.def"
  }

  // FIELD names the member it declares: it cannot be parenthesised.
  // NOLINTBEGIN(bugprone-macro-parentheses)
#define CLEAVE_OPTIMIZER_OPTION(FIELD, TYPE, FLAG, CLI_FLAG, DEFAULT, HELP, CHECK, SHOW_DEFAULT)   \
  Option<TYPE> FIELD{*this, FLAG, llvm::cl::desc(HELP), llvm::cl::init(DEFAULT)};
#include "passes/TrainOptions.def"
  // NOLINTEND(bugprone-macro-parentheses)

  void runOnOperation() override {
    ModuleOp module = getOperation();
    auto gradients = lookupFunctionOrEmit(
        module, "gradients",
        "cleave-optimizer: no @gradients function (run cleave-autodiff first)");
    if (!gradients)
      return signalPassFailure();
    if (optimizer != "adamw" && optimizer != "sgd") {
      module.emitError() << "cleave-optimizer: unknown optimizer '" << optimizer
                         << "'; choose sgd or adamw";
      return signalPassFailure();
    }
    LDBG() << "building the train step with " << optimizer;
    if (failed(buildTrainStep(gradients)))
      signalPassFailure();
  }

  SmallVector<std::string> stateSlots() const {
    if (optimizer == "adamw")
      return {"exp_avg", "exp_avg_sq"};
    if (momentum != 0.0)
      return {"momentum_buffer"};
    return {};
  }

  LogicalResult buildTrainStep(func::FuncOp gradients) {
    MLIRContext *context = gradients.getContext();
    OpBuilder builder(context);
    builder.setInsertionPointAfter(gradients);
    Location loc = gradients.getLoc();
    Type f32 = builder.getF32Type();
    auto scalarType = RankedTensorType::get({}, f32);

    // Which gradient result belongs to which parameter argument.
    llvm::DenseMap<int64_t, unsigned> gradientResultOf;
    for (unsigned i = 0; i < gradients.getNumResults(); ++i)
      if (int64_t arg = getGradientOf(gradients, i); arg >= 0)
        gradientResultOf[arg] = i;

    // 1. The signature.
    SmallVector<Type> argTypes;
    SmallVector<DictionaryAttr> argAttrs;
    SmallVector<unsigned> paramArgs, inputArgs, trainedArgs;
    for (unsigned i = 0; i < gradients.getNumArguments(); ++i) {
      (getParamAttr(gradients, i) ? paramArgs : inputArgs).push_back(i);
      if (gradientResultOf.count(i))
        trainedArgs.push_back(i);
    }
    // Maps an argument of @gradients to its argument of @train_step.
    llvm::DenseMap<unsigned, unsigned> newIndexOf;
    for (unsigned i : paramArgs) {
      newIndexOf[i] = argTypes.size();
      argTypes.push_back(gradients.getArgumentTypes()[i]);
      argAttrs.push_back(gradients.getArgAttrDict(i));
    }
    SmallVector<std::string> slots = stateSlots();
    // stateArg[slot][k]: the state argument of slot `slot` for trainedArgs[k].
    SmallVector<SmallVector<unsigned>> stateArg(slots.size());
    for (unsigned k = 0; k < trainedArgs.size(); ++k)
      for (auto [slot, name] : llvm::enumerate(slots)) {
        stateArg[slot].push_back(argTypes.size());
        argTypes.push_back(gradients.getArgumentTypes()[trainedArgs[k]]);
        std::string stateName =
            (getParamAttr(gradients, trainedArgs[k]).getName().getValue() + "." + name).str();
        argAttrs.push_back(builder.getDictionaryAttr(builder.getNamedAttr(
            CleaveDialect::kOptStateAttrName, builder.getStringAttr(stateName))));
      }
    for (unsigned i : inputArgs) {
      newIndexOf[i] = argTypes.size();
      argTypes.push_back(gradients.getArgumentTypes()[i]);
      argAttrs.push_back(gradients.getArgAttrDict(i));
    }
    auto addScalar = [&](StringRef name) {
      argTypes.push_back(scalarType);
      argAttrs.push_back(builder.getDictionaryAttr(
          builder.getNamedAttr(CleaveDialect::kStepScalarAttrName, builder.getStringAttr(name))));
      return argTypes.size() - 1;
    };
    unsigned lrArg = addScalar("lr");
    unsigned stepSizeArg = 0, correction2SqrtArg = 0, decayArg = 0;
    if (optimizer == "adamw") {
      stepSizeArg = addScalar("step_size");
      correction2SqrtArg = addScalar("bias_correction2_sqrt");
      if (weightDecay != 0.0)
        decayArg = addScalar("decay_factor");
    }

    auto function =
        builder.create<func::FuncOp>(loc, "train_step", builder.getFunctionType(argTypes, {}));
    function.setAllArgAttrs(argAttrs);
    Block *body = function.addEntryBlock();
    builder.setInsertionPointToStart(body);
    TensorBuilder b(builder, loc);

    // 2. Inline @gradients.
    IRMapping mapping;
    for (auto [oldIndex, newIndex] : newIndexOf)
      mapping.map(gradients.getArgument(oldIndex), function.getArgument(newIndex));
    Block &source = gradients.getBody().front();
    for (Operation &op : source.without_terminator())
      builder.clone(op, mapping);
    auto sourceReturn = cast<func::ReturnOp>(source.getTerminator());
    auto mapped = [&](unsigned result) { return mapping.lookup(sourceReturn.getOperand(result)); };

    SmallVector<Value> grads;
    for (unsigned arg : trainedArgs)
      grads.push_back(mapped(gradientResultOf[arg]));
    // Tags every op added since `mark` (the update's, for phase-tags).
    Operation *mark = body->empty() ? nullptr : &body->back();
    auto tagSince = [&](int64_t argument) {
      auto it = mark ? std::next(mark->getIterator()) : body->begin();
      for (; it != body->end(); ++it)
        if (phaseTags && !isa<ConstantOp>(*it))
          it->setAttr(CleaveDialect::kUpdateOfAttrName, builder.getI64IntegerAttr(argument));
      mark = body->empty() ? nullptr : &body->back();
    };
    if (clipGradNorm > 0.0 && !grads.empty()) {
      // torch.nn.utils.clip_grad_norm_: coefficient min(1, max_norm / (norm + 1e-6)).
      Value squares;
      for (Value grad : grads) {
        Value sum = b.sumAll(b.mul(grad, grad));
        squares = squares ? b.add(squares, sum) : sum;
      }
      Value norm = b.unary(UnaryKind::sqrt, squares);
      Value coefficient =
          b.div(b.scalar(f32, clipGradNorm), b.add(norm, b.scalar(f32, kClipEpsilon)));
      coefficient = b.binary(BinaryKind::min, coefficient, b.scalar(f32, 1.0));
      for (Value &grad : grads)
        grad = b.mul(grad, coefficient);
      tagSince(-1);
    }

    // 3. The updates.
    Value lr = function.getArgument(lrArg);
    SmallVector<Value> results;
    SmallVector<DictionaryAttr> resultAttrs;
    auto emitUpdate = [&](Value value, unsigned argument) {
      results.push_back(value);
      resultAttrs.push_back(builder.getDictionaryAttr(builder.getNamedAttr(
          CleaveDialect::kUpdatesAttrName, builder.getI64IntegerAttr(argument))));
    };
    for (auto [k, arg] : llvm::enumerate(trainedArgs)) {
      Value param = function.getArgument(newIndexOf[arg]);
      Value grad = grads[k];
      if (optimizer == "adamw") {
        // torch 1.13's _single_tensor_adamw, operation by operation. The
        // scalars 1 - beta are computed in double here (and the per-step
        // ones on the host) before they become f32 constants.
        //
        // The first op is a user of the gradient, and the terms that do not
        // read it come after: cleave-partition puts a gradient's collective
        // before its first user, so the whole update follows it in one fused
        // loop whether or not cleave-bucket-collectives merges collectives.
        // A term computed before the collective would be rounded on its own,
        // but inside the loop the compiler may fuse it into a multiply-add
        // (the x86-64-v3 clone, vmath.h): bucketing would change bits.
        Value m = function.getArgument(stateArg[0][k]);
        Value v = function.getArgument(stateArg[1][k]);
        // exp_avg.mul_(beta1).add_(grad, alpha=1 - beta1)
        Value gradM = b.scale(grad, 1.0 - beta1);
        Value newM = b.add(b.scale(m, beta1), gradM);
        // exp_avg_sq.mul_(beta2).addcmul_(grad, grad, value=1 - beta2):
        // addcmul computes value * grad * grad from the left.
        Value gradV = b.mul(b.scale(grad, 1.0 - beta2), grad);
        Value newV = b.add(b.scale(v, beta2), gradV);
        // denom = exp_avg_sq.sqrt() / math.sqrt(bias_correction2) + eps
        Value root =
            b.div(b.unary(UnaryKind::sqrt, newV), function.getArgument(correction2SqrtArg));
        Value denominator = b.add(root, b.scalar(f32, eps));
        // param.addcdiv_(exp_avg, denom, value=-step_size): (step_size * m) / denom
        Value stepped = b.div(b.mul(function.getArgument(stepSizeArg), newM), denominator);
        // param.mul_(1 - lr * weight_decay), which PyTorch does first; the
        // order of independent terms changes no value.
        if (weightDecay != 0.0)
          param = b.mul(param, function.getArgument(decayArg));
        param = b.sub(param, stepped);
        emitUpdate(param, newIndexOf[arg]);
        emitUpdate(newM, stateArg[0][k]);
        emitUpdate(newV, stateArg[1][k]);
      } else {
        // grad += weight_decay * param; buf = momentum * buf + grad; param -= lr * buf
        if (weightDecay != 0.0)
          grad = b.add(grad, b.scale(param, weightDecay));
        if (momentum != 0.0) {
          Value buffer = function.getArgument(stateArg[0][k]);
          grad = b.add(b.scale(buffer, momentum), grad);
          emitUpdate(b.sub(param, b.mul(lr, grad)), newIndexOf[arg]);
          emitUpdate(grad, stateArg[0][k]);
        } else {
          emitUpdate(b.sub(param, b.mul(lr, grad)), newIndexOf[arg]);
        }
      }
      tagSince(newIndexOf[arg]);
    }
    // Buffer updates and the loss pass through.
    for (unsigned i = 0; i < gradients.getNumResults(); ++i) {
      if (int64_t arg = getUpdatedArgument(gradients, i); arg >= 0)
        emitUpdate(mapped(i), newIndexOf[arg]);
      else if (gradients.getResultAttr(i, CleaveDialect::kLossAttrName)) {
        results.push_back(mapped(i));
        resultAttrs.push_back(gradients.getResultAttrDict(i));
      }
    }
    builder.create<func::ReturnOp>(loc, results);
    SmallVector<Type> resultTypes;
    for (Value result : results)
      resultTypes.push_back(result.getType());
    function.setType(builder.getFunctionType(argTypes, resultTypes));
    function.setAllResultAttrs(resultAttrs);
    return success();
  }
};
} // namespace

std::unique_ptr<Pass> mlir::cleave::createCleaveOptimizer(const OptimizerSettings &settings) {
  return std::make_unique<OptimizerPass>(settings);
}
