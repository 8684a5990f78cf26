//===- Partition.cpp - global train step -> per-device program ------------===//
//
// Rewrites a function whose ops carry a plan (cleave.factor_axes, and
// cleave.sharding on arguments and results) into the program each device
// runs: every value takes its per-device (local) type and collectives move
// data where consecutive ops disagree on a layout. The rewrite is one walk
// in program order:
//   1. each op's factor axes give the sharding it needs of every operand;
//   2. an operand laid out differently is resharded: partial values are
//      reduced (reduce_scatter when the target splits a dimension over the
//      very axes the value is partial over, else all_reduce), axes that
//      the target drops are gathered, axes it adds are sliced locally,
//      axes that move between dimensions go in one all_to_all;
//   3. the op is cloned with local types; an operand it adds after a
//      split reduction (a bias) is zeroed on all but one device of the
//      partial axes; an op that divides by a split factor's size (a mean)
//      is followed by a 1/k scale;
//   4. each result's sharding follows from the factors it carries, and it
//      is partial over split factors it does not.
// Resharding is cached per (value, target), so a gradient consumed by
// several ops is all-reduced once, except that a gathered copy made before
// the loss is not kept for users after it: it would stay live from the
// forward pass through the backward (for a transformer, tens of GiB per
// device) where gathering again costs one collective. The search prices
// each use's resharding on its own, as this does.
//
//===----------------------------------------------------------------------===//
#include "passes/Analysis/Sharding/Reshard.h"
#include "passes/Analysis/Sharding/ShardingAttrs.h"
#include "passes/Passes.h"
#include "passes/TrainStepAttrs.h"

#include "dialects/Cleave/IR/CleaveOps.h"
#include "mlir/IR/Builders.h"
#include "llvm/ADT/SmallBitVector.h"

#include "llvm/Support/DebugLog.h"
#include <map>

namespace mlir::cleave {
#define GEN_PASS_DEF_CLEAVEPARTITION
#include "passes/Passes.h.inc"
} // namespace mlir::cleave

#define DEBUG_TYPE "cleave-partition"

using namespace mlir;
using namespace mlir::cleave;

namespace {

struct Placed {
  Value local;
  TensorSharding sharding;
};

class Partitioner {
public:
  Partitioner(func::FuncOp func, const GridInfo &grid)
      : func(func), grid(grid), builder(func.getContext()) {}

  LogicalResult run();

private:
  RankedTensorType globalType(Value value) const {
    auto it = argumentTypes.find(value);
    return cast<RankedTensorType>(it != argumentTypes.end() ? it->second : value.getType());
  }
  FailureOr<RankedTensorType> local(Value global, const TensorSharding &sharding, Operation *where);
  FailureOr<Value> reshard(Value global, const TensorSharding &target, Operation *user);
  FailureOr<Value> keepOnOneDevice(Value local, const AxisList &axes, Operation *op);
  LogicalResult partitionOp(Operation *op);
  LogicalResult partitionReturn(func::ReturnOp op);
  FailureOr<SmallVector<AxisList>> readFactorAxes(Operation *op, const FactorRule &rule);
  static TensorSharding shardingFor(const TensorFactors &dims, ArrayRef<AxisList> factorAxes);

  func::FuncOp func;
  const GridInfo &grid;
  OpBuilder builder;
  DenseMap<Value, Placed> placed;
  DenseMap<Value, Type> argumentTypes; // global types of the arguments
  std::map<std::tuple<void *, std::string, bool>, Value> reshardCache;
  /// Whether the walk has passed the op that computes the loss.
  bool pastLoss = false;

public:
  /// The dp axis (-1: none): a user marked cleave.reduce_whole (ZeRO-1)
  /// gets a value partial over it reduced whole and sliced.
  int16_t wholeReduceAxis = -1;
};

} // namespace

static std::string shapeText(RankedTensorType type) {
  std::string text;
  for (auto [i, size] : llvm::enumerate(type.getShape()))
    text += (i ? "x" : "") + std::to_string(size);
  return text.empty() ? "scalar" : text;
}

