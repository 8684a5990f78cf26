//===- NodeContext.h - what an import rule sees of one ONNX node ----------===//
//
// Import rules are small functions, one per ONNX op type (rules/*.cpp). Each
// gets a NodeContext: the node's inputs (IR values, or compile-time
// constants that fold), its attributes with their ONNX defaults, a builder,
// and a way to fail with a message that names the node.
//
//===----------------------------------------------------------------------===//
#ifndef CLEAVE_COMPILER_IMPORTER_NODECONTEXT_H
#define CLEAVE_COMPILER_IMPORTER_NODECONTEXT_H

#include "compiler/Importer/HostTensor.h"
#include "dialects/Cleave/IR/CleaveOps.h"

#include "mlir/IR/Builders.h"
#include "mlir/Support/LLVM.h"

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

namespace onnx {
class NodeProto;
class AttributeProto;
class TensorProto;
} // namespace onnx

namespace mlir::cleave::importer {

/// What an ONNX value name stands for while importing: IR, a compile-time
/// constant, or both once a constant has been materialised.
struct ImportedValue {
  mlir::Value value;
  std::optional<HostTensor> constant;
};

/// The values known so far, by ONNX name, and the builder to add IR with.
struct ValueTable {
  std::unordered_map<std::string, ImportedValue> values;
};

/// Results of at most this many elements fold at import time; larger ones
/// stay as IR so that no big tensor is ever baked into the program.
constexpr int64_t kMaxFoldedElements = 1 << 16;

/// Whether a result of `shape` is small enough to fold.
inline bool fitsFolding(llvm::ArrayRef<int64_t> shape) {
  std::optional<int64_t> count = getElementCount(shape);
  return count && *count <= kMaxFoldedElements;
}

class NodeContext {
public:
  NodeContext(const onnx::NodeProto &node, int64_t opset, ValueTable &table,
              mlir::OpBuilder &builder);

  const onnx::NodeProto &getNode() const { return node; }
  llvm::StringRef getOpType() const;
  std::string describe() const;
  int64_t getOpset() const { return opset; }
  mlir::OpBuilder &getBuilder() { return builder; }
  mlir::Location getLoc() const { return loc; }
  mlir::MLIRContext *getContext() { return builder.getContext(); }

  // Inputs. ONNX marks an omitted optional input with an empty name.
  size_t getNumInputs() const;
  bool hasInput(size_t index) const;
  mlir::RankedTensorType getInputType(size_t index) const;
  llvm::ArrayRef<int64_t> getInputShape(size_t index) const {
    return getInputType(index).getShape();
  }
  /// Fails unless the node has at least one input and none is omitted (the
  /// checker lets an empty name through among variadic inputs).
  mlir::LogicalResult requireAllInputs();
  const HostTensor *getConstantInput(size_t index) const;
  bool allInputsConstant() const;
  /// The input as IR; a compile-time constant becomes a cleave.constant.
  mlir::Value getInput(size_t index);
  /// An input that must be known at import time (a shape, axes, pads).
  mlir::FailureOr<std::vector<int64_t>> getConstantInts(size_t index, llvm::StringRef what);
  /// A constant input holding a shape: every dimension >= 0 and the element
  /// count within int64.
  mlir::FailureOr<std::vector<int64_t>> getConstantShape(size_t index, llvm::StringRef what);
  /// An int list that older opsets give as attribute `name` and newer ones
  /// as constant input `index` (axes, split sizes): the attribute when
  /// `fromAttribute`, else the input, or empty when the node has neither.
  mlir::FailureOr<std::vector<int64_t>> getAttrOrConstantInts(bool fromAttribute,
                                                              llvm::StringRef name, size_t index,
                                                              llvm::StringRef what);
  /// A one-element input that must be known at import time (a ratio, a
  /// bound, a mode flag).
  mlir::FailureOr<double> getConstantScalar(size_t index, llvm::StringRef what);

  // Outputs.
  size_t getNumOutputs() const;
  bool hasOutput(size_t index) const;
  void setOutput(size_t index, mlir::Value value);
  void setOutput(size_t index, HostTensor value);
  /// Sets output `index` to a value whose building may have failed (the
  /// checked helpers below), passing the failure on: a rule can end with
  /// `return ctx.setOutput(0, ctx.binary(...));`.
  mlir::LogicalResult setOutput(size_t index, mlir::FailureOr<mlir::Value> value);

