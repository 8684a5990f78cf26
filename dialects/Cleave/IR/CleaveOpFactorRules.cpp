//===- CleaveOpFactorRules.cpp - factor rules of the cleave ops -----------===//
//
// One FactorRule per op (see Interfaces/FactorRule.h), attached as external
// models so that each rule sits in one place next to its siblings rather
// than being spread over the op definitions. Ops left out (iota,
// random_mask, dropout, constant that is not a splat) run replicated.
//
//===----------------------------------------------------------------------===//
#include "dialects/Cleave/IR/CleaveOps.h"
#include "dialects/Cleave/Interfaces/FactorRule.h"

#include "mlir/IR/BuiltinAttributes.h"

using namespace mlir;
using namespace mlir::cleave;

static ArrayRef<int64_t> shapeOf(Value value) {
  return cast<RankedTensorType>(value.getType()).getShape();
}

/// One factor per dimension of `shape`, all parallel; returns the tensor's
/// dimension-to-factor map.
static TensorFactors addDims(FactorRule &rule, ArrayRef<int64_t> shape,
                             FactorKind kind = FactorKind::parallel) {
  TensorFactors dims;
  for (int64_t size : shape)
    dims.push_back(size == 1 ? DimFactors{} : DimFactors{rule.addFactor(size, kind)});
  return dims;
}

/// The map of an operand that broadcasts (aligned on the right) into
/// `loops`: equal dimensions share the loop's factor; a stretched size-1
/// dimension has none.
static TensorFactors broadcastInto(ArrayRef<int64_t> shape, ArrayRef<int64_t> loopSizes,
                                   const TensorFactors &loops) {
  TensorFactors dims;
  size_t offset = loopSizes.size() - shape.size();
  for (auto [i, size] : llvm::enumerate(shape))
    dims.push_back(size == loopSizes[offset + i] ? loops[offset + i] : DimFactors{});
  return dims;
}

static FactorRule elementwiseRule(Operation *op) {
  FactorRule rule;
  ArrayRef<int64_t> result = shapeOf(op->getResult(0));
  TensorFactors loops = addDims(rule, result);
  for (Value operand : op->getOperands())
    rule.operands.push_back(broadcastInto(shapeOf(operand), result, loops));
  rule.results.push_back(loops);
  rule.resultReductions.push_back(shard::ReductionKind::Sum);
  return rule;
}

/// Dimensions of `shape` from `firstWhole` on stay whole, the others are
/// parallel; used by ops that normalise over trailing dimensions.
static TensorFactors wholeFrom(FactorRule &rule, ArrayRef<int64_t> shape, int64_t firstWhole) {
  TensorFactors dims;
  for (auto [i, size] : llvm::enumerate(shape)) {
    FactorKind kind =
        static_cast<int64_t>(i) >= firstWhole ? FactorKind::whole : FactorKind::parallel;
    dims.push_back(size == 1 ? DimFactors{} : DimFactors{rule.addFactor(size, kind)});
  }
  return dims;
}

static void addResult(FactorRule &rule, TensorFactors dims,
                      shard::ReductionKind reduction = shard::ReductionKind::Sum) {
  rule.results.push_back(std::move(dims));
  rule.resultReductions.push_back(reduction);
}

//===----------------------------------------------------------------------===//
// Rules
//===----------------------------------------------------------------------===//

static FactorRule matmulRule(MatmulOp op) {
  FactorRule rule;
  ArrayRef<int64_t> result = shapeOf(op.getResult());
  ArrayRef<int64_t> batchShape = result.drop_back(2);
  TensorFactors batch = addDims(rule, batchShape);
  int m = rule.addFactor(result[result.size() - 2]);
  int n = rule.addFactor(result.back());
  ArrayRef<int64_t> lhsShape = shapeOf(op.getLhs());
  int64_t kSize = op.getTransposeA() ? lhsShape[lhsShape.size() - 2] : lhsShape.back();
  int k = rule.addFactor(kSize);
  auto operand = [&](ArrayRef<int64_t> shape, int rows, int cols) {
    TensorFactors dims = broadcastInto(shape.drop_back(2), batchShape, batch);
    dims.push_back(shape[shape.size() - 2] == 1 ? DimFactors{} : DimFactors{rows});
    dims.push_back(shape.back() == 1 ? DimFactors{} : DimFactors{cols});
    return dims;
  };
  rule.operands.push_back(op.getTransposeA() ? operand(lhsShape, k, m) : operand(lhsShape, m, k));
  ArrayRef<int64_t> rhsShape = shapeOf(op.getRhs());
  rule.operands.push_back(op.getTransposeB() ? operand(rhsShape, n, k) : operand(rhsShape, k, n));
  TensorFactors resultDims = batch;
  resultDims.push_back(result[result.size() - 2] == 1 ? DimFactors{} : DimFactors{m});
  resultDims.push_back(result.back() == 1 ? DimFactors{} : DimFactors{n});
  addResult(rule, resultDims);
  return rule;
}