FailureOr<RankedTensorType> Partitioner::local(Value global, const TensorSharding &sharding,
                                               Operation *where) {
  RankedTensorType type = globalType(global);
  FailureOr<RankedTensorType> result = localType(type, sharding, grid);
  if (failed(result)) {
    for (auto [dim, axes] : llvm::enumerate(sharding.dims)) {
      int64_t parts = grid.axesSize(axes);
      if (type.getDimSize(dim) % parts)
        return where->emitOpError() << "dimension " << dim << " (size " << type.getDimSize(dim)
                                    << ") of a " << shapeText(type) << " tensor cannot be split "
                                    << parts << " ways over grid axes " << grid.axesName(axes)
                                    << ": choose a grid whose axes divide it",
               failure();
    }
    return where->emitOpError() << "sharding " << describe(sharding, grid)
                                << " does not match a tensor of rank " << type.getRank(),
           failure();
  }
  return result;
}

TensorSharding Partitioner::shardingFor(const TensorFactors &dims, ArrayRef<AxisList> factorAxes) {
  TensorSharding sharding;
  for (const DimFactors &factors : dims)
    sharding.dims.push_back(factors.empty() ? AxisList{} : factorAxes[factors.front()]);
  return sharding;
}

FailureOr<Value> Partitioner::reshard(Value global, const TensorSharding &target, Operation *user) {
  auto it = placed.find(global);
  if (it == placed.end())
    return user->emitOpError("uses a value the partitioner has not placed"), failure();
  const Placed &source = it->second;
  if (source.sharding == target)
    return source.local;
  SmallVector<ReshardStep> steps = planReshard(source.sharding, target);
  bool gathers = llvm::any_of(steps, [](const ReshardStep &step) {
    return step.kind == ReshardStep::Kind::allGather || step.kind == ReshardStep::Kind::allToAll;
  });
  auto key =
      std::make_tuple(global.getAsOpaquePointer(), describe(target, grid), gathers && pastLoss);
  if (auto cached = reshardCache.find(key); cached != reshardCache.end())
    return cached->second;

  // ZeRO-1: a gradient partial over dp is all-reduced whole (every rank
  // keeps the full gradient, as DeepSpeed's stage 1) and each rank slices
  // its shard from it, where ZeRO-2 would reduce-scatter.
  Value value = source.local;
  if (wholeReduceAxis >= 0 && user->hasAttr(CleaveDialect::kReduceWholeAttrName) &&
      !steps.empty() && steps.front().kind == ReshardStep::Kind::reduceScatter &&
      llvm::is_contained(steps.front().axes, wholeReduceAxis)) {
    TensorSharding reduced = source.sharding;
    reduced.partial.clear();
    FailureOr<Value> whole = reshard(global, reduced, user);
    if (failed(whole))
      return failure();
    value = *whole;
    steps = planReshard(reduced, target);
  }
  Location loc = global.getLoc();
  shard::GridOp gridOp = grid.op;
  StringRef gridName = gridOp.getSymName();
  for (const ReshardStep &step : steps) {
    FailureOr<RankedTensorType> type = local(global, step.after, user);
    if (failed(type))
      return failure();
    APInt dim(64, step.dim);
    switch (step.kind) {
    case ReshardStep::Kind::allReduce:
      value = shard::AllReduceOp::create(builder, loc, value.getType(), gridName, step.axes, value,
                                         source.sharding.partialKind);
      break;
    case ReshardStep::Kind::reduceScatter:
      value = shard::ReduceScatterOp::create(builder, loc, *type, gridName, step.axes, value,
                                             source.sharding.partialKind, dim);
      break;
    case ReshardStep::Kind::allGather:
      value = shard::AllGatherOp::create(builder, loc, *type, gridName, step.axes, value, dim);
      break;
    case ReshardStep::Kind::allSlice:
      value = shard::AllSliceOp::create(builder, loc, *type, gridName, step.axes, value, dim);
      break;
    case ReshardStep::Kind::allToAll:
      value = shard::AllToAllOp::create(builder, loc, *type, gridName, step.axes, value,
                                        APInt(64, step.splitDim), dim);
      break;
    }
  }
  reshardCache[key] = value;
  return value;
}

