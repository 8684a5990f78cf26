//===- CleaveOpSharding.cpp - iteration spaces for upstream sharding ------===//
//
// Each shardable op describes itself as a loop nest, the way upstream's
// `shard` dialect expects: one iterator type per loop (parallel loops may be
// split freely, reduction loops leave partial results to be all-reduced)
// and one affine map per operand and result from loops to tensor indices.
//
// A map result is either a loop (an AffineDimExpr) or the constant 0: a
// size-1 dimension that broadcasting stretches or `keep_dims` keeps. No loop
// indexes such a dimension, so no sharding may split it. Upstream's default
// implementations reject constants: one in an operand map fails
// getShardingOption ("fail to get sharding option"), one in a result map
// fails verifyShardingInterfaceImpl ("invalid sharding interface
// implementation"). So the shardable ops derive their sharding options and
// annotations with the helpers below, which follow upstream's defaults
// otherwise. Partitioning still uses upstream's default (full replication).
//
//===----------------------------------------------------------------------===//
#include "dialects/Cleave/IR/CleaveOps.h"

#include "mlir/Dialect/Shard/IR/ShardOps.h"
#include "mlir/IR/AffineMap.h"

using namespace mlir;
using namespace mlir::cleave;
using shard::GridAxesAttr;
using shard::GridAxis;
using utils::IteratorType;

//===----------------------------------------------------------------------===//
// Sharding options and annotations from loops and indexing maps
//===----------------------------------------------------------------------===//

/// The loop that indexes a tensor dimension, or none for a constant result.
static std::optional<unsigned> loopOf(AffineExpr expr) {
  if (auto dim = dyn_cast<AffineDimExpr>(expr))
    return dim.getPosition();
  return std::nullopt;
}

/// Records in `option` the split of the value that `map` indexes. Fails on a
/// split of a dimension no loop indexes, on a loop split two different ways,
/// and on a grid axis that would split two loops.
static LogicalResult addToOption(shard::ShardingOption &option, const Sharding &sharding,
                                 AffineMap map) {
  if (!sharding)
    return success();
  if (option.grid && option.grid != sharding.getGridAttr())
    return failure();
  option.grid = sharding.getGridAttr();
  for (auto [expr, axesAttr] : llvm::zip(map.getResults(), sharding.getSplitAxes())) {
    ArrayRef<GridAxis> axes = axesAttr.asArrayRef();
    if (axes.empty())
      continue;
    std::optional<unsigned> loop = loopOf(expr);
    if (!loop)
      return failure();
    SmallVector<GridAxis> &assigned = option.shardingArray[*loop];
    if (!assigned.empty() && ArrayRef<GridAxis>(assigned) != axes)
      return failure();
    for (auto [other, otherAxes] : llvm::enumerate(option.shardingArray))
      if (other != *loop && llvm::any_of(axes, [&, &otherAxes = otherAxes](GridAxis axis) {
            return llvm::is_contained(otherAxes, axis);
          }))
        return failure();
    assigned.assign(axes.begin(), axes.end());
  }
  return success();
}

/// How the ShardingInterface op `op` is split, from whichever of its operands
/// and results carry a sharding: results first, then operands.
static FailureOr<shard::ShardingOption> getOptionFromMaps(Operation *op,
                                                          ArrayRef<Sharding> operandShardings,
                                                          ArrayRef<Sharding> resultShardings) {
  auto shardingOp = cast<shard::ShardingInterface>(op);
  SmallVector<AffineMap> maps = shardingOp.getIndexingMaps();
  unsigned numOperands = op->getNumOperands();
  shard::ShardingOption option;
  option.shardingArray.resize(shardingOp.getLoopIteratorTypes().size());
  bool anySharding = false;
  for (auto [index, sharding] : llvm::enumerate(resultShardings)) {
    anySharding |= static_cast<bool>(sharding);
    if (failed(addToOption(option, sharding, maps[numOperands + index])))
      return failure();
  }
  for (auto [index, sharding] : llvm::enumerate(operandShardings)) {
    anySharding |= static_cast<bool>(sharding);
    if (failed(addToOption(option, sharding, maps[index])))
      return failure();
  }
  shard::removeTrailingEmptySubArray(option.shardingArray);
  option.empty = !anySharding;
  return option;
}

