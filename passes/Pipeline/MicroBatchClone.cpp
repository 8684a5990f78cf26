//===- MicroBatchClone.cpp - an op of the step, run on one micro-batch ----===//
#include "passes/Pipeline/MicroBatchClone.h"

#include "passes/Pipeline/MicroBatchShapes.h"

#include "dialects/Cleave/IR/CleaveDialect.h"

using namespace mlir;
using namespace mlir::cleave;

/// Part `m` of `parts` of `value` along `dim`.
Value MicroBatchCloner::slicePart(OpBuilder &builder, Value value, unsigned dim, int64_t parts,
                                  int64_t m) {
  auto type = cast<RankedTensorType>(value.getType());
  llvm::SmallVector<int64_t> shape(type.getShape());
  shape[dim] /= parts;
  llvm::SmallVector<int64_t> starts(type.getRank(), 0);
  starts[dim] = m * shape[dim];
  llvm::SmallVector<int64_t> strides(type.getRank(), 1);
  return SliceOp::create(
      builder, value.getLoc(), RankedTensorType::get(shape, type.getElementType()), value,
      builder.getDenseI64ArrayAttr(starts), builder.getDenseI64ArrayAttr(strides));
}

/// Clones `op` into micro-batch `m` with the types its (smaller) operands
/// give.
LogicalResult MicroBatchCloner::clone(OpBuilder &builder, Operation *op, IRMapping &mapping,
                                      int64_t m) {
  if (auto mask = dyn_cast<RandomMaskOp>(op))
    return cloneMask(builder, mask, mapping, m);
  llvm::SmallVector<Value> operands;
  for (Value operand : op->getOperands())
    operands.push_back(mapping.lookupOrDefault(operand));
  FailureOr<MicroBatchTypes> types = inferMicroBatchTypes(op, ValueRange(operands).getTypes());
  if (failed(types))
    return failure();
  for (auto [index, slices] : llvm::enumerate(types->slices))
    for (auto [dim, parts] : slices)
      operands[index] = slicePart(builder, operands[index], dim, parts, m % parts);
  // A reduce-mean's gradient scales by the 1/count of the full batch, a
  // constant autodiff computed: a micro-batch's mean has fewer rows.
  if (types->meanParts > 1)
    if (auto id = op->getAttrOfType<IntegerAttr>(CleaveDialect::kForwardIdAttrName))
      meanParts[{m, id.getInt()}] = types->meanParts;
  if (auto of = op->getAttrOfType<IntegerAttr>(CleaveDialect::kBackwardOfAttrName))
    if (int64_t parts = meanParts.lookup({m, of.getInt()}); parts > 1 && isa<BinaryOp>(op))
      for (Value &operand : operands)
        if (auto constant = operand.getDefiningOp<ConstantOp>())
          if (auto splat = dyn_cast<SplatElementsAttr>(constant.getValue());
              splat && isa<FloatType>(splat.getElementType())) {
            double value = splat.getSplatValue<APFloat>().convertToDouble();
            operand = ConstantOp::create(
                builder, constant.getLoc(),
                DenseElementsAttr::get(
                    splat.getType(),
                    builder.getFloatAttr(splat.getElementType(), value * static_cast<double>(parts))
                        .getValue()));
          }
  Operation *clone = builder.clone(*op);
  clone->setOperands(operands);
  for (auto [result, type] : llvm::zip(clone->getResults(), types->results))
    result.setType(type);
  mapping.map(op->getResults(), clone->getResults());
  return success();
}

/// A dropout mask of micro-batch m: the shape of what it multiplies, a
/// stream of its own.
LogicalResult MicroBatchCloner::cloneMask(OpBuilder &builder, RandomMaskOp mask, IRMapping &mapping,
                                          int64_t m) {
  Type type = mask.getType();
  for (Operation *user : mask->getUsers())
    for (Value other : user->getOperands())
      if (other != mask.getResult() && other.getType() == mask.getType() &&
          mapping.contains(other)) {
        type = mapping.lookup(other).getType();
        break;
      }
  auto clone = cast<RandomMaskOp>(builder.clone(*mask));
  clone->getResult(0).setType(type);
  clone.setStream(mask.getStream() * microBatches + m);
  mapping.map(mask.getResult(), clone.getResult());
  return success();
}