/// `local` on the devices whose coordinate along `axes` is 0 and zero on
/// the others (a mask sliced from a constant: no communication), so that
/// an operand added to partial sums over `axes` enters their sum once.
FailureOr<Value> Partitioner::keepOnOneDevice(Value local, const AxisList &axes, Operation *op) {
  auto type = cast<RankedTensorType>(local.getType());
  auto floatType = dyn_cast<FloatType>(type.getElementType());
  if (!floatType)
    return op->emitOpError("adds a non-float operand after a split reduction"), failure();
  Location loc = op->getLoc();
  int64_t parts = grid.axesSize(axes);
  SmallVector<Attribute> mask(parts, builder.getFloatAttr(floatType, 0.0));
  mask.front() = builder.getFloatAttr(floatType, 1.0);
  auto maskType = RankedTensorType::get({parts}, floatType);
  Value masks =
      ConstantOp::create(builder, loc, cast<ElementsAttr>(DenseElementsAttr::get(maskType, mask)));
  shard::GridOp gridOp = grid.op;
  Value mine = shard::AllSliceOp::create(builder, loc, RankedTensorType::get({1}, floatType),
                                         gridOp.getSymName(), axes, masks, APInt(64, 0));
  Value scalar = ReshapeOp::create(builder, loc, RankedTensorType::get({}, floatType), mine);
  return BinaryOp::create(builder, loc, type, BinaryKind::mul, local, scalar).getResult();
}

FailureOr<SmallVector<AxisList>> Partitioner::readFactorAxes(Operation *op,
                                                             const FactorRule &rule) {
  SmallVector<AxisList> axes(rule.factors.size());
  shard::GridAxesArrayAttr attr = getFactorAxesAttr(op);
  if (!attr)
    return axes;
  if (attr.size() != rule.factors.size())
    return op->emitOpError() << "has " << attr.size() << " entries in "
                             << CleaveDialect::kFactorAxesAttrName << " but " << rule.factors.size()
                             << " factors",
           failure();
  axes = fromAttr(attr);
  llvm::SmallBitVector used(grid.shape.size());
  for (auto [index, factorAxes] : llvm::enumerate(axes)) {
    const Factor &factor = rule.factors[index];
    for (int16_t axis : factorAxes) {
      if (axis < 0 || axis >= static_cast<int16_t>(grid.shape.size()))
        return op->emitOpError() << "factor " << index << " names grid axis " << axis
                                 << ", but the grid has " << grid.shape.size() << " axes",
               failure();
      if (used.test(axis))
        return op->emitOpError() << "splits two factors over grid axis " << grid.axesName({axis}),
               failure();
      used.set(axis);
    }
    if (factorAxes.empty())
      continue;
    if (factor.kind == FactorKind::whole)
      return op->emitOpError() << "factor " << index << " (size " << factor.size
                               << ") must stay whole but is split over "
                               << grid.axesName(factorAxes),
             failure();
    if (factor.size % grid.axesSize(factorAxes))
      return op->emitOpError() << "factor " << index << " (size " << factor.size
                               << ") cannot be split " << grid.axesSize(factorAxes)
                               << " ways over grid axes " << grid.axesName(factorAxes)
                               << ": choose a grid whose axes divide it",
             failure();
  }
  // Only the major factor of a merged dimension may be split: splitting a
  // minor one would give each device a strided, not a contiguous, block.
  auto checkTensor = [&](const TensorFactors &dims) -> LogicalResult {
    for (const DimFactors &factors : dims)
      for (int factor : ArrayRef<int>(factors).drop_front(factors.empty() ? 0 : 1))
        if (!axes[factor].empty())
          return op->emitOpError() << "factor " << factor
                                   << " is the minor part of a merged dimension and cannot be "
                                      "split",
                 failure();
    return success();
  };
  for (const TensorFactors &dims : rule.operands)
    if (failed(checkTensor(dims)))
      return failure();
  for (const TensorFactors &dims : rule.results)
    if (failed(checkTensor(dims)))
      return failure();
  return axes;
}

