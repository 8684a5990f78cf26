//===- Rules.h - one emission rule per op ---------------------------------===//
//
// Codegen asks each op of the schedule for its code: a library call (one
// statement block calling a runtime kernel or collective) or, for an op
// inside a fused loop, a scalar C++ expression of its operands' registers.
// The rules live in a table keyed by op, one file per op family (as the
// importer's and autodiff's rules), so adding an op means adding its rule
// beside its family, never editing a switch. Rules never branch on the
// target: they ask the CodegenTarget.
//
//===----------------------------------------------------------------------===//
#ifndef CLEAVE_COMPILER_CODEGEN_RULES_H
#define CLEAVE_COMPILER_CODEGEN_RULES_H

#include "compiler/Codegen/Target.h"

#include "mlir/IR/Operation.h"
#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/SmallVector.h"
#include "llvm/ADT/StringExtras.h"

#include <functional>
#include <string>

namespace mlir::cleave::codegen {

//===----------------------------------------------------------------------===//
// Library calls
//===----------------------------------------------------------------------===//

/// What a library-call rule sees: the op, the target, a way to name each
/// value's storage, and the statements it writes (inside the op's block).
class CallContext {
public:
  using PointerFn = llvm::function_ref<FailureOr<std::string>(Value)>;
  CallContext(Operation *op, const CodegenTarget &target, Precision precision, PointerFn pointerOf,
              SmallVectorImpl<std::string> &scratch)
      : op(op), target(target), precision(precision), pointerOf(pointerOf), scratch(scratch),
        stream(text) {}

  Operation *getOperation() const { return op; }
  template <typename OpT> OpT getOp() const { return cast<OpT>(op); }
  const CodegenTarget &getTarget() const { return target; }
  bool isBf16() const { return precision == Precision::bf16; }
  /// "_bf16" under --precision bf16: the kernel variant with bf16 operands.
  std::string bf16Suffix() const { return isBf16() ? "_bf16" : ""; }

  /// The typed pointer to `value`'s storage. A value without storage is an
  /// error on the op (reported once by `pointerOf`); the emitter then drops
  /// the rule's statements and stops.
  std::string ptr(Value value);
  /// ptr(value), or "nullptr" when nothing reads `value` (an optional
  /// output the kernel may skip).
  std::string optionalPtr(Value value);

  raw_ostream &out() { return stream; }
  /// `    K::kernel(arguments...);`, the call of a runtime kernel: each
  /// argument as raw_ostream prints it (pointers, integers, C++ text).
  template <typename... Args> LogicalResult callKernel(StringRef kernel, const Args &...arguments) {
    llvm::ListSeparator separator;
    stream << "    K::" << kernel << "(";
    ((stream << separator << arguments), ...);
    stream << ");\n";
    return success();
  }
  /// `const int64_t name[] = {...};` in the block.
  void shapeArray(StringRef name, ArrayRef<int64_t> values);
  /// Scratch bytes the call needs, as a C++ expression; main() sizes the
  /// scratch for the largest. `once`: skip an expression already listed.
  void addScratch(std::string expression, bool once = false);
  /// Fails (with an error on the op) unless `value` is f32.
  LogicalResult requireF32(Value value);

  bool hasFailed() const { return failedPointer; }
  const std::string &getText() const { return text; }

private:
  Operation *op;
  const CodegenTarget &target;
  Precision precision;
  PointerFn pointerOf;
  SmallVectorImpl<std::string> &scratch;
  std::string text;
  llvm::raw_string_ostream stream;
  bool failedPointer = false;
};

using CallRule = std::function<LogicalResult(CallContext &)>;

//===----------------------------------------------------------------------===//
// Scalar expressions inside fused loops
//===----------------------------------------------------------------------===//

/// What an expression rule sees: the op, its result's C++ type, each
/// operand's register (or literal) and the loop's flat element index.
class ExpressionContext {
public:
  using RegisterFn = llvm::function_ref<std::string(Value)>;
  ExpressionContext(Operation *op, const CodegenTarget &target, StringRef resultType,
                    RegisterFn registerOf, StringRef flatIndex)
      : op(op), target(target), resultType(resultType), registerOf(registerOf),
        flatIndex(flatIndex) {}

