//===- CleaveOps.cpp - verifiers and folders of the cleave ops ------------===//
#include "dialects/Cleave/IR/CleaveOps.h"
#include "dialects/Cleave/IR/TensorBuilder.h"
#include "dialects/Cleave/IR/WindowShapes.h"

#include "mlir/Dialect/Traits.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/Matchers.h"
#include "llvm/ADT/STLExtras.h"

using namespace mlir;
using namespace mlir::cleave;

//===----------------------------------------------------------------------===//
// Shared checks
//===----------------------------------------------------------------------===//

static std::string shapeString(ArrayRef<int64_t> shape) {
  std::string text = "[";
  llvm::raw_string_ostream os(text);
  llvm::interleaveComma(shape, os);
  os << "]";
  return text;
}

/// Checks that `result` is the NumPy broadcast of `operands`' shapes.
static LogicalResult verifyBroadcastResult(Operation *op, TypeRange operands, ShapedType result) {
  SmallVector<int64_t> shape;
  for (Type type : operands) {
    SmallVector<int64_t> next;
    if (!OpTrait::util::getBroadcastedShape(shape, cast<ShapedType>(type).getShape(), next))
      return op->emitOpError() << "operand shapes do not broadcast: " << shapeString(shape)
                               << " vs " << shapeString(cast<ShapedType>(type).getShape());
    shape = std::move(next);
  }
  if (ArrayRef<int64_t>(shape) != result.getShape())
    return op->emitOpError() << "result shape " << shapeString(result.getShape())
                             << " is not the broadcast shape " << shapeString(shape);
  return success();
}

static bool isBool(Type elementType) { return elementType.isSignlessInteger(1); }

/// Checks that `op`'s result has the shape its operands give, `expected`.
static LogicalResult verifyResultShape(Operation *op, ArrayRef<int64_t> expected) {
  ArrayRef<int64_t> actual = cast<ShapedType>(op->getResult(0).getType()).getShape();
  if (actual != expected)
    return op->emitOpError() << "result shape " << shapeString(actual) << " should be "
                             << shapeString(expected);
  return success();
}

/// Checks that an op which only moves or selects elements keeps their type.
static LogicalResult verifyKeepsElementType(Operation *op, Value input) {
  if (cast<ShapedType>(input.getType()).getElementType() !=
      cast<ShapedType>(op->getResult(0).getType()).getElementType())
    return op->emitOpError() << "result must keep the input element type";
  return success();
}

static LogicalResult verifyAxis(Operation *op, int64_t axis, int64_t rank,
                                StringRef what = "axis") {
  if (axis < 0 || axis >= rank)
    return op->emitOpError() << what << " " << axis << " is out of range for rank " << rank;
  return success();
}

//===----------------------------------------------------------------------===//
// Leaves
//===----------------------------------------------------------------------===//

// ConstantOp needs no verifier of its own: AllTypesMatch<["value", "result"]>
// already makes the value's type the result type.

OpFoldResult ConstantOp::fold(FoldAdaptor) { return getValue(); }

LogicalResult IotaOp::verify() {
  RankedTensorType type = getType();
  if (type.getRank() != 1)
    return emitOpError() << "result must be 1-D, got rank " << type.getRank();
  if (isBool(type.getElementType()) || !(isa<IntegerType, FloatType>(type.getElementType())))
    return emitOpError() << "result element type must be a number, got " << type.getElementType();
  if (getStep() == 0)
    return emitOpError() << "step must not be zero";
  return success();
}

//===----------------------------------------------------------------------===//
// Elementwise
//===----------------------------------------------------------------------===//

LogicalResult UnaryOp::verify() {
  Type elementType = getType().getElementType();
  switch (getKind()) {
  case UnaryKind::logical_not:
    if (!isBool(elementType))
      return emitOpError() << "logical_not needs i1 elements, got " << elementType;
    return success();
  case UnaryKind::neg:
  case UnaryKind::abs:
  case UnaryKind::sign:
  case UnaryKind::relu:
  case UnaryKind::identity:
    if (isBool(elementType))
      return emitOpError() << stringifyUnaryKind(getKind()) << " needs numbers, got i1";
    return success();
  default:
    if (!isa<FloatType>(elementType))
      return emitOpError() << stringifyUnaryKind(getKind()) << " needs float elements, got "
                           << elementType;
    return success();
  }
}