LogicalResult Partitioner::partitionOp(Operation *op) {
  builder.setInsertionPoint(op);
  auto ruleOp = dyn_cast<FactorRuleOpInterface>(op);
  FactorRule rule;
  if (ruleOp) {
    rule = ruleOp.getFactorRule();
  } else {
    // No rule: the op runs replicated on whole tensors.
    if (getFactorAxesAttr(op))
      return op->emitOpError("has no factor rule and cannot be split"), failure();
    for (Value operand : op->getOperands())
      rule.operands.push_back(TensorFactors(cast<RankedTensorType>(operand.getType()).getRank()));
    for (Value result : op->getResults())
      rule.results.push_back(TensorFactors(cast<RankedTensorType>(result.getType()).getRank()));
    rule.resultReductions.assign(op->getNumResults(), shard::ReductionKind::Sum);
  }
  FailureOr<SmallVector<AxisList>> factorAxes = readFactorAxes(op, rule);
  if (failed(factorAxes))
    return failure();

  SmallVector<TensorSharding> resultShardings;
  SmallVector<RankedTensorType> resultTypes;
  for (auto [index, result] : llvm::enumerate(op->getResults())) {
    TensorSharding sharding = shardingFor(rule.results[index], *factorAxes);
    for (auto [factor, axes] : llvm::enumerate(*factorAxes))
      if (!axes.empty() && !rule.resultCarries(index, factor))
        sharding.partial.append(axes.begin(), axes.end());
    llvm::sort(sharding.partial);
    sharding.partialKind = rule.resultReductions[index];
    FailureOr<RankedTensorType> type = local(result, sharding, op);
    if (failed(type))
      return failure();
    resultShardings.push_back(sharding);
    resultTypes.push_back(*type);
  }

  // Local operands are kept per operand, not per value: one value used
  // twice (x @ x^T) may be needed in two layouts, and a mapping keyed by
  // the value would give both uses the layout of the last.
  IRMapping mapping;
  SmallVector<Value> localOperands;
  for (auto [index, operand, dims] : llvm::enumerate(op->getOperands(), rule.operands)) {
    FailureOr<Value> localOperand = reshard(operand, shardingFor(dims, *factorAxes), op);
    if (failed(localOperand))
      return failure();
    // An operand added after a split reduction (a bias) would be summed
    // once per device by the reduction of the partial results.
    if (llvm::is_contained(rule.addedAfterReduction, index) && !resultShardings.empty() &&
        !resultShardings.front().partial.empty()) {
      for (const TensorSharding &sharding : resultShardings)
        if (sharding.partial != resultShardings.front().partial ||
            sharding.partialKind != shard::ReductionKind::Sum)
          return op->emitOpError() << "adds operand #" << index
                                   << " after a reduction whose results are not all partial "
                                      "sums over the same grid axes; keep its reduced factors "
                                      "whole",
                 failure();
      localOperand = keepOnOneDevice(*localOperand, resultShardings.front().partial, op);
      if (failed(localOperand))
        return failure();
    }
    mapping.map(operand, *localOperand);
    localOperands.push_back(*localOperand);
  }

  Operation *clone;
  if (auto constant = dyn_cast<ConstantOp>(op)) {
    auto dense = cast<DenseElementsAttr>(constant.getValue());
    Attribute value =
        resultTypes[0] == constant.getType()
            ? Attribute(dense)
            : Attribute(DenseElementsAttr::get(resultTypes[0], dense.getSplatValue<Attribute>()));
    clone = ConstantOp::create(builder, op->getLoc(), cast<ElementsAttr>(value));
  } else {
    clone = builder.clone(*op, mapping);
    for (auto [index, localOperand] : llvm::enumerate(localOperands))
      clone->setOperand(index, localOperand);
    for (auto [result, type] : llvm::zip(clone->getResults(), resultTypes))
      result.setType(type);
  }
  clone->removeAttr(CleaveDialect::kFactorAxesAttrName);
  clone->removeAttr(CleaveDialect::kReduceWholeAttrName);

  // A mean over a split factor: each device divided by its own share of
  // the count, so scale to make the partial results add up to the mean.
  int64_t countSplit = 1;
  for (auto [factor, axes] : llvm::enumerate(*factorAxes))
    if (rule.factors[factor].dividesByCount)
      countSplit *= grid.axesSize(axes);

  for (auto [index, result] : llvm::enumerate(op->getResults())) {
    Value localResult = clone->getResult(index);
    if (countSplit != 1) {
      auto type = cast<RankedTensorType>(localResult.getType());
      auto floatType = dyn_cast<FloatType>(type.getElementType());
      if (!floatType)
        return op->emitOpError("divides by a split count but has a non-float result"), failure();
      auto scale = DenseElementsAttr::get(
          type, builder.getFloatAttr(floatType, 1.0 / static_cast<double>(countSplit)));
      Value factor = ConstantOp::create(builder, op->getLoc(), cast<ElementsAttr>(scale));
      localResult =
          BinaryOp::create(builder, op->getLoc(), type, BinaryKind::mul, localResult, factor);
    }
    placed[result] = {localResult, resultShardings[index]};
  }
  return success();
}

