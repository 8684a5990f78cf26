//===- NodeContext.cpp - what an import rule sees of one ONNX node --------===//
#include "compiler/Importer/NodeContext.h"
#include "dialects/Cleave/IR/RuleTables.h"
#include "dialects/Cleave/IR/TensorBuilder.h"

#include "onnx/onnx_pb.h"

#include "llvm/ADT/STLExtras.h"

#include <charconv>
#include <cstdlib>

using namespace mlir;
using namespace mlir::cleave;
using namespace mlir::cleave::importer;

static Location nodeLocation(const onnx::NodeProto &node, MLIRContext *context) {
  std::string name = node.name().empty() ? node.op_type() : node.name();
  return NameLoc::get(StringAttr::get(context, name));
}

NodeContext::NodeContext(const onnx::NodeProto &node, int64_t opset, ValueTable &table,
                         OpBuilder &builder)
    : node(node), opset(opset), table(table), builder(builder),
      loc(nodeLocation(node, builder.getContext())) {}

StringRef NodeContext::getOpType() const { return node.op_type(); }

std::string NodeContext::describe() const { return describeNode(node); }

std::string cleave::importer::describeNode(const onnx::NodeProto &node) {
  std::string text = node.op_type() + " node";
  if (!node.name().empty())
    text += " '" + node.name() + "'";
  else if (node.output_size() > 0)
    text += " producing '" + node.output(0) + "'";
  return text;
}

//===----------------------------------------------------------------------===//
// Inputs and outputs
//===----------------------------------------------------------------------===//

size_t NodeContext::getNumInputs() const { return node.input_size(); }

bool NodeContext::hasInput(size_t index) const {
  return index < getNumInputs() && !node.input(index).empty();
}

LogicalResult NodeContext::requireAllInputs() {
  if (getNumInputs() == 0)
    return fail("needs at least one input");
  for (size_t i = 0; i < getNumInputs(); ++i)
    if (!hasInput(i))
      return fail("input " + Twine(i) + " is empty, but " + node.op_type() +
                  " has no optional inputs");
  return success();
}

static const ImportedValue &lookupValue(const ValueTable &table, const std::string &name) {
  // The importer checks that every input exists before running a rule.
  return table.values.at(name);
}

RankedTensorType NodeContext::getInputType(size_t index) const {
  const ImportedValue &value = lookupValue(table, node.input(index));
  if (value.value)
    return cast<RankedTensorType>(value.value.getType());
  return value.constant->getType();
}

const HostTensor *NodeContext::getConstantInput(size_t index) const {
  if (!hasInput(index))
    return nullptr;
  const ImportedValue &value = lookupValue(table, node.input(index));
  return value.constant ? &*value.constant : nullptr;
}

bool NodeContext::allInputsConstant() const {
  for (size_t i = 0; i < getNumInputs(); ++i)
    if (hasInput(i) && !getConstantInput(i))
      return false;
  return true;
}

Value NodeContext::getInput(size_t index) {
  ImportedValue &value = table.values.at(node.input(index));
  if (!value.value) {
    // Materialise at the top of the function so that every later user sees it.
    OpBuilder::InsertionGuard guard(builder);
    Block *body = builder.getInsertionBlock();
    builder.setInsertionPointToStart(body);
    value.value = ConstantOp::create(builder, loc, value.constant->toAttr());
  }
  return value.value;
}

FailureOr<std::vector<int64_t>> NodeContext::getConstantInts(size_t index, StringRef what) {
  const HostTensor *constant = getConstantInput(index);
  if (!constant) {
    (void)fail(Twine(what) + " (input " + Twine(index) + ", '" +
               (hasInput(index) ? node.input(index) : std::string()) +
               "') must be known at compile time; Cleave needs static shapes, so compute "
               "it from constants or shapes only");
    return failure();
  }
  return constant->toInts();
}

FailureOr<std::vector<int64_t>> NodeContext::getConstantShape(size_t index, StringRef what) {
  FailureOr<std::vector<int64_t>> shape = getConstantInts(index, what);
  if (failed(shape))
    return failure();
  if (!getElementCount(*shape)) {
    (void)fail(Twine(what) + " (input " + Twine(index) +
               ") has a negative dimension or more elements than int64 can count");
    return failure();
  }
  return shape;
}

FailureOr<std::vector<int64_t>> NodeContext::getAttrOrConstantInts(bool fromAttribute,
                                                                   StringRef name, size_t index,
                                                                   StringRef what) {
  if (fromAttribute)
    return getAttrInts(name);
  if (!hasInput(index))
    return std::vector<int64_t>();
  return getConstantInts(index, what);
}