static FactorRule reduceRule(ReduceOp op) {
  FactorRule rule;
  ArrayRef<int64_t> input = shapeOf(op.getInput());
  bool splittable = op.getKind() != ReduceKind::prod;
  TensorFactors inputDims;
  TensorFactors resultDims;
  for (auto [i, size] : llvm::enumerate(input)) {
    bool reduced = llvm::is_contained(op.getAxes(), static_cast<int64_t>(i));
    int factor = size == 1 ? -1
                           : rule.addFactor(size, reduced && !splittable ? FactorKind::whole
                                                                         : FactorKind::parallel);
    if (factor >= 0 && reduced && op.getKind() == ReduceKind::mean)
      rule.factors[factor].dividesByCount = true;
    inputDims.push_back(factor < 0 ? DimFactors{} : DimFactors{factor});
    if (!reduced)
      resultDims.push_back(inputDims.back());
    else if (op.getKeepDims())
      resultDims.push_back({});
  }
  rule.operands.push_back(inputDims);
  shard::ReductionKind kind = shard::ReductionKind::Sum;
  if (op.getKind() == ReduceKind::max)
    kind = shard::ReductionKind::Max;
  else if (op.getKind() == ReduceKind::min)
    kind = shard::ReductionKind::Min;
  addResult(rule, resultDims, kind);
  return rule;
}

static FactorRule softmaxRule(Operation *op, int64_t axis) {
  FactorRule rule;
  ArrayRef<int64_t> shape = shapeOf(op->getResult(0));
  TensorFactors dims;
  for (auto [i, size] : llvm::enumerate(shape))
    dims.push_back(size == 1 ? DimFactors{}
                             : DimFactors{rule.addFactor(size, static_cast<int64_t>(i) == axis
                                                                   ? FactorKind::whole
                                                                   : FactorKind::parallel)});
  for (unsigned i = 0; i < op->getNumOperands(); ++i)
    rule.operands.push_back(dims);
  addResult(rule, dims);
  return rule;
}

/// layer_norm and its gradient: rows (dimensions before `axis`) are
/// parallel; the normalised dimensions stay whole, like scale and bias.
static FactorRule layerNormRule(Operation *op, int64_t axis, bool gradient) {
  FactorRule rule;
  ArrayRef<int64_t> shape = shapeOf(op->getOperand(0));
  TensorFactors dims = wholeFrom(rule, shape, axis);
  TensorFactors normalised(dims.begin() + axis, dims.end());
  for (Value operand : op->getOperands()) {
    if (shapeOf(operand).size() == shape.size())
      rule.operands.push_back(dims);
    else
      rule.operands.push_back(normalised);
  }
  addResult(rule, dims);
  if (gradient) {
    addResult(rule, normalised); // scale_grad: a sum over the rows
    addResult(rule, normalised); // bias_grad
  }
  return rule;
}

/// batch_norm and its gradient: the statistics couple N and the spatial
/// dimensions, so only channels split.
static FactorRule batchNormRule(Operation *op) {
  FactorRule rule;
  ArrayRef<int64_t> shape = shapeOf(op->getOperand(0));
  TensorFactors dims;
  int channels = -1;
  for (auto [i, size] : llvm::enumerate(shape)) {
    int factor = rule.addFactor(size, i == 1 ? FactorKind::parallel : FactorKind::whole);
    if (i == 1)
      channels = factor;
    dims.push_back(size == 1 ? DimFactors{} : DimFactors{factor});
  }
  TensorFactors perChannel{shape[1] == 1 ? DimFactors{} : DimFactors{channels}};
  for (Value operand : op->getOperands())
    rule.operands.push_back(shapeOf(operand).size() == shape.size() ? dims : perChannel);
  for (OpResult result : op->getResults())
    addResult(rule, shapeOf(result).size() == shape.size() ? dims : perChannel);
  return rule;
}