/// The sharding of the value of `type` that `map` indexes under `option`.
static Sharding getShardingFromMap(Type type, AffineMap map, const shard::ShardingOption &option) {
  auto tensor = dyn_cast<RankedTensorType>(type);
  if (!tensor)
    return Sharding();
  SmallVector<SmallVector<GridAxis>> splitAxes(tensor.getRank());
  for (auto [dim, expr] : llvm::enumerate(map.getResults())) {
    std::optional<unsigned> loop = loopOf(expr);
    if (loop && *loop < option.shardingArray.size())
      splitAxes[dim] = option.shardingArray[*loop];
  }
  shard::removeTrailingEmptySubArray(splitAxes);
  SmallVector<GridAxesAttr> axesAttrs;
  for (ArrayRef<GridAxis> axes : splitAxes)
    axesAttrs.push_back(GridAxesAttr::get(type.getContext(), axes));
  return Sharding::get(option.grid, axesAttrs);
}

/// The shardings of all operands, then all results, under `option`.
static std::vector<Sharding> getAnnotationsFromMaps(Operation *op,
                                                    const shard::ShardingOption &option) {
  SmallVector<AffineMap> maps = cast<shard::ShardingInterface>(op).getIndexingMaps();
  std::vector<Sharding> shardings;
  for (auto [type, map] : llvm::zip(op->getOperandTypes(), maps))
    shardings.push_back(getShardingFromMap(type, map, option));
  for (auto [type, map] :
       llvm::zip(op->getResultTypes(), ArrayRef<AffineMap>(maps).drop_front(op->getNumOperands())))
    shardings.push_back(getShardingFromMap(type, map, option));
  return shardings;
}

/// Inserts `shard.shard` ops for the results and operands of `op` that do
/// not already carry the sharding `option` asks for.
static LogicalResult addAnnotationsFromMaps(Operation *op, OpBuilder &builder,
                                            const shard::ShardingOption &option) {
  std::vector<Sharding> shardings = getAnnotationsFromMaps(op, option);
  unsigned numOperands = op->getNumOperands();
  for (OpResult result : op->getResults())
    shard::maybeInsertTargetShardingAnnotation(shardings[numOperands + result.getResultNumber()],
                                               result, builder);
  for (OpOperand &operand : op->getOpOperands()) {
    OpBuilder::InsertionGuard guard(builder);
    shard::maybeInsertSourceShardingAnnotation(shardings[operand.getOperandNumber()], operand,
                                               builder);
  }
  return success();
}

#define CLEAVE_SHARDING_FROM_MAPS(OpClass)                                                         \
  FailureOr<ShardingOption> OpClass::getShardingOption(ArrayRef<Sharding> operandShardings,        \
                                                       ArrayRef<Sharding> resultShardings) {       \
    return getOptionFromMaps(*this, operandShardings, resultShardings);                            \
  }                                                                                                \
  FailureOr<std::vector<Sharding>> OpClass::getShardingAnnotations(const ShardingOption &option) { \
    return getAnnotationsFromMaps(*this, option);                                                  \
  }                                                                                                \
  LogicalResult OpClass::addShardingAnnotations(OpBuilder &builder,                                \
                                                const ShardingOption &option) {                    \
    return addAnnotationsFromMaps(*this, builder, option);                                         \
  }

CLEAVE_SHARDING_FROM_MAPS(UnaryOp)
CLEAVE_SHARDING_FROM_MAPS(BinaryOp)
CLEAVE_SHARDING_FROM_MAPS(CompareOp)
CLEAVE_SHARDING_FROM_MAPS(SelectOp)
CLEAVE_SHARDING_FROM_MAPS(CastOp)
CLEAVE_SHARDING_FROM_MAPS(MatmulOp)
CLEAVE_SHARDING_FROM_MAPS(ReduceOp)
CLEAVE_SHARDING_FROM_MAPS(SoftmaxOp)
CLEAVE_SHARDING_FROM_MAPS(LayerNormOp)
CLEAVE_SHARDING_FROM_MAPS(TransposeOp)
#undef CLEAVE_SHARDING_FROM_MAPS