LogicalResult Partitioner::partitionReturn(func::ReturnOp op) {
  builder.setInsertionPoint(op);
  SmallVector<Value> operands;
  SmallVector<Type> resultTypes;
  for (auto [index, operand] : llvm::enumerate(op.getOperands())) {
    auto rank = cast<RankedTensorType>(operand.getType()).getRank();
    TensorSharding target = TensorSharding::replicated(rank);
    if (auto dims = getResultSharding(func, index))
      target.dims = *dims;
    FailureOr<Value> value = reshard(operand, target, op);
    if (failed(value))
      return failure();
    operands.push_back(*value);
    resultTypes.push_back(value->getType());
  }
  func::ReturnOp::create(builder, op.getLoc(), operands);
  func.setFunctionType(FunctionType::get(func.getContext(), func.getArgumentTypes(), resultTypes));
  return success();
}

LogicalResult Partitioner::run() {
  Block &body = func.getBody().front();
  SmallVector<Type> argumentLocalTypes;
  for (BlockArgument argument : body.getArguments()) {
    auto type = dyn_cast<RankedTensorType>(argument.getType());
    if (!type)
      return func.emitOpError() << "argument #" << argument.getArgNumber()
                                << " is not a ranked tensor",
             failure();
    TensorSharding sharding = TensorSharding::replicated(type.getRank());
    if (auto dims = getArgSharding(func, argument.getArgNumber()))
      sharding.dims = *dims;
    argumentTypes[argument] = type;
    FailureOr<RankedTensorType> localArgType = local(argument, sharding, func);
    if (failed(localArgType))
      return failure();
    placed[argument] = {argument, sharding};
    argumentLocalTypes.push_back(*localArgType);
  }
  SmallVector<Operation *> original;
  for (Operation &op : body)
    original.push_back(&op);
  Operation *lossOp = findLossOp(func);
  for (Operation *op : original) {
    if (auto ret = dyn_cast<func::ReturnOp>(op)) {
      if (failed(partitionReturn(ret)))
        return failure();
      continue;
    }
    if (failed(partitionOp(op)))
      return failure();
    pastLoss |= op == lossOp;
  }
  // Old ops go in reverse so that uses disappear before their definitions.
  for (Operation *op : llvm::reverse(original)) {
    op->dropAllUses();
    op->erase();
  }
  for (auto [argument, type] : llvm::zip(body.getArguments(), argumentLocalTypes))
    argument.setType(type);
  func.setFunctionType(FunctionType::get(func.getContext(), argumentLocalTypes,
                                         func.getFunctionType().getResults()));
  return success();
}

namespace {
struct PartitionPass : public mlir::cleave::impl::CleavePartitionBase<PartitionPass> {
  using CleavePartitionBase::CleavePartitionBase;
  void runOnOperation() override {
    ModuleOp module = getOperation();
    if (module.getOps<shard::GridOp>().empty())
      return; // no plan: one device
    FailureOr<GridInfo> grid = getGrid(module);
    if (failed(grid))
      return signalPassFailure();
    auto func = module.lookupSymbol<func::FuncOp>(function);
    if (!func || func.isExternal()) {
      module.emitError() << "cleave-partition: no function @" << function << " to partition";
      return signalPassFailure();
    }
    LDBG() << "partitioning @" << function << " over " << grid->devices() << " devices";
    Partitioner partitioner(func, *grid);
    if (auto dp = llvm::find(grid->names, "dp"); dp != grid->names.end())
      partitioner.wholeReduceAxis = static_cast<int16_t>(dp - grid->names.begin());
    if (failed(partitioner.run()))
      return signalPassFailure();
  }
};
} // namespace