/// gather picks rows of `data` along `axis` by `indices`: the data's
/// dimensions (the axis whole: any of its elements may be picked), the
/// indices', and the gathered tensor's (the data's, the axis replaced by the
/// indices' dimensions). scatter_add (`scatter`) is its adjoint: it sums
/// updates shaped as the gathered tensor into rows of its result (`data`),
/// so the index dimensions are reduced over (a split leaves partial sums).
static FactorRule indexedRowsRule(Value data, Value indices, int64_t axis, bool scatter) {
  FactorRule rule;
  TensorFactors dataDims = addDims(rule, shapeOf(data));
  if (!dataDims[axis].empty())
    rule.factors[dataDims[axis][0]].kind = FactorKind::whole;
  TensorFactors indexDims = addDims(rule, shapeOf(indices));
  TensorFactors gathered(dataDims.begin(), dataDims.begin() + axis);
  gathered.append(indexDims.begin(), indexDims.end());
  gathered.append(dataDims.begin() + axis + 1, dataDims.end());
  rule.operands = {scatter ? gathered : dataDims, indexDims};
  addResult(rule, scatter ? dataDims : gathered);
  return rule;
}

static FactorRule gatherRule(GatherOp op) {
  return indexedRowsRule(op.getInput(), op.getIndices(), op.getAxis(), /*scatter=*/false);
}

static FactorRule scatterAddRule(ScatterAddOp op) {
  return indexedRowsRule(op.getResult(), op.getIndices(), op.getAxis(), /*scatter=*/true);
}

/// Groups of dimensions whose products match between `from` and `to`
/// (ignoring size-1 dimensions): a reshape keeps each group's elements
/// together, so a dimension that maps to a group alone can be split along
/// the group's major factor.
static FactorRule reshapeRule(ReshapeOp op) {
  FactorRule rule;
  ArrayRef<int64_t> from = shapeOf(op.getInput());
  ArrayRef<int64_t> to = shapeOf(op.getResult());
  TensorFactors fromDims(from.size()), toDims(to.size());
  size_t i = 0, j = 0;
  while (i < from.size() || j < to.size()) {
    if (i < from.size() && from[i] == 1) {
      ++i;
      continue;
    }
    if (j < to.size() && to[j] == 1) {
      ++j;
      continue;
    }
    if (i == from.size() || j == to.size())
      break;
    size_t groupFromBegin = i, groupToBegin = j;
    int64_t fromProduct = from[i++], toProduct = to[j++];
    while (fromProduct != toProduct) {
      if (fromProduct < toProduct)
        fromProduct *= from[i++];
      else
        toProduct *= to[j++];
    }
    size_t fromCount = i - groupFromBegin, toCount = j - groupToBegin;
    if (fromCount == 1 && toCount == 1) {
      int factor = rule.addFactor(from[groupFromBegin]);
      fromDims[groupFromBegin] = {factor};
      toDims[groupToBegin] = {factor};
    } else if (toCount == 1) { // merge: the result dimension is a product of factors
      for (size_t d = groupFromBegin; d < i; ++d) {
        if (from[d] == 1)
          continue;
        int factor = rule.addFactor(from[d]);
        fromDims[d] = {factor};
        toDims[groupToBegin].push_back(factor);
      }
    } else if (fromCount == 1) { // split: the operand dimension is a product
      for (size_t d = groupToBegin; d < j; ++d) {
        if (to[d] == 1)
          continue;
        int factor = rule.addFactor(to[d]);
        toDims[d] = {factor};
        fromDims[groupFromBegin].push_back(factor);
      }
    } else { // regrouping both ways: keep the group whole
      int factor = rule.addFactor(fromProduct, FactorKind::whole);
      for (size_t d = groupFromBegin; d < i; ++d)
        fromDims[d] = {factor};
      for (size_t d = groupToBegin; d < j; ++d)
        toDims[d] = {factor};
    }
  }
  rule.operands.push_back(fromDims);
  addResult(rule, toDims);
  return rule;
}