LogicalResult BinaryOp::verify() {
  Type elementType = getType().getElementType();
  if (getLhs().getType().getElementType() != elementType ||
      getRhs().getType().getElementType() != elementType)
    return emitOpError() << "operands and result must share one element type";
  bool logical = getKind() == BinaryKind::logical_and || getKind() == BinaryKind::logical_or ||
                 getKind() == BinaryKind::logical_xor;
  if (logical != isBool(elementType))
    return emitOpError() << stringifyBinaryKind(getKind())
                         << (logical ? " needs i1 elements" : " needs numbers, not i1");
  return verifyBroadcastResult(*this, getOperandTypes(), getType());
}

LogicalResult CompareOp::verify() {
  if (getLhs().getType().getElementType() != getRhs().getType().getElementType())
    return emitOpError() << "operands must share one element type";
  return verifyBroadcastResult(*this, getOperandTypes(), getType());
}

LogicalResult SelectOp::verify() {
  Type elementType = getType().getElementType();
  if (getOnTrue().getType().getElementType() != elementType ||
      getOnFalse().getType().getElementType() != elementType)
    return emitOpError() << "on_true, on_false and result must share one element type";
  return verifyBroadcastResult(*this, getOperandTypes(), getType());
}

LogicalResult CastOp::verify() {
  if (getInput().getType().getShape() != getType().getShape())
    return emitOpError() << "cast must keep the shape: " << getInput().getType() << " to "
                         << getType();
  return success();
}

OpFoldResult CastOp::fold(FoldAdaptor) {
  return getInput().getType() == getType() ? getInput() : OpFoldResult();
}

LogicalResult DropoutOp::verify() {
  double ratio = getRatio().convertToDouble();
  if (!(ratio >= 0.0 && ratio < 1.0))
    return emitOpError() << "ratio must lie in [0, 1), got " << ratio;
  return success();
}

//===----------------------------------------------------------------------===//
// Contractions and normalisations
//===----------------------------------------------------------------------===//

int64_t MatmulOp::getContractionSize() {
  ArrayRef<int64_t> lhs = getLhs().getType().getShape();
  return getTransposeA() ? lhs[lhs.size() - 2] : lhs.back();
}

LogicalResult MatmulOp::verify() {
  ArrayRef<int64_t> lhs = getLhs().getType().getShape();
  ArrayRef<int64_t> rhs = getRhs().getType().getShape();
  ArrayRef<int64_t> result = getType().getShape();
  if (lhs.size() < 2 || rhs.size() < 2)
    return emitOpError() << "operands need rank >= 2 (the importer reshapes vectors), got "
                         << lhs.size() << " and " << rhs.size();
  Type elementType = getType().getElementType();
  if (getLhs().getType().getElementType() != elementType ||
      getRhs().getType().getElementType() != elementType)
    return emitOpError() << "operands and result must share one element type";
  int64_t m = getTransposeA() ? lhs.back() : lhs[lhs.size() - 2];
  int64_t kLhs = getTransposeA() ? lhs[lhs.size() - 2] : lhs.back();
  int64_t kRhs = getTransposeB() ? rhs.back() : rhs[rhs.size() - 2];
  int64_t n = getTransposeB() ? rhs[rhs.size() - 2] : rhs.back();
  if (kLhs != kRhs)
    return emitOpError() << "contracted dimensions differ: " << kLhs << " vs " << kRhs;
  SmallVector<int64_t> batch;
  if (!OpTrait::util::getBroadcastedShape(lhs.drop_back(2), rhs.drop_back(2), batch))
    return emitOpError() << "batch dimensions do not broadcast: " << shapeString(lhs.drop_back(2))
                         << " vs " << shapeString(rhs.drop_back(2));
  batch.push_back(m);
  batch.push_back(n);
  if (ArrayRef<int64_t>(batch) != result)
    return emitOpError() << "result shape " << shapeString(result) << " should be "
                         << shapeString(batch);
  return success();
}

LogicalResult ReduceOp::verify() {
  ArrayRef<int64_t> input = getInput().getType().getShape();
  ArrayRef<int64_t> axes = getAxes();
  if (axes.empty())
    return emitOpError() << "needs at least one axis";
  for (auto [i, axis] : llvm::enumerate(axes)) {
    if (failed(verifyAxis(*this, axis, input.size())))
      return failure();
    if (i > 0 && axes[i - 1] >= axis)
      return emitOpError() << "axes must be sorted and unique";
  }
  if (failed(verifyKeepsElementType(*this, getInput())))
    return failure();
  return verifyResultShape(*this, reducedShape(input, axes, getKeepDims()));
}

