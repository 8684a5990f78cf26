//===- CleaveTrainingOps.cpp - verifiers and costs of the training ops ----===//
#include "dialects/Cleave/IR/CleaveOps.h"
#include "dialects/Cleave/IR/WindowShapes.h"

using namespace mlir;
using namespace mlir::cleave;

static constexpr int64_t kSoftmaxGradFlopsPerElement = 4;
static constexpr int64_t kNormGradFlopsPerElement = 12;
static constexpr int64_t kCrossEntropyFlopsPerElement = 4;

static LogicalResult verifyClassification(Operation *op, RankedTensorType logits,
                                          RankedTensorType labels) {
  if (logits.getRank() != 2 || labels.getRank() != 1 ||
      labels.getDimSize(0) != logits.getDimSize(0))
    return op->emitOpError() << "needs [N, C] logits and [N] labels, got " << logits << " and "
                             << labels;
  return success();
}

static LogicalResult verifyLabelSmoothing(Operation *op, double smoothing) {
  if (!(smoothing >= 0.0 && smoothing <= 1.0))
    return op->emitOpError() << "label_smoothing must lie in [0, 1], got " << smoothing;
  return success();
}

LogicalResult CrossEntropyOp::verify() {
  if (getType().getRank() != 0 ||
      getType().getElementType() != getLogits().getType().getElementType())
    return emitOpError() << "result must be a scalar of the logits' element type";
  if (failed(verifyLabelSmoothing(*this, getLabelSmoothing().convertToDouble())))
    return failure();
  return verifyClassification(*this, getLogits().getType(), getLabels().getType());
}

LogicalResult CrossEntropyGradOp::verify() {
  if (getType() != getLogits().getType())
    return emitOpError() << "result must have the logits' type";
  if (getResultGrad().getType().getRank() != 0 ||
      getResultGrad().getType().getElementType() != getLogits().getType().getElementType())
    return emitOpError() << "result_grad must be a scalar of the logits' element type";
  if (failed(verifyLabelSmoothing(*this, getLabelSmoothing().convertToDouble())))
    return failure();
  return verifyClassification(*this, getLogits().getType(), getLabels().getType());
}

LogicalResult RandomMaskOp::verify() {
  double keep = getKeepProbability().convertToDouble();
  if (!(keep > 0.0 && keep <= 1.0))
    return emitOpError() << "keep_probability must lie in (0, 1], got " << keep;
  return success();
}

LogicalResult SoftmaxGradOp::verify() {
  if (getResult().getType() != getResultGrad().getType() ||
      getInputGrad().getType() != getResult().getType())
    return emitOpError() << "result, result_grad and input_grad must share one type";
  // I64Attr getters return uint64_t: read the axis signed, so that a
  // negative one is reported as itself.
  int64_t axis = getAxis();
  if (axis < 0 || axis >= getResult().getType().getRank())
    return emitOpError() << "axis " << axis << " is out of range";
  return success();
}

/// Input, result gradient and input gradient share a type; the parameter
/// gradients have the scale's type.
static LogicalResult verifyNormGrad(Operation *op, RankedTensorType input, RankedTensorType scale,
                                    RankedTensorType resultGrad, TypeRange results) {
  if (resultGrad != input || results[0] != input)
    return op->emitOpError() << "input, result_grad and input_grad must share one type";
  if (results[1] != scale || results[2] != scale)
    return op->emitOpError() << "scale_grad and bias_grad must have the scale's type";
  return success();
}

LogicalResult LayerNormGradOp::verify() {
  RankedTensorType input = getInput().getType();
  int64_t axis = getAxis(); // signed: see SoftmaxGradOp::verify
  if (axis < 0 || axis >= input.getRank())
    return emitOpError() << "axis " << axis << " is out of range";
  if (getScale().getType().getShape() != input.getShape().drop_front(axis))
    return emitOpError() << "scale must have the normalised dimensions' shape";
  return verifyNormGrad(*this, input, getScale().getType(), getResultGrad().getType(),
                        getResultTypes());
}