static FactorRule broadcastRule(BroadcastOp op) {
  FactorRule rule;
  ArrayRef<int64_t> result = shapeOf(op.getResult());
  TensorFactors loops = addDims(rule, result);
  rule.operands.push_back(broadcastInto(shapeOf(op.getInput()), result, loops));
  addResult(rule, loops);
  return rule;
}

static FactorRule transposeRule(TransposeOp op) {
  FactorRule rule;
  TensorFactors inputDims = addDims(rule, shapeOf(op.getInput()));
  TensorFactors resultDims;
  for (int64_t source : op.getPermutation())
    resultDims.push_back(inputDims[source]);
  rule.operands.push_back(inputDims);
  addResult(rule, resultDims);
  return rule;
}

/// slice / slice_scatter: a dimension the slice takes whole (start 0,
/// stride 1, full length) is shared; any other stays whole.
static FactorRule sliceRule(Operation *op, ArrayRef<int64_t> full, ArrayRef<int64_t> part,
                            ArrayRef<int64_t> starts, ArrayRef<int64_t> strides,
                            bool resultIsFull) {
  FactorRule rule;
  TensorFactors fullDims, partDims;
  for (size_t d = 0; d < full.size(); ++d) {
    bool whole = starts[d] == 0 && strides[d] == 1 && part[d] == full[d];
    if (whole) {
      DimFactors dim = full[d] == 1 ? DimFactors{} : DimFactors{rule.addFactor(full[d])};
      fullDims.push_back(dim);
      partDims.push_back(dim);
    } else {
      fullDims.push_back({rule.addFactor(full[d], FactorKind::whole)});
      partDims.push_back(part[d] == 1 ? DimFactors{}
                                      : DimFactors{rule.addFactor(part[d], FactorKind::whole)});
    }
  }
  rule.operands.push_back(resultIsFull ? partDims : fullDims);
  addResult(rule, resultIsFull ? fullDims : partDims);
  (void)op;
  return rule;
}

static FactorRule concatRule(ConcatOp op) {
  FactorRule rule;
  ArrayRef<int64_t> result = shapeOf(op.getResult());
  int64_t axis = op.getAxis();
  TensorFactors loops = addDims(rule, result);
  if (!loops[axis].empty())
    rule.factors[loops[axis][0]].kind = FactorKind::whole;
  for (Value input : op.getInputs()) {
    TensorFactors dims = loops;
    int64_t size = shapeOf(input)[axis];
    dims[axis] = size == 1 ? DimFactors{} : DimFactors{rule.addFactor(size, FactorKind::whole)};
    rule.operands.push_back(dims);
  }
  return (addResult(rule, loops), rule);
}

/// Convolutions: batch and output channels split; input channels are
/// contracted (partial sums) when there is one group; the spatial
/// dimensions need halos and stay whole.
static FactorRule convRule(Operation *op, ArrayRef<int64_t> input, ArrayRef<int64_t> filter,
                           ArrayRef<int64_t> output, int64_t groups, int which) {
  FactorRule rule;
  FactorKind channelKind = groups == 1 ? FactorKind::parallel : FactorKind::whole;
  int n = rule.addFactor(input[0]);
  int c = rule.addFactor(input[1], channelKind);
  int o = rule.addFactor(output[1], channelKind);
  auto spatial = [&](ArrayRef<int64_t> shape) {
    TensorFactors dims;
    for (int64_t size : shape.drop_front(2))
      dims.push_back({rule.addFactor(size, FactorKind::whole)});
    return dims;
  };
  auto tensor = [&](int first, int second, ArrayRef<int64_t> shape) {
    TensorFactors dims{{first}, {second}};
    dims.append(spatial(shape));
    return dims;
  };
  TensorFactors inputDims = tensor(n, c, input);
  TensorFactors filterDims = tensor(o, c, filter);
  TensorFactors outputDims = tensor(n, o, output);
  if (groups != 1)
    filterDims[1] = {rule.addFactor(filter[1], FactorKind::whole)};
  if (which == 0) { // conv2d(input, filter[, bias]) -> output
    rule.operands = {inputDims, filterDims};
    if (op->getNumOperands() == 3) {
      rule.operands.push_back({{o}});
      // The bias is added once to the sum over input channels.
      rule.addedAfterReduction.push_back(2);
    }
    addResult(rule, outputDims);
  } else if (which == 1) { // conv2d_grad_input(result_grad, filter) -> input grad
    rule.operands = {outputDims, filterDims};
    addResult(rule, inputDims);
  } else { // conv2d_grad_filter(input, result_grad) -> filter grad
    rule.operands = {inputDims, outputDims};
    addResult(rule, filterDims);
  }
  return rule;
}

