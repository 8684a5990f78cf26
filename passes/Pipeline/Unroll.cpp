//===- Unroll.cpp - cleave-pipeline-unroll: micro-batches and stages ------===//
//
// The per-device @train_step, after the partition, becomes a step that runs
// its batch as M micro-batches (gradient accumulation). The ops split into
// two parts by phase: forward and backward ops run once per micro-batch on
// a slice of the batch; update ops run once per step on the mean of what
// the micro-batches produced for them. That mean is exactly PyTorch's
// accumulation loop (`(loss_m / M).backward()` for each m, then
// `optimizer.step()`): the gradient of the mean of the micro-batch losses.
//
// Buffers a micro-batch updates (BatchNorm's running statistics) are
// chained instead of averaged, as that loop updates them once per
// micro-batch. Sum collectives on the way to the update (the data-parallel
// gradient all-reduce) are linear, so they move to the update part and
// reduce the accumulated gradient once per step rather than once per
// micro-batch.
//
//===----------------------------------------------------------------------===//
#include "passes/Passes.h"
#include "passes/Pipeline/BatchSlices.h"
#include "passes/Pipeline/MicroBatchClone.h"
#include "passes/Pipeline/Phases.h"
#include "passes/Pipeline/StageUnroll.h"

#include "dialects/Cleave/IR/CleaveDialect.h"
#include "dialects/Cleave/IR/CleaveOps.h"
#include "dialects/Cleave/IR/TensorBuilder.h"

#include "mlir/IR/IRMapping.h"
#include "llvm/ADT/DenseSet.h"
#include "llvm/ADT/MapVector.h"

namespace mlir::cleave {
#define GEN_PASS_DEF_CLEAVEPIPELINEUNROLL
#include "passes/Passes.h.inc"
} // namespace mlir::cleave

using namespace mlir;
using namespace mlir::cleave;

namespace {

/// The step as M micro-batches on one stage.
class MicroBatchUnroller {
public:
  MicroBatchUnroller(func::FuncOp function, int64_t microBatches)
      : function(function), microBatches(microBatches) {}

  LogicalResult run() {
    if (failed(slices.check()))
      return failure();
    if (failed(classifyStepOps(function, phases)))
      return failure();
    if (failed(collectBatchInputs()) || failed(collectCrossings()))
      return failure();
    Block &body = function.getBody().front();
    Operation *terminator = body.getTerminator();
    llvm::SmallVector<Operation *> original;
    for (Operation &op : body.without_terminator())
      if (phases.lookup(&op) != StepPart::shared)
        original.push_back(&op);

    OpBuilder builder(terminator);
    TensorBuilder tensors(builder, function.getLoc());
    llvm::MapVector<Value, Value> sums;
    IRMapping previous;
    for (int64_t m = 0; m < microBatches; ++m) {
      IRMapping mapping;
      for (BlockArgument input : batchInputs)
        mapping.map(input, slices.slice(builder, input, input, m));
      // The buffers micro-batch m - 1 updated are micro-batch m's.
      for (auto [argument, updated] : chainedBuffers)
        if (m > 0)
          mapping.map(argument, previous.lookup(updated));
      for (Operation *op : original)
        if (phases.lookup(op) == StepPart::perMicroBatch)
          if (failed(cloner.clone(builder, op, mapping, m)))
            return failure();
      // Summed in micro-batch order right after each micro-batch, so that
      // its activations die here.
      for (Value crossing : crossings) {
        Value value = mapping.lookup(crossing);
        if (value.getType() != crossing.getType())
          return crossing.getDefiningOp()->emitOpError()
                 << "hands a value with batch rows to the update phase (" << value.getType()
                 << " on a micro-batch, " << crossing.getType()
                 << " on the batch: the model mixes the batch's rows into a parameter's "
                    "dimensions): micro-batches cannot average it";
        auto found = sums.find(crossing);
        if (found == sums.end())
          sums.insert({crossing, value});
        else
          found->second = tensors.add(found->second, value);
      }
      previous = std::move(mapping);
    }

    // 1/M once per element type, with the step's other constants.
    llvm::DenseMap<Type, Value> reciprocals;
    OpBuilder top(&body, body.begin());
    TensorBuilder topTensors(top, function.getLoc());
    IRMapping once;
    for (auto &[crossing, sum] : sums) {
      Type elementType = getElementTypeOrSelf(sum.getType());
      Value &reciprocal = reciprocals[elementType];
      if (!reciprocal)
        reciprocal = topTensors.scalar(elementType, 1.0 / static_cast<double>(microBatches));
      once.map(crossing, tensors.mul(sum, reciprocal));
    }
    for (auto [argument, updated] : chainedBuffers)
      once.map(updated, previous.lookup(updated));
    for (Operation *op : original)
      if (phases.lookup(op) == StepPart::once)
        builder.clone(*op, once);
    for (OpOperand &operand : terminator->getOpOperands())
      operand.set(once.lookupOrDefault(operand.get()));
    for (Operation *op : llvm::reverse(original))
      op->erase();
    return success();
  }

private:
  /// The batch inputs the micro-batches slice: the arguments with
  /// cleave.input, whose first dimension M must divide.
  LogicalResult collectBatchInputs() {
    for (BlockArgument argument : function.getArguments()) {
      auto name = function.getArgAttrOfType<StringAttr>(argument.getArgNumber(),
                                                        CleaveDialect::kInputAttrName);
      if (!name)
        continue;

      for (Operation *user : argument.getUsers())
        if (phases.lookup(user) == StepPart::once)
          return user->emitOpError()
                 << "reads the batch input '" << name.getValue()
                 << "' in the update phase: only forward and backward ops may (a phase tag "
                    "is wrong)";
      batchInputs.push_back(argument);
    }
    return success();
  }