LogicalResult SoftmaxOp::verify() { return verifyAxis(*this, getAxis(), getType().getRank()); }

LogicalResult LayerNormOp::verify() {
  RankedTensorType input = getInput().getType();
  if (failed(verifyAxis(*this, getAxis(), input.getRank())))
    return failure();
  ArrayRef<int64_t> normalized = input.getShape().drop_front(getAxis());
  Type elementType = input.getElementType();
  if (getScale().getType().getElementType() != elementType ||
      (getBias() && cast<RankedTensorType>(getBias().getType()).getElementType() != elementType))
    return emitOpError() << "scale and bias must have the input element type " << elementType;
  if (getScale().getType().getShape() != normalized)
    return emitOpError() << "scale shape " << shapeString(getScale().getType().getShape())
                         << " must equal the normalised dimensions " << shapeString(normalized);
  if (getBias() && cast<RankedTensorType>(getBias().getType()).getShape() != normalized)
    return emitOpError() << "bias shape must equal the normalised dimensions "
                         << shapeString(normalized);
  if (getType() != input)
    return emitOpError() << "result type must equal the input type";
  if (getEpsilon().convertToDouble() < 0)
    return emitOpError() << "epsilon must not be negative";
  return success();
}

LogicalResult BatchNormOp::verify() {
  RankedTensorType input = getInput().getType();
  if (input.getRank() < 2)
    return emitOpError() << "input needs rank >= 2 ([N, C, ...]), got " << input.getRank();
  int64_t channels = input.getDimSize(1);
  for (Value operand : getOperands().drop_front())
    if (cast<RankedTensorType>(operand.getType()).getShape() != ArrayRef<int64_t>{channels})
      return emitOpError() << "scale, bias and running statistics must have shape [" << channels
                           << "], got " << operand.getType();
  if (getResult().getType() != input)
    return emitOpError() << "result type must equal the input type";
  if (getNewRunningMean().getType() != getRunningMean().getType() ||
      getNewRunningVar().getType() != getRunningVar().getType())
    return emitOpError() << "updated statistics must keep their types";
  double momentum = getMomentum().convertToDouble();
  if (momentum < 0 || momentum > 1)
    return emitOpError() << "momentum must lie in [0, 1], got " << momentum;
  if (getEpsilon().convertToDouble() < 0)
    return emitOpError() << "epsilon must not be negative";
  return success();
}

//===----------------------------------------------------------------------===//
// Data movement
//===----------------------------------------------------------------------===//

LogicalResult GatherOp::verify() {
  ArrayRef<int64_t> input = getInput().getType().getShape();
  if (failed(verifyAxis(*this, getAxis(), input.size())))
    return failure();
  SmallVector<int64_t> expected(input.take_front(getAxis()));
  llvm::append_range(expected, getIndices().getType().getShape());
  llvm::append_range(expected, input.drop_front(getAxis() + 1));
  if (failed(verifyResultShape(*this, expected)))
    return failure();
  return verifyKeepsElementType(*this, getInput());
}

LogicalResult ReshapeOp::verify() {
  if (getInput().getType().getNumElements() != getType().getNumElements())
    return emitOpError() << "element count changes: " << getInput().getType() << " to "
                         << getType();
  return verifyKeepsElementType(*this, getInput());
}

OpFoldResult ReshapeOp::fold(FoldAdaptor adaptor) {
  if (getInput().getType() == getType())
    return getInput();
  // A chain of reshapes is one reshape of the first input.
  if (auto producer = getInput().getDefiningOp<ReshapeOp>()) {
    getInputMutable().assign(producer.getInput());
    return getResult();
  }
  if (auto constant = dyn_cast_if_present<DenseElementsAttr>(adaptor.getInput()))
    return constant.reshape(getType());
  return {};
}

LogicalResult BroadcastOp::verify() {
  ArrayRef<int64_t> input = getInput().getType().getShape();
  ArrayRef<int64_t> result = getType().getShape();
  if (input.size() > result.size())
    return emitOpError() << "cannot broadcast rank " << input.size() << " to rank "
                         << result.size();
  size_t offset = result.size() - input.size();
  for (auto [i, size] : llvm::enumerate(input))
    if (size != 1 && size != result[offset + i])
      return emitOpError() << "input " << shapeString(input) << " does not broadcast to "
                           << shapeString(result);
  return verifyKeepsElementType(*this, getInput());
}