LogicalResult BatchNormGradOp::verify() {
  RankedTensorType input = getInput().getType();
  if (input.getRank() < 2 ||
      getScale().getType().getShape() != ArrayRef<int64_t>{input.getDimSize(1)})
    return emitOpError() << "needs [N, C, ...] input and [C] scale";
  return verifyNormGrad(*this, input, getScale().getType(), getResultGrad().getType(),
                        getResultTypes());
}

LogicalResult ScatterAddOp::verify() {
  ArrayRef<int64_t> table = getType().getShape();
  int64_t axis = getAxis();
  if (axis < 0 || axis >= (int64_t)table.size())
    return emitOpError() << "axis " << axis << " is out of range";
  SmallVector<int64_t> gathered(table.take_front(axis));
  llvm::append_range(gathered, getIndices().getType().getShape());
  llvm::append_range(gathered, table.drop_front(axis + 1));
  if (ArrayRef<int64_t>(gathered) != getUpdates().getType().getShape())
    return emitOpError() << "updates must have the shape a gather from the result would have";
  if (getUpdates().getType().getElementType() != getType().getElementType())
    return emitOpError() << "updates and result must share one element type";
  return success();
}

LogicalResult SliceScatterOp::verify() {
  ArrayRef<int64_t> source = getSource().getType().getShape();
  ArrayRef<int64_t> result = getType().getShape();
  if (source.size() != result.size() || getStarts().size() != result.size() ||
      getStrides().size() != result.size())
    return emitOpError() << "source, result, starts and strides need one entry per dimension";
  for (size_t dim = 0; dim < result.size(); ++dim) {
    int64_t start = getStarts()[dim], stride = getStrides()[dim], size = source[dim];
    if (stride <= 0 || start < 0 || (size > 0 && start + (size - 1) * stride >= result[dim]))
      return emitOpError() << "dimension " << dim << " writes outside the result";
  }
  if (getSource().getType().getElementType() != getType().getElementType())
    return emitOpError() << "source and result must share one element type";
  return success();
}

/// What windowOutputSize needs: positive window sizes, strides and
/// dilations (a zero stride would divide by zero) and no negative padding.
/// The counts must have been checked.
static LogicalResult verifyWindowValues(Operation *op, ArrayRef<int64_t> window,
                                        ArrayRef<int64_t> strides, ArrayRef<int64_t> padding,
                                        ArrayRef<int64_t> dilations) {
  auto positive = [](ArrayRef<int64_t> values) {
    return llvm::all_of(values, [](int64_t v) { return v > 0; });
  };
  if (!positive(window) || !positive(strides) || !positive(dilations))
    return op->emitOpError() << "window sizes, strides and dilations must be positive";
  if (!llvm::all_of(padding, [](int64_t v) { return v >= 0; }))
    return op->emitOpError() << "padding must not be negative";
  return success();
}

/// The forward convolution's output shape for `input` and `filter`.
static SmallVector<int64_t> convOutputShape(ArrayRef<int64_t> input, ArrayRef<int64_t> filter,
                                            ArrayRef<int64_t> strides, ArrayRef<int64_t> padding,
                                            ArrayRef<int64_t> dilations) {
  SmallVector<int64_t> shape = {input[0], filter[0]};
  for (int i = 0; i < 2; ++i)
    shape.push_back(windowOutputSize(input[2 + i], filter[2 + i], strides[i], padding[i],
                                     padding[2 + i], dilations[i], false));
  return shape;
}

static LogicalResult verifyConvGrad(Operation *op, ArrayRef<int64_t> input,
                                    ArrayRef<int64_t> filter, ArrayRef<int64_t> resultGrad,
                                    ArrayRef<int64_t> strides, ArrayRef<int64_t> padding,
                                    ArrayRef<int64_t> dilations, int64_t groups) {
  if (input.size() != 4 || filter.size() != 4 || resultGrad.size() != 4 || strides.size() != 2 ||
      padding.size() != 4 || dilations.size() != 2)
    return op->emitOpError() << "needs rank-4 tensors, 2 strides, 4 paddings, 2 dilations";
  if (failed(verifyWindowValues(op, filter.drop_front(2), strides, padding, dilations)))
    return failure();
  if (groups <= 0 || filter[1] * groups != input[1])
    return op->emitOpError() << "filter channels times groups must equal input channels";
  if (filter[0] % groups != 0)
    return op->emitOpError() << "groups must divide the filter count";
  if (ArrayRef<int64_t>(convOutputShape(input, filter, strides, padding, dilations)) != resultGrad)
    return op->emitOpError() << "result_grad does not have the forward convolution's output shape";
  return success();
}