/// Map from the `loopCount` loops of a broadcasting op onto an operand of
/// `shape`: dimensions align on the right, and a dimension of size 1 that
/// the loop stretches reads index 0.
static AffineMap broadcastMap(ArrayRef<int64_t> shape, ArrayRef<int64_t> loopSizes,
                              MLIRContext *context) {
  size_t offset = loopSizes.size() - shape.size();
  SmallVector<AffineExpr> exprs;
  for (auto [i, size] : llvm::enumerate(shape)) {
    if (size == 1 && loopSizes[offset + i] != 1)
      exprs.push_back(getAffineConstantExpr(0, context));
    else
      exprs.push_back(getAffineDimExpr(offset + i, context));
  }
  return AffineMap::get(loopSizes.size(), 0, exprs, context);
}

static SmallVector<AffineMap> elementwiseMaps(Operation *op) {
  ArrayRef<int64_t> loops = cast<ShapedType>(op->getResult(0).getType()).getShape();
  SmallVector<AffineMap> maps;
  for (Type type : op->getOperandTypes())
    maps.push_back(broadcastMap(cast<ShapedType>(type).getShape(), loops, op->getContext()));
  maps.push_back(AffineMap::getMultiDimIdentityMap(loops.size(), op->getContext()));
  return maps;
}

static SmallVector<IteratorType> allParallel(Type resultType) {
  return SmallVector<IteratorType>(cast<ShapedType>(resultType).getRank(), IteratorType::parallel);
}

#define CLEAVE_ELEMENTWISE_SHARDING(OpClass)                                                       \
  SmallVector<IteratorType> OpClass::getLoopIteratorTypes() { return allParallel(getType()); }     \
  SmallVector<shard::ReductionKind> OpClass::getReductionLoopIteratorKinds() { return {}; }        \
  SmallVector<AffineMap> OpClass::getIndexingMaps() { return elementwiseMaps(*this); }

CLEAVE_ELEMENTWISE_SHARDING(UnaryOp)
CLEAVE_ELEMENTWISE_SHARDING(BinaryOp)
CLEAVE_ELEMENTWISE_SHARDING(CompareOp)
CLEAVE_ELEMENTWISE_SHARDING(SelectOp)
CLEAVE_ELEMENTWISE_SHARDING(CastOp)
#undef CLEAVE_ELEMENTWISE_SHARDING

//===----------------------------------------------------------------------===//
// matmul: loops are [batch..., m, n, k]; k is a sum reduction.
//===----------------------------------------------------------------------===//

SmallVector<IteratorType> MatmulOp::getLoopIteratorTypes() {
  SmallVector<IteratorType> types = allParallel(getType());
  types.push_back(IteratorType::reduction);
  return types;
}

SmallVector<shard::ReductionKind> MatmulOp::getReductionLoopIteratorKinds() {
  return {shard::ReductionKind::Sum};
}

SmallVector<AffineMap> MatmulOp::getIndexingMaps() {
  MLIRContext *context = getContext();
  ArrayRef<int64_t> result = getType().getShape();
  int64_t batchRank = result.size() - 2;
  int64_t loopCount = result.size() + 1;
  AffineExpr m = getAffineDimExpr(batchRank, context);
  AffineExpr n = getAffineDimExpr(batchRank + 1, context);
  AffineExpr k = getAffineDimExpr(batchRank + 2, context);
  auto operandMap = [&](ArrayRef<int64_t> shape, AffineExpr rows, AffineExpr cols) {
    AffineMap batch = broadcastMap(shape.drop_back(2), result.drop_back(2), context);
    SmallVector<AffineExpr> exprs(batch.getResults());
    exprs.push_back(rows);
    exprs.push_back(cols);
    return AffineMap::get(loopCount, 0, exprs, context);
  };
  AffineMap lhs = getTransposeA() ? operandMap(getLhs().getType().getShape(), k, m)
                                  : operandMap(getLhs().getType().getShape(), m, k);
  AffineMap rhs = getTransposeB() ? operandMap(getRhs().getType().getShape(), n, k)
                                  : operandMap(getRhs().getType().getShape(), k, n);
  SmallVector<AffineExpr> resultExprs;
  for (int64_t dim = 0; dim < batchRank + 2; ++dim)
    resultExprs.push_back(getAffineDimExpr(dim, context));
  return {lhs, rhs, AffineMap::get(loopCount, 0, resultExprs, context)};
}

//===----------------------------------------------------------------------===//
// reduce: one loop per input dimension; the reduced ones are reductions.
//===----------------------------------------------------------------------===//