OpFoldResult BroadcastOp::fold(FoldAdaptor adaptor) {
  if (getInput().getType() == getType())
    return getInput();
  if (auto splat = dyn_cast_if_present<SplatElementsAttr>(adaptor.getInput()))
    return SplatElementsAttr::get(getType(), splat.getSplatValue<Attribute>());
  return {};
}

LogicalResult TransposeOp::verify() {
  ArrayRef<int64_t> input = getInput().getType().getShape();
  ArrayRef<int64_t> permutation = getPermutation();
  if (permutation.size() != input.size())
    return emitOpError() << "permutation has " << permutation.size() << " entries for rank "
                         << input.size();
  SmallVector<bool> seen(input.size(), false);
  SmallVector<int64_t> expected;
  for (int64_t dim : permutation) {
    if (dim < 0 || dim >= (int64_t)input.size() || seen[dim])
      return emitOpError() << "permutation " << shapeString(permutation)
                           << " is not a permutation of 0.." << input.size() - 1;
    seen[dim] = true;
    expected.push_back(input[dim]);
  }
  if (failed(verifyResultShape(*this, expected)))
    return failure();
  return verifyKeepsElementType(*this, getInput());
}

OpFoldResult TransposeOp::fold(FoldAdaptor) {
  for (auto [i, dim] : llvm::enumerate(getPermutation()))
    if ((int64_t)i != dim)
      return {};
  return getInput();
}

LogicalResult SliceOp::verify() {
  ArrayRef<int64_t> input = getInput().getType().getShape();
  ArrayRef<int64_t> result = getType().getShape();
  if (getStarts().size() != input.size() || getStrides().size() != input.size() ||
      result.size() != input.size())
    return emitOpError() << "starts, strides and result need one entry per input dimension ("
                         << input.size() << ")";
  for (size_t dim = 0; dim < input.size(); ++dim) {
    int64_t start = getStarts()[dim], stride = getStrides()[dim], size = result[dim];
    if (stride <= 0)
      return emitOpError() << "stride of dimension " << dim << " must be positive, got " << stride;
    if (start < 0 || (size > 0 && start + (size - 1) * stride >= input[dim]) ||
        (size == 0 && start > input[dim]))
      return emitOpError() << "dimension " << dim << " reads past the input: start " << start
                           << ", " << size << " elements, stride " << stride << ", size "
                           << input[dim];
  }
  return verifyKeepsElementType(*this, getInput());
}

LogicalResult ConcatOp::verify() {
  if (getInputs().empty())
    return emitOpError() << "needs at least one input";
  int64_t rank = getType().getRank();
  int64_t axis = getAxis();
  if (failed(verifyAxis(*this, axis, rank)))
    return failure();
  int64_t joined = 0;
  for (Value input : getInputs()) {
    auto type = cast<RankedTensorType>(input.getType());
    if (type.getRank() != rank || type.getElementType() != getType().getElementType())
      return emitOpError() << "inputs must share the result's rank and element type, got " << type;
    for (int64_t dim = 0; dim < rank; ++dim)
      if (dim != axis && type.getDimSize(dim) != getType().getDimSize(dim))
        return emitOpError() << "input " << type << " differs from the result outside axis "
                             << axis;
    joined += type.getDimSize(axis);
  }
  if (joined != getType().getDimSize(axis))
    return emitOpError() << "result axis size " << getType().getDimSize(axis)
                         << " should be the sum of the inputs' sizes " << joined;
  return success();
}

//===----------------------------------------------------------------------===//
// Convolutional networks
//===----------------------------------------------------------------------===//

