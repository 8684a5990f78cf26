//===- RuleTable.cpp - the table of emission rules and their context ------===//
#include "compiler/Codegen/Rules.h"

#include "dialects/Cleave/IR/RuleTables.h"

#include "llvm/Support/FormatVariadic.h"

#include <cmath>

using namespace mlir;
using namespace mlir::cleave;
using namespace mlir::cleave::codegen;

const CallRule *RuleTable::lookupCall(Operation *op) const { return lookupOpRule(calls, op); }

const ExpressionRule *RuleTable::lookupExpression(Operation *op) const {
  return lookupOpRule(expressions, op);
}

const RuleTable &mlir::cleave::codegen::getRuleTable() {
  static const RuleTable table = buildRuleTable<RuleTable>(
      {registerElementwiseExpressions, registerLinearAlgebraCalls, registerNormalizationCalls,
       registerDataMovementCalls, registerConvolutionCalls, registerLossCalls,
       registerCollectiveCalls, registerTransferCalls});
  return table;
}

//===----------------------------------------------------------------------===//
// Contexts
//===----------------------------------------------------------------------===//

std::string CallContext::ptr(Value value) {
  if (!failedPointer) {
    FailureOr<std::string> name = pointerOf(value); // reports the error on the op
    if (succeeded(name))
      return *name;
    failedPointer = true;
  }
  return "<no storage>";
}

std::string CallContext::optionalPtr(Value value) {
  return value.use_empty() ? std::string("nullptr") : ptr(value);
}

void CallContext::shapeArray(StringRef name, ArrayRef<int64_t> values) {
  stream << "    const int64_t " << name << "[] = {" << (values.empty() ? "0" : shapeList(values))
         << "};\n";
}

void CallContext::addScratch(std::string expression, bool once) {
  if (once && llvm::is_contained(scratch, expression))
    return;
  scratch.push_back(std::move(expression));
}

LogicalResult CallContext::requireF32(Value value) {
  if (!typeOf(value).getElementType().isF32())
    return op->emitOpError() << "is only generated for f32 tensors so far";
  return success();
}

bool ExpressionContext::isFloatResult() const {
  return isa<FloatType>(typeOf(op->getResult(0)).getElementType());
}

std::string ExpressionContext::literal(double value) const {
  return floatLiteral(value, resultType == "float");
}

//===----------------------------------------------------------------------===//
// Helpers
//===----------------------------------------------------------------------===//

int64_t mlir::cleave::codegen::product(ArrayRef<int64_t> shape) {
  int64_t count = 1;
  for (int64_t size : shape)
    count *= size;
  return count;
}

std::string mlir::cleave::codegen::shapeList(ArrayRef<int64_t> values) {
  std::string text;
  llvm::raw_string_ostream os(text);
  llvm::interleaveComma(values, os);
  return text;
}

int64_t mlir::cleave::codegen::elementBytes(Value value) {
  return std::max<int64_t>(1, typeOf(value).getElementTypeBitWidth() / 8);
}

std::string mlir::cleave::codegen::outerNInner(ArrayRef<int64_t> shape, int64_t axis) {
  return std::to_string(product(shape.take_front(axis))) + ", " + std::to_string(shape[axis]) +
         ", " + std::to_string(product(shape.drop_front(axis + 1)));
}

std::string mlir::cleave::codegen::floatLiteral(double value, bool isFloat) {
  if (std::isnan(value))
    return isFloat ? "NAN" : "static_cast<double>(NAN)";
  if (std::isinf(value))
    return value > 0 ? "INFINITY" : "(-INFINITY)";
  std::string text = llvm::formatv("{0:e9}", value).str();
  return isFloat ? "(" + text + "f)" : "(" + text + ")";
}

FailureOr<std::string> mlir::cleave::codegen::cppElementType(Type type, Operation *where) {
  if (type.isF32())
    return std::string("float");
  if (type.isF64())
    return std::string("double");
  if (type.isSignlessInteger(64))
    return std::string("int64_t");
  if (type.isSignlessInteger(32))
    return std::string("int32_t");
  if (type.isSignlessInteger(16))
    return std::string("int16_t");
  if (type.isSignlessInteger(8))
    return std::string("int8_t");
  if (type.isSignlessInteger(1))
    return std::string("uint8_t");
  return where->emitOpError()
         << "element type " << type
         << " is not supported by the generated code yet (f32, f64 and integers are)";
}