  /// The values micro-batches hand to the once-per-step part: averaged,
  /// except the buffers they update, which are chained.
  LogicalResult collectCrossings() {
    Operation *terminator = function.getBody().front().getTerminator();
    llvm::DenseSet<Value> seen;
    auto perMicroBatch = [&](Value value) {
      Operation *producer = value.getDefiningOp();
      return producer && phases.lookup(producer) == StepPart::perMicroBatch;
    };
    for (OpOperand &operand : terminator->getOpOperands()) {
      Value value = operand.get();
      if (!perMicroBatch(value))
        continue;
      unsigned index = operand.getOperandNumber();
      if (auto updates =
              function.getResultAttrOfType<IntegerAttr>(index, CleaveDialect::kUpdatesAttrName)) {
        BlockArgument argument = function.getArgument(updates.getInt());
        chainedBuffers.push_back({argument, value});
        continue;
      }
      if (seen.insert(value).second)
        crossings.push_back(value);
    }
    for (Operation &op : function.getBody().front().without_terminator()) {
      StepPart part = phases.lookup(&op);
      for (Value operand : op.getOperands()) {
        if (part == StepPart::perMicroBatch && operand.getDefiningOp() &&
            phases.lookup(operand.getDefiningOp()) == StepPart::once)
          return op.emitOpError()
                 << "runs once per micro-batch but reads an update-phase value: the step's "
                    "phases are not forward, backward, then update";
        if (part == StepPart::once && perMicroBatch(operand) && seen.insert(operand).second)
          crossings.push_back(operand);
      }
    }
    for (Value crossing : crossings)
      if (!isa<FloatType>(getElementTypeOrSelf(crossing.getType())))
        return crossing.getDefiningOp()->emitOpError()
               << "hands a non-float value to the update phase: micro-batches can only average "
                  "floating-point gradients";
    return success();
  }

  func::FuncOp function;
  int64_t microBatches;
  llvm::DenseMap<Operation *, StepPart> phases;
  MicroBatchCloner cloner{microBatches};
  BatchSlices slices{function, microBatches};
  llvm::SmallVector<BlockArgument> batchInputs;
  llvm::SmallVector<Value> crossings;
  /// (argument, the per-micro-batch value the step returns for it).
  llvm::SmallVector<std::pair<BlockArgument, Value>> chainedBuffers;
};

/// The `cleave.pipeline` module attribute's integer `key`, or `fallback`.
int64_t getPipelineInteger(ModuleOp module, llvm::StringRef key, int64_t fallback) {
  auto pipeline = module->getAttrOfType<DictionaryAttr>(CleaveDialect::kPipelineAttrName);
  if (!pipeline)
    return fallback;
  if (auto value = pipeline.getAs<IntegerAttr>(key))
    return value.getInt();
  return fallback;
}

struct CleavePipelineUnrollPass
    : public cleave::impl::CleavePipelineUnrollBase<CleavePipelineUnrollPass> {
  using CleavePipelineUnrollBase::CleavePipelineUnrollBase;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    auto function = module.lookupSymbol<func::FuncOp>(trainStep);
    if (!function) {
      module.emitError() << "cleave-pipeline-unroll: no @" << trainStep
                         << " (run the train pipeline first)";
      return signalPassFailure();
    }
    int64_t fromModule = getPipelineInteger(module, "micro_batches", 0);
    int64_t count = microBatches > 0 ? static_cast<int64_t>(microBatches) : fromModule;
    if (fromModule > 0 && count != fromModule) {
      module.emitError() << "cleave-pipeline-unroll: micro-batches=" << count
                         << " but the module's cleave.pipeline says " << fromModule;
      return signalPassFailure();
    }
    if (count < 1) {
      module.emitError() << "cleave-pipeline-unroll: how many micro-batches? Give "
                            "micro-batches=M or run cleave-pipeline-split first";
      return signalPassFailure();
    }
    if (getPipelineInteger(module, "stages", 1) > 1) {
      if (failed(unrollStages(module, function)))
        return signalPassFailure();
      return;
    }
    if (count == 1)
      return;
    if (failed(MicroBatchUnroller(function, count).run()))
      return signalPassFailure();
  }
};

} // namespace