FailureOr<double> NodeContext::getConstantScalar(size_t index, StringRef what) {
  const HostTensor *constant = getConstantInput(index);
  if (!constant) {
    (void)fail(Twine(what) + " (input " + Twine(index) + ", '" +
               (hasInput(index) ? node.input(index) : std::string()) +
               "') must be known at compile time");
    return failure();
  }
  if (constant->getNumElements() != 1) {
    (void)fail(Twine(what) + " (input " + Twine(index) + ") must hold one value, not " +
               Twine(constant->getNumElements()));
    return failure();
  }
  double value = constant->getDouble(0);
  return constant->getElementType().isF32() ? asWrittenFloat(value) : value;
}

size_t NodeContext::getNumOutputs() const { return node.output_size(); }

bool NodeContext::hasOutput(size_t index) const {
  return index < getNumOutputs() && !node.output(index).empty();
}

void NodeContext::setOutput(size_t index, Value value) {
  if (!hasOutput(index))
    return;
  table.values[node.output(index)] = ImportedValue{value, std::nullopt};
}

void NodeContext::setOutput(size_t index, HostTensor value) {
  if (!hasOutput(index))
    return;
  table.values[node.output(index)] = ImportedValue{Value(), std::move(value)};
}

LogicalResult NodeContext::setOutput(size_t index, FailureOr<Value> value) {
  if (failed(value))
    return failure();
  setOutput(index, *value);
  return success();
}

//===----------------------------------------------------------------------===//
// Attributes
//===----------------------------------------------------------------------===//

const onnx::AttributeProto *NodeContext::findAttr(StringRef name) const {
  for (const onnx::AttributeProto &attr : node.attribute())
    if (attr.name() == name)
      return &attr;
  return nullptr;
}

int64_t NodeContext::getAttrInt(StringRef name, int64_t defaultValue) const {
  const onnx::AttributeProto *attr = findAttr(name);
  return attr ? attr->i() : defaultValue;
}

double NodeContext::getAttrFloat(StringRef name, double defaultValue) const {
  const onnx::AttributeProto *attr = findAttr(name);
  return attr ? asWrittenFloat(attr->f()) : defaultValue;
}

std::vector<int64_t> NodeContext::getAttrInts(StringRef name,
                                              std::vector<int64_t> defaultValue) const {
  const onnx::AttributeProto *attr = findAttr(name);
  if (!attr)
    return defaultValue;
  return std::vector<int64_t>(attr->ints().begin(), attr->ints().end());
}

std::string NodeContext::getAttrString(StringRef name, const std::string &defaultValue) const {
  const onnx::AttributeProto *attr = findAttr(name);
  return attr ? attr->s() : defaultValue;
}

LogicalResult NodeContext::fail(const Twine &message) {
  if (error.empty())
    error = describe() + ": " + message.str();
  return failure();
}

FailureOr<int64_t> NodeContext::normalizeAxis(int64_t axis, int64_t rank, StringRef what) {
  int64_t normalized = axis < 0 ? axis + rank : axis;
  if (normalized < 0 || normalized >= rank) {
    (void)fail(Twine(what) + " " + Twine(axis) + " is out of range for a rank-" + Twine(rank) +
               " input");
    return failure();
  }
  return normalized;
}

//===----------------------------------------------------------------------===//
// IR helpers
//===----------------------------------------------------------------------===//

Value NodeContext::constant(const HostTensor &value) {
  return ConstantOp::create(builder, loc, value.toAttr());
}

Value NodeContext::scalar(Type elementType, double value) {
  HostTensor tensor(elementType, {});
  tensor.setDouble(0, value);
  return constant(tensor);
}

static ArrayRef<int64_t> shapeOf(Value value) {
  return cast<RankedTensorType>(value.getType()).getShape();
}

static Type elementTypeOf(Value value) {
  return cast<RankedTensorType>(value.getType()).getElementType();
}

static std::string shapeText(ArrayRef<int64_t> shape) {
  std::string text = "[";
  for (auto [i, size] : llvm::enumerate(shape))
    text += (i ? ", " : "") + std::to_string(size);
  return text + "]";
}

/// Why `lhs` and `rhs` cannot be operands of one broadcasting op, or
/// nothing when they can: the checks binary() and compare() share.
static std::optional<std::string> whyNotBroadcast(Value lhs, Value rhs) {
  std::vector<int64_t> shape;
  if (!broadcastShapes(shapeOf(lhs), shapeOf(rhs), shape))
    return "input shapes " + shapeText(shapeOf(lhs)) + " and " + shapeText(shapeOf(rhs)) +
           " do not broadcast";
  if (elementTypeOf(lhs) != elementTypeOf(rhs))
    return std::string("inputs have different element types");
  return std::nullopt;
}

FailureOr<Value> NodeContext::binary(BinaryKind kind, Value lhs, Value rhs) {
  if (std::optional<std::string> why = whyNotBroadcast(lhs, rhs))
    return fail(*why);
  return TensorBuilder(builder, loc).binary(kind, lhs, rhs);
}

