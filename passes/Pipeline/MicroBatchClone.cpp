//===- MicroBatchClone.cpp - an op of the step, run on one micro-batch ----===//
#include "passes/Pipeline/MicroBatchClone.h"

#include "passes/Pipeline/MicroBatchShapes.h"

#include "dialects/Cleave/IR/CleaveDialect.h"

#include <optional>

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

/// The constant splat float operand `index` of `operands`, if it is one.
static SplatElementsAttr getFloatSplat(ArrayRef<Value> operands, unsigned index) {
  auto constant = operands[index].getDefiningOp<ConstantOp>();
  if (!constant)
    return {};
  auto splat = dyn_cast<SplatElementsAttr>(constant.getValue());
  return splat && isa<FloatType>(splat.getElementType()) ? splat : SplatElementsAttr();
}

/// Multiplies the mean gradient `binary` computes by `parts`: one constant
/// factor of a product (the smallest: the 1/count scalar, not the ones
/// canonicalisation made of the broadcast), or the constant divisor of a
/// quotient.
static void rescaleMeanGradient(OpBuilder &builder, BinaryOp binary,
                                llvm::SmallVectorImpl<Value> &operands, double parts) {
  std::optional<unsigned> chosen;
  double factor = parts;
  if (binary.getKind() == BinaryKind::mul) {
    for (unsigned index = 0; index < operands.size(); ++index)
      if (SplatElementsAttr splat = getFloatSplat(operands, index))
        if (!chosen || splat.getNumElements() < getFloatSplat(operands, *chosen).getNumElements())
          chosen = index;
  } else if (binary.getKind() == BinaryKind::div && getFloatSplat(operands, 1)) {
    chosen = 1;
    factor = 1.0 / parts;
  }
  if (!chosen)
    return;
  SplatElementsAttr splat = getFloatSplat(operands, *chosen);
  double value = splat.getSplatValue<APFloat>().convertToDouble() * factor;
  operands[*chosen] = ConstantOp::create(
      builder, operands[*chosen].getLoc(),
      DenseElementsAttr::get(splat.getType(),
                             builder.getFloatAttr(splat.getElementType(), value).getValue()));
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
    if (int64_t parts = meanParts.lookup({m, of.getInt()}); parts > 1)
      if (auto binary = dyn_cast<BinaryOp>(op))
        rescaleMeanGradient(builder, binary, operands, static_cast<double>(parts));
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