static FactorRule poolRule(Operation *op) {
  FactorRule rule;
  ArrayRef<int64_t> input = shapeOf(op->getOperand(0));
  int n = rule.addFactor(input[0]);
  int c = rule.addFactor(input[1]);
  auto dims = [&](ArrayRef<int64_t> shape) {
    TensorFactors result{{n}, {c}};
    for (int64_t size : shape.drop_front(2))
      result.push_back({rule.addFactor(size, FactorKind::whole)});
    return result;
  };
  for (Value operand : op->getOperands())
    rule.operands.push_back(dims(shapeOf(operand)));
  addResult(rule, dims(shapeOf(op->getResult(0))));
  return rule;
}

/// cross_entropy: the mean over rows divides by the row count; the class
/// dimension is a softmax and stays whole. A mean over the rows not
/// ignored divides by a count that differs from device to device, so its
/// rows stay whole too (cleave-attach-loss builds the sum instead).
static FactorRule crossEntropyRule(Operation *op, bool gradient) {
  FactorRule rule;
  ArrayRef<int64_t> logits = shapeOf(op->getOperand(0));
  bool sum = op->hasAttr("sum");
  bool countsRows = !sum && op->hasAttr("ignore_index");
  int rows = rule.addFactor(logits[0], countsRows ? FactorKind::whole : FactorKind::parallel);
  rule.factors[rows].dividesByCount = !sum;
  int classes = rule.addFactor(logits[1], FactorKind::whole);
  TensorFactors logitDims{{rows}, {classes}};
  rule.operands = {logitDims, {{rows}}};
  if (gradient) {
    rule.operands.push_back({}); // the scalar loss gradient
    addResult(rule, logitDims);
  } else {
    addResult(rule, {});
  }
  return rule;
}

static FactorRule constantRule(ConstantOp op) {
  FactorRule rule;
  auto dense = dyn_cast<DenseElementsAttr>(op.getValue());
  auto type = cast<RankedTensorType>(op.getType());
  // Only a splat can be cut anywhere: other constants stay whole.
  FactorKind kind = dense && dense.isSplat() ? FactorKind::parallel : FactorKind::whole;
  addResult(rule, addDims(rule, type.getShape(), kind));
  return rule;
}

//===----------------------------------------------------------------------===//
// External models
//===----------------------------------------------------------------------===//

namespace {
template <typename OpTy, FactorRule (*Rule)(Operation *)>
struct GenericModel : public FactorRuleOpInterface::ExternalModel<GenericModel<OpTy, Rule>, OpTy> {
  FactorRule getFactorRule(Operation *op) const { return Rule(op); }
};
} // namespace

#define CLEAVE_FACTOR_RULE(OpTy, body)                                                             \
  static FactorRule rule##OpTy(Operation *operation) {                                             \
    auto op = cast<OpTy>(operation);                                                               \
    (void)op;                                                                                      \
    body                                                                                           \
  }