static shard::ReductionKind toShardReduction(ReduceKind kind) {
  switch (kind) {
  case ReduceKind::sum:
    return shard::ReductionKind::Sum;
  case ReduceKind::mean:
    return shard::ReductionKind::Average;
  case ReduceKind::max:
    return shard::ReductionKind::Max;
  case ReduceKind::min:
    return shard::ReductionKind::Min;
  case ReduceKind::prod:
    return shard::ReductionKind::Product;
  }
  llvm_unreachable("unknown reduce kind");
}

SmallVector<IteratorType> ReduceOp::getLoopIteratorTypes() {
  SmallVector<IteratorType> types = allParallel(getInput().getType());
  for (int64_t axis : getAxes())
    types[axis] = IteratorType::reduction;
  return types;
}

SmallVector<shard::ReductionKind> ReduceOp::getReductionLoopIteratorKinds() {
  return SmallVector<shard::ReductionKind>(getAxes().size(), toShardReduction(getKind()));
}

SmallVector<AffineMap> ReduceOp::getIndexingMaps() {
  MLIRContext *context = getContext();
  int64_t rank = getInput().getType().getRank();
  SmallVector<AffineExpr> resultExprs;
  for (int64_t dim = 0; dim < rank; ++dim) {
    if (!llvm::is_contained(getAxes(), dim))
      resultExprs.push_back(getAffineDimExpr(dim, context));
    else if (getKeepDims())
      resultExprs.push_back(getAffineConstantExpr(0, context));
  }
  return {AffineMap::getMultiDimIdentityMap(rank, context),
          AffineMap::get(rank, 0, resultExprs, context)};
}

//===----------------------------------------------------------------------===//
// softmax and layer_norm: the normalised dimensions couple all their
// elements, so they are reductions of no preset kind.
//===----------------------------------------------------------------------===//

SmallVector<IteratorType> SoftmaxOp::getLoopIteratorTypes() {
  SmallVector<IteratorType> types = allParallel(getType());
  types[getAxis()] = IteratorType::reduction;
  return types;
}

SmallVector<shard::ReductionKind> SoftmaxOp::getReductionLoopIteratorKinds() {
  return {shard::ReductionKind::Generic};
}

SmallVector<AffineMap> SoftmaxOp::getIndexingMaps() {
  AffineMap identity = AffineMap::getMultiDimIdentityMap(getType().getRank(), getContext());
  return {identity, identity};
}

SmallVector<IteratorType> LayerNormOp::getLoopIteratorTypes() {
  SmallVector<IteratorType> types = allParallel(getType());
  for (int64_t dim = getAxis(); dim < getType().getRank(); ++dim)
    types[dim] = IteratorType::reduction;
  return types;
}

SmallVector<shard::ReductionKind> LayerNormOp::getReductionLoopIteratorKinds() {
  return SmallVector<shard::ReductionKind>(getType().getRank() - getAxis(),
                                           shard::ReductionKind::Generic);
}

SmallVector<AffineMap> LayerNormOp::getIndexingMaps() {
  MLIRContext *context = getContext();
  int64_t rank = getType().getRank();
  AffineMap identity = AffineMap::getMultiDimIdentityMap(rank, context);
  SmallVector<AffineExpr> trailing;
  for (int64_t dim = getAxis(); dim < rank; ++dim)
    trailing.push_back(getAffineDimExpr(dim, context));
  AffineMap affine = AffineMap::get(rank, 0, trailing, context);
  SmallVector<AffineMap> maps = {identity, affine};
  if (getBias())
    maps.push_back(affine);
  maps.push_back(identity);
  return maps;
}

//===----------------------------------------------------------------------===//
// transpose: loops follow the result; the input reads them permuted.
//===----------------------------------------------------------------------===//

SmallVector<IteratorType> TransposeOp::getLoopIteratorTypes() { return allParallel(getType()); }

SmallVector<shard::ReductionKind> TransposeOp::getReductionLoopIteratorKinds() { return {}; }

SmallVector<AffineMap> TransposeOp::getIndexingMaps() {
  MLIRContext *context = getContext();
  ArrayRef<int64_t> permutation = getPermutation();
  SmallVector<AffineExpr> inputExprs(permutation.size());
  for (auto [loop, inputDim] : llvm::enumerate(permutation))
    inputExprs[inputDim] = getAffineDimExpr(loop, context);
  return {AffineMap::get(permutation.size(), 0, inputExprs, context),
          AffineMap::getMultiDimIdentityMap(permutation.size(), context)};
}