/// Checks the window attributes of conv2d/pool2d on the NCHW `input`:
/// counts, signs, and that the (dilated) window fits into the padded input.
/// `windowName` names where the window sizes come from in messages.
static LogicalResult verifyWindowAttrs(Operation *op, ArrayRef<int64_t> input, StringRef windowName,
                                       ArrayRef<int64_t> window, ArrayRef<int64_t> strides,
                                       ArrayRef<int64_t> padding, ArrayRef<int64_t> dilations) {
  auto checkCount = [&](StringRef name, ArrayRef<int64_t> values, size_t count) -> LogicalResult {
    if (values.size() == count)
      return success();
    return op->emitOpError() << name << " needs " << count << " entries, got " << values.size();
  };
  if (failed(checkCount(windowName, window, 2)) || failed(checkCount("strides", strides, 2)) ||
      failed(checkCount("dilations", dilations, 2)) ||
      failed(checkCount("padding ([top, left, bottom, right])", padding, 4)))
    return failure();
  for (int64_t v : strides)
    if (v <= 0)
      return op->emitOpError() << "strides must be positive, got " << shapeString(strides);
  for (int64_t v : dilations)
    if (v <= 0)
      return op->emitOpError() << "dilations must be positive, got " << shapeString(dilations);
  for (int64_t v : window)
    if (v <= 0)
      return op->emitOpError() << windowName << " sizes must be positive, got "
                               << shapeString(window);
  for (int64_t v : padding)
    if (v < 0)
      return op->emitOpError() << "padding must not be negative, got " << shapeString(padding);
  for (int i = 0; i < 2; ++i) {
    int64_t span = dilations[i] * (window[i] - 1) + 1;
    int64_t padded = input[2 + i] + padding[i] + padding[2 + i];
    if (span > padded)
      return op->emitOpError() << "window of " << span << " elements along spatial dimension " << i
                               << " is larger than the padded input (" << padded << ")";
  }
  return success();
}

LogicalResult Conv2dOp::verify() {
  ArrayRef<int64_t> input = getInput().getType().getShape();
  ArrayRef<int64_t> filter = getFilter().getType().getShape();
  if (input.size() != 4 || filter.size() != 4)
    return emitOpError() << "input and filter must have rank 4 (NCHW, FCHW)";
  Type elementType = getInput().getType().getElementType();
  if (getFilter().getType().getElementType() != elementType ||
      (getBias() && cast<RankedTensorType>(getBias().getType()).getElementType() != elementType) ||
      getType().getElementType() != elementType)
    return emitOpError() << "filter, bias and result must have the input element type "
                         << elementType;
  if (failed(verifyWindowAttrs(*this, input, "filter window", filter.drop_front(2), getStrides(),
                               getPadding(), getDilations())))
    return failure();
  int64_t groups = getGroups();
  if (groups <= 0)
    return emitOpError() << "groups must be positive, got " << groups;
  if (input[1] % groups != 0 || filter[0] % groups != 0)
    return emitOpError() << "groups " << groups << " must divide input channels " << input[1]
                         << " and filters " << filter[0];
  if (filter[1] * groups != input[1])
    return emitOpError() << "filter has " << filter[1] << " channels per group; input has "
                         << input[1] << " channels in " << groups << " groups";
  if (getBias() &&
      cast<RankedTensorType>(getBias().getType()).getShape() != ArrayRef<int64_t>{filter[0]})
    return emitOpError() << "bias must have shape [" << filter[0] << "]";
  SmallVector<int64_t> expected = {input[0], filter[0]};
  for (int i = 0; i < 2; ++i)
    expected.push_back(windowOutputSize(input[2 + i], filter[2 + i], getStrides()[i],
                                        getPadding()[i], getPadding()[2 + i], getDilations()[i],
                                        /*ceilMode=*/false));
  return verifyResultShape(*this, expected);
}

LogicalResult Pool2dOp::verify() {
  ArrayRef<int64_t> input = getInput().getType().getShape();
  if (input.size() != 4)
    return emitOpError() << "input must have rank 4 (NCHW)";
  if (failed(verifyKeepsElementType(*this, getInput())))
    return failure();
  SmallVector<int64_t> unitDilations = {1, 1};
  if (failed(verifyWindowAttrs(*this, input, "kernel", getKernel(), getStrides(), getPadding(),
                               unitDilations)))
    return failure();
  for (int i = 0; i < 2; ++i)
    if (getPadding()[i] >= getKernel()[i] || getPadding()[2 + i] >= getKernel()[i])
      return emitOpError() << "padding must be smaller than the window";
  return verifyResultShape(
      *this, poolOutputShape(input, getKernel(), getStrides(), getPadding(), getCeilMode()));
}

#define GET_OP_CLASSES
#include "dialects/Cleave/IR/CleaveOps.cpp.inc"