CLEAVE_FACTOR_RULE(UnaryOp, return elementwiseRule(operation);)
CLEAVE_FACTOR_RULE(BinaryOp, return elementwiseRule(operation);)
CLEAVE_FACTOR_RULE(CompareOp, return elementwiseRule(operation);)
CLEAVE_FACTOR_RULE(SelectOp, return elementwiseRule(operation);)
CLEAVE_FACTOR_RULE(CastOp, return elementwiseRule(operation);)
CLEAVE_FACTOR_RULE(ConstantOp, return constantRule(op);)
CLEAVE_FACTOR_RULE(MatmulOp, return matmulRule(op);)
CLEAVE_FACTOR_RULE(ReduceOp, return reduceRule(op);)
CLEAVE_FACTOR_RULE(SoftmaxOp, return softmaxRule(operation, op.getAxis());)
CLEAVE_FACTOR_RULE(SoftmaxGradOp, return softmaxRule(operation, op.getAxis());)
CLEAVE_FACTOR_RULE(LayerNormOp, return layerNormRule(operation, op.getAxis(), false);)
CLEAVE_FACTOR_RULE(LayerNormGradOp, return layerNormRule(operation, op.getAxis(), true);)
CLEAVE_FACTOR_RULE(BatchNormOp, return batchNormRule(operation);)
CLEAVE_FACTOR_RULE(BatchNormGradOp, return batchNormRule(operation);)
CLEAVE_FACTOR_RULE(GatherOp, return gatherRule(op);)
CLEAVE_FACTOR_RULE(ScatterAddOp, return scatterAddRule(op);)
CLEAVE_FACTOR_RULE(ReshapeOp, return reshapeRule(op);)
CLEAVE_FACTOR_RULE(BroadcastOp, return broadcastRule(op);)
CLEAVE_FACTOR_RULE(TransposeOp, return transposeRule(op);)
CLEAVE_FACTOR_RULE(SliceOp,
                   return sliceRule(operation, shapeOf(op.getInput()), shapeOf(op.getResult()),
                                    op.getStarts(), op.getStrides(), false);)
CLEAVE_FACTOR_RULE(SliceScatterOp,
                   return sliceRule(operation, shapeOf(op.getResult()), shapeOf(op.getSource()),
                                    op.getStarts(), op.getStrides(), true);)
CLEAVE_FACTOR_RULE(ConcatOp, return concatRule(op);)
CLEAVE_FACTOR_RULE(Conv2dOp,
                   return convRule(operation, shapeOf(op.getInput()), shapeOf(op.getFilter()),
                                   shapeOf(op.getResult()), op.getGroups(), 0);)
CLEAVE_FACTOR_RULE(Conv2dGradInputOp,
                   return convRule(operation, shapeOf(op.getInputGrad()), shapeOf(op.getFilter()),
                                   shapeOf(op.getResultGrad()), op.getGroups(), 1);)
CLEAVE_FACTOR_RULE(Conv2dGradFilterOp,
                   return convRule(operation, shapeOf(op.getInput()), shapeOf(op.getFilterGrad()),
                                   shapeOf(op.getResultGrad()), op.getGroups(), 2);)
CLEAVE_FACTOR_RULE(Pool2dOp, return poolRule(operation);)
CLEAVE_FACTOR_RULE(Pool2dGradOp, return poolRule(operation);)
CLEAVE_FACTOR_RULE(CrossEntropyOp, return crossEntropyRule(operation, false);)
CLEAVE_FACTOR_RULE(CrossEntropyGradOp, return crossEntropyRule(operation, true);)
#undef CLEAVE_FACTOR_RULE

void mlir::cleave::attachFactorRules(MLIRContext *context) {
#define ATTACH(OpTy) OpTy::attachInterface<GenericModel<OpTy, rule##OpTy>>(*context);
  ATTACH(UnaryOp)
  ATTACH(BinaryOp)
  ATTACH(CompareOp)
  ATTACH(SelectOp)
  ATTACH(CastOp)
  ATTACH(ConstantOp)
  ATTACH(MatmulOp)
  ATTACH(ReduceOp)
  ATTACH(SoftmaxOp)
  ATTACH(SoftmaxGradOp)
  ATTACH(LayerNormOp)
  ATTACH(LayerNormGradOp)
  ATTACH(BatchNormOp)
  ATTACH(BatchNormGradOp)
  ATTACH(GatherOp)
  ATTACH(ScatterAddOp)
  ATTACH(ReshapeOp)
  ATTACH(BroadcastOp)
  ATTACH(TransposeOp)
  ATTACH(SliceOp)
  ATTACH(SliceScatterOp)
  ATTACH(ConcatOp)
  ATTACH(Conv2dOp)
  ATTACH(Conv2dGradInputOp)
  ATTACH(Conv2dGradFilterOp)
  ATTACH(Pool2dOp)
  ATTACH(Pool2dGradOp)
  ATTACH(CrossEntropyOp)
  ATTACH(CrossEntropyGradOp)
#undef ATTACH
}