/// The forward convolution's tensors share one element type.
static LogicalResult verifyConvGradElementTypes(Operation *op) {
  Type element = cast<RankedTensorType>(op->getResult(0).getType()).getElementType();
  for (Type type : op->getOperandTypes())
    if (cast<RankedTensorType>(type).getElementType() != element)
      return op->emitOpError() << "operands and result must share one element type";
  return success();
}

LogicalResult Conv2dGradInputOp::verify() {
  if (failed(verifyConvGradElementTypes(*this)))
    return failure();
  return verifyConvGrad(*this, getType().getShape(), getFilter().getType().getShape(),
                        getResultGrad().getType().getShape(), getStrides(), getPadding(),
                        getDilations(), getGroups());
}

LogicalResult Conv2dGradFilterOp::verify() {
  if (failed(verifyConvGradElementTypes(*this)))
    return failure();
  return verifyConvGrad(*this, getInput().getType().getShape(), getType().getShape(),
                        getResultGrad().getType().getShape(), getStrides(), getPadding(),
                        getDilations(), getGroups());
}

LogicalResult Pool2dGradOp::verify() {
  ArrayRef<int64_t> input = getInput().getType().getShape();
  if (input.size() != 4 || getKernel().size() != 2 || getStrides().size() != 2 ||
      getPadding().size() != 4)
    return emitOpError() << "needs a rank-4 input, 2 window sizes, 2 strides and 4 paddings";
  SmallVector<int64_t> unitDilations = {1, 1};
  if (failed(verifyWindowValues(*this, getKernel(), getStrides(), getPadding(), unitDilations)))
    return failure();
  for (int i = 0; i < 2; ++i)
    if (getPadding()[i] >= getKernel()[i] || getPadding()[2 + i] >= getKernel()[i])
      return emitOpError() << "padding must be smaller than the window";
  if (ArrayRef<int64_t>(poolOutputShape(input, getKernel(), getStrides(), getPadding(),
                                        getCeilMode())) != getResultGrad().getType().getShape())
    return emitOpError() << "result_grad does not have the forward pooling's output shape";
  if (getType() != getInput().getType())
    return emitOpError() << "input_grad must have the input's type";
  if (getResultGrad().getType().getElementType() != getInput().getType().getElementType())
    return emitOpError() << "result_grad must have the input's element type";
  return success();
}

//===----------------------------------------------------------------------===//
// Costs
//===----------------------------------------------------------------------===//

int64_t CrossEntropyOp::getFlops() {
  return kCrossEntropyFlopsPerElement * getLogits().getType().getNumElements();
}
int64_t CrossEntropyGradOp::getFlops() {
  return kCrossEntropyFlopsPerElement * getLogits().getType().getNumElements();
}
int64_t SoftmaxGradOp::getFlops() {
  return kSoftmaxGradFlopsPerElement * getResult().getType().getNumElements();
}
int64_t LayerNormGradOp::getFlops() {
  return kNormGradFlopsPerElement * getInput().getType().getNumElements();
}
int64_t BatchNormGradOp::getFlops() {
  return kNormGradFlopsPerElement * getInput().getType().getNumElements();
}
int64_t ScatterAddOp::getFlops() { return 0; }
int64_t SliceScatterOp::getFlops() { return 0; }

// Both convolution gradients are matrix products as large as the forward.
int64_t Conv2dGradInputOp::getFlops() {
  ArrayRef<int64_t> filter = getFilter().getType().getShape();
  return 2 * getResultGrad().getType().getNumElements() * filter[1] * filter[2] * filter[3];
}
int64_t Conv2dGradFilterOp::getFlops() {
  ArrayRef<int64_t> filter = getType().getShape();
  return 2 * getResultGrad().getType().getNumElements() * filter[1] * filter[2] * filter[3];
}
int64_t Pool2dGradOp::getFlops() {
  return getResultGrad().getType().getNumElements() * getKernel()[0] * getKernel()[1];
}