  // Attributes, with the defaults the ONNX spec gives.
  const onnx::AttributeProto *findAttr(llvm::StringRef name) const;
  bool hasAttr(llvm::StringRef name) const { return findAttr(name) != nullptr; }
  int64_t getAttrInt(llvm::StringRef name, int64_t defaultValue) const;
  /// ONNX keeps float attributes in float32; this returns the decimal the
  /// exporter wrote (1e-05, not 9.99999974e-06): see asWrittenFloat.
  double getAttrFloat(llvm::StringRef name, double defaultValue) const;
  std::vector<int64_t> getAttrInts(llvm::StringRef name,
                                   std::vector<int64_t> defaultValue = {}) const;
  std::string getAttrString(llvm::StringRef name, const std::string &defaultValue) const;

  /// Reports `message` about this node; returns failure for the rule to return.
  mlir::LogicalResult fail(const llvm::Twine &message);
  /// ONNX allows negative axes counted from the end.
  mlir::FailureOr<int64_t> normalizeAxis(int64_t axis, int64_t rank, llvm::StringRef what = "axis");

  // IR helpers that compute result types.
  mlir::Value constant(const HostTensor &value);
  mlir::Value scalar(mlir::Type elementType, double value);
  mlir::FailureOr<mlir::Value> binary(mlir::cleave::BinaryKind kind, mlir::Value lhs,
                                      mlir::Value rhs);
  mlir::FailureOr<mlir::Value> compare(mlir::cleave::CompareKind kind, mlir::Value lhs,
                                       mlir::Value rhs);
  /// `sum` + `term`, or `term` alone when `sum` is null: one step of a
  /// running sum that starts empty.
  mlir::FailureOr<mlir::Value> accumulate(mlir::Value sum, mlir::Value term);
  mlir::FailureOr<mlir::Value> select(mlir::Value condition, mlir::Value onTrue,
                                      mlir::Value onFalse);
  mlir::Value unary(mlir::cleave::UnaryKind kind, mlir::Value input);
  mlir::Value convert(mlir::Value input, mlir::Type elementType);
  mlir::Value reshape(mlir::Value input, llvm::ArrayRef<int64_t> shape);
  mlir::Value transpose(mlir::Value input, llvm::ArrayRef<int64_t> permutation);
  mlir::Value broadcastTo(mlir::Value input, llvm::ArrayRef<int64_t> shape);
  mlir::Value reduce(mlir::cleave::ReduceKind kind, mlir::Value input, llvm::ArrayRef<int64_t> axes,
                     bool keepDims);

  /// The error message recorded by fail(), if any.
  const std::string &getError() const { return error; }

private:
  const onnx::NodeProto &node;
  int64_t opset;
  ValueTable &table;
  mlir::OpBuilder &builder;
  mlir::Location loc;
  std::string error;
};

using ImportRule = std::function<mlir::LogicalResult(NodeContext &)>;

/// ONNX op type -> the rule that imports it.
class RuleTable {
public:
  void add(llvm::StringRef opType, ImportRule rule);
  const ImportRule *lookup(llvm::StringRef opType) const;
  std::vector<std::string> getOpTypes() const;

private:
  std::map<std::string, ImportRule, std::less<>> rules;
};

/// Every import rule, built once.
const RuleTable &getRuleTable();

// One registration function per rules/*.cpp file.
void registerElementwiseRules(RuleTable &table);
void registerShapeRules(RuleTable &table);
void registerLinearRules(RuleTable &table);
void registerNormalizationRules(RuleTable &table);
void registerReductionRules(RuleTable &table);
void registerConvolutionRules(RuleTable &table);
void registerActivationRules(RuleTable &table);
void registerIndexingRules(RuleTable &table);
void registerPaddingRules(RuleTable &table);
void registerCumSumRules(RuleTable &table);
void registerEinsumRules(RuleTable &table);
void registerMathFunctionRules(RuleTable &table);
void registerRearrangeRules(RuleTable &table);
void registerWindowRules(RuleTable &table);
void registerChannelNormalizationRules(RuleTable &table);
void registerGatherScatterRules(RuleTable &table);
void registerLossRules(RuleTable &table);
void registerResizeRules(RuleTable &table);

/// The shortest decimal that reads back as the same float32 as `value`.
/// Exporters store Python doubles (eps=1e-5, momentum=0.1) as float32;
/// carried into f64 attributes they should read as written, and
/// arithmetic on them (1 - 0.9) should not show float32 noise.
double asWrittenFloat(double value);

/// "Relu node 'name'", or "Relu node producing 'y'" for an unnamed node:
/// how every message refers to a node.
std::string describeNode(const onnx::NodeProto &node);

/// ONNX data type -> MLIR element type, or null when unsupported.
mlir::Type convertElementType(int32_t onnxType, mlir::MLIRContext *context);
/// Name of an ONNX data type (FLOAT, INT64, ...).
std::string onnxTypeName(int32_t onnxType);

} // namespace mlir::cleave::importer

#endif // CLEAVE_COMPILER_IMPORTER_NODECONTEXT_H