FailureOr<Value> NodeContext::compare(CompareKind kind, Value lhs, Value rhs) {
  if (std::optional<std::string> why = whyNotBroadcast(lhs, rhs))
    return fail(*why);
  return TensorBuilder(builder, loc).compare(kind, lhs, rhs);
}

FailureOr<Value> NodeContext::accumulate(Value sum, Value term) {
  if (!sum)
    return term;
  return binary(BinaryKind::add, sum, term);
}

FailureOr<Value> NodeContext::select(Value condition, Value onTrue, Value onFalse) {
  std::vector<int64_t> partial, shape;
  if (!broadcastShapes(shapeOf(condition), shapeOf(onTrue), partial) ||
      !broadcastShapes(partial, shapeOf(onFalse), shape))
    return fail("condition and branch shapes do not broadcast");
  if (elementTypeOf(onTrue) != elementTypeOf(onFalse))
    return fail("branches have different element types");
  return TensorBuilder(builder, loc).select(condition, onTrue, onFalse);
}

// The result types are TensorBuilder's, as for the IR the passes build.
Value NodeContext::unary(UnaryKind kind, Value input) {
  return TensorBuilder(builder, loc).unary(kind, input);
}

Value NodeContext::convert(Value input, Type elementType) {
  return TensorBuilder(builder, loc).convert(input, elementType);
}

Value NodeContext::reshape(Value input, ArrayRef<int64_t> shape) {
  return TensorBuilder(builder, loc).reshape(input, shape);
}

Value NodeContext::transpose(Value input, ArrayRef<int64_t> permutation) {
  return TensorBuilder(builder, loc).transpose(input, permutation);
}

Value NodeContext::broadcastTo(Value input, ArrayRef<int64_t> shape) {
  return TensorBuilder(builder, loc).broadcastTo(input, shape);
}

Value NodeContext::reduce(ReduceKind kind, Value input, ArrayRef<int64_t> axes, bool keepDims) {
  // Unlike TensorBuilder::reduce, no axes still builds a (copying) reduce.
  auto type =
      RankedTensorType::get(reducedShape(shapeOf(input), axes, keepDims), elementTypeOf(input));
  return ReduceOp::create(builder, loc, type, kind, input, axes, keepDims);
}

//===----------------------------------------------------------------------===//
// Rule table and types
//===----------------------------------------------------------------------===//

void RuleTable::add(StringRef opType, ImportRule rule) { rules[opType.str()] = std::move(rule); }

const ImportRule *RuleTable::lookup(StringRef opType) const {
  auto it = rules.find(opType);
  return it == rules.end() ? nullptr : &it->second;
}

std::vector<std::string> RuleTable::getOpTypes() const {
  std::vector<std::string> names;
  for (const auto &entry : rules)
    names.push_back(entry.first);
  return names;
}

const RuleTable &cleave::importer::getRuleTable() {
  static const RuleTable table = buildRuleTable<RuleTable>(
      {registerElementwiseRules, registerShapeRules, registerLinearRules,
       registerNormalizationRules, registerReductionRules, registerConvolutionRules,
       registerActivationRules, registerIndexingRules, registerPaddingRules, registerCumSumRules,
       registerEinsumRules, registerMathFunctionRules, registerRearrangeRules, registerWindowRules,
       registerChannelNormalizationRules, registerGatherScatterRules, registerLossRules,
       registerResizeRules});
  return table;
}

Type cleave::importer::convertElementType(int32_t onnxType, MLIRContext *context) {
  Builder b(context);
  // Unsigned integers and complex numbers have no cleave element type.
  const std::pair<int32_t, Type> supported[] = {
      {onnx::TensorProto::FLOAT, b.getF32Type()},   {onnx::TensorProto::DOUBLE, b.getF64Type()},
      {onnx::TensorProto::FLOAT16, b.getF16Type()}, {onnx::TensorProto::BFLOAT16, b.getBF16Type()},
      {onnx::TensorProto::INT64, b.getI64Type()},   {onnx::TensorProto::INT32, b.getI32Type()},
      {onnx::TensorProto::INT16, b.getI16Type()},   {onnx::TensorProto::INT8, b.getI8Type()},
      {onnx::TensorProto::BOOL, b.getI1Type()},
  };
  for (auto [known, type] : supported)
    if (known == onnxType)
      return type;
  return Type();
}

double cleave::importer::asWrittenFloat(double value) {
  char text[32];
  auto [end, error] = std::to_chars(text, text + sizeof(text), static_cast<float>(value));
  if (error != std::errc())
    return value;
  *end = '\0';
  return std::strtod(text, nullptr);
}

std::string cleave::importer::onnxTypeName(int32_t onnxType) {
  if (!onnx::TensorProto::DataType_IsValid(onnxType))
    return "type #" + std::to_string(onnxType);
  return onnx::TensorProto::DataType_Name(static_cast<onnx::TensorProto::DataType>(onnxType));
}