  Operation *getOperation() const { return op; }
  template <typename OpT> OpT getOp() const { return cast<OpT>(op); }
  /// The register holding `value` (or its literal, for a splat constant).
  std::string reg(Value value) const { return registerOf(value); }
  /// The result's C++ element type ("float", "int64_t"...).
  StringRef type() const { return resultType; }
  bool isFloatResult() const;
  /// `value` as a literal of the result's type (f32 or f64).
  std::string literal(double value) const;
  /// C math function `function` ("log", "pow"...).
  std::string math(StringRef function) const { return target.mathFunction(function); }
  /// The same, in its vectorising variant for the result type where the
  /// target has one (CPU float exp and erf).
  std::string fastMath(StringRef function) const {
    return target.fastMathFunction(function, resultType == "float");
  }
  StringRef getFlatIndex() const { return flatIndex; }

private:
  Operation *op;
  const CodegenTarget &target;
  StringRef resultType;
  RegisterFn registerOf;
  StringRef flatIndex;
};

using ExpressionRule = std::function<FailureOr<std::string>(ExpressionContext &)>;

//===----------------------------------------------------------------------===//
// The table
//===----------------------------------------------------------------------===//

class RuleTable {
public:
  template <typename OpT> void addCall(CallRule rule) {
    calls[TypeID::get<OpT>()] = std::move(rule);
  }
  template <typename OpT> void addExpression(ExpressionRule rule) {
    expressions[TypeID::get<OpT>()] = std::move(rule);
  }
  /// Rules that take their op already cast, as a rewrite pattern does: each
  /// one's op class is its second parameter's type.
  template <typename... OpTs> void addCalls(LogicalResult (*...rules)(CallContext &, OpTs)) {
    (addCall<OpTs>([rule = rules](CallContext &ctx) { return rule(ctx, ctx.getOp<OpTs>()); }), ...);
  }
  template <typename... OpTs>
  void addExpressions(FailureOr<std::string> (*...rules)(ExpressionContext &, OpTs)) {
    (addExpression<OpTs>(
         [rule = rules](ExpressionContext &ctx) { return rule(ctx, ctx.getOp<OpTs>()); }),
     ...);
  }
  const CallRule *lookupCall(Operation *op) const;
  const ExpressionRule *lookupExpression(Operation *op) const;

private:
  llvm::DenseMap<TypeID, CallRule> calls;
  llvm::DenseMap<TypeID, ExpressionRule> expressions;
};

const RuleTable &getRuleTable();

void registerElementwiseExpressions(RuleTable &table);
void registerLinearAlgebraCalls(RuleTable &table);
void registerNormalizationCalls(RuleTable &table);
void registerDataMovementCalls(RuleTable &table);
void registerConvolutionCalls(RuleTable &table);
void registerLossCalls(RuleTable &table);
void registerCollectiveCalls(RuleTable &table);
void registerTransferCalls(RuleTable &table);

//===----------------------------------------------------------------------===//
// Helpers the rules share
//===----------------------------------------------------------------------===//

inline RankedTensorType typeOf(Value value) { return cast<RankedTensorType>(value.getType()); }
int64_t product(ArrayRef<int64_t> shape);
/// "1, 2, 3".
std::string shapeList(ArrayRef<int64_t> values);
/// Bytes of one element (i1 takes a byte).
int64_t elementBytes(Value value);
/// [outer, n, inner] around `axis` of `shape`, as "outer, n, inner".
std::string outerNInner(ArrayRef<int64_t> shape, int64_t axis);
/// A C++ literal of `value`: float (`isFloat`) or double.
std::string floatLiteral(double value, bool isFloat);
/// The C++ element type of `type`, or an error on `where`.
FailureOr<std::string> cppElementType(Type type, Operation *where);

} // namespace mlir::cleave::codegen

#endif // CLEAVE_COMPILER_CODEGEN_RULES_H
