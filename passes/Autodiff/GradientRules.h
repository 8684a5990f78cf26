//===- GradientRules.h - one gradient rule per cleave op ------------------===//
//
// Reverse-mode autodiff asks each op for the gradients of its operands given
// the gradients of its results. The rules live in a table keyed by op, one
// file per op family (the same split as the importer's rules), so adding an
// op means adding its rule beside its family, never editing a switch.
//
//===----------------------------------------------------------------------===//
#ifndef CLEAVE_PASSES_AUTODIFF_GRADIENTRULES_H
#define CLEAVE_PASSES_AUTODIFF_GRADIENTRULES_H

#include "dialects/Cleave/IR/TensorBuilder.h"

#include "llvm/ADT/DenseMap.h"

#include <functional>

namespace mlir::cleave::autodiff {

/// What a rule sees: the op, the gradients of its results and which
/// operands need a gradient at all (a rule builds nothing for the others).
class GradientContext {
public:
  GradientContext(TensorBuilder &builder, Operation *op, ArrayRef<Value> resultGrads,
                  ArrayRef<bool> operandNeedsGrad)
      : builder(builder), op(op), resultGrads(resultGrads), operandNeedsGrad(operandNeedsGrad),
        operandGrads(op->getNumOperands()) {}

  TensorBuilder &b() { return builder; }
  template <typename OpT> OpT getOp() { return cast<OpT>(op); }
  Operation *getOperation() { return op; }
  /// Gradient of result `index`, or null if that result does not reach the loss.
  Value resultGrad(unsigned index = 0) const { return resultGrads[index]; }
  bool needs(unsigned operand) const { return operandNeedsGrad[operand]; }
  void setGrad(unsigned operand, Value grad) {
    if (needs(operand))
      operandGrads[operand] = grad;
  }
  ArrayRef<Value> getOperandGrads() const { return operandGrads; }

private:
  TensorBuilder &builder;
  Operation *op;
  ArrayRef<Value> resultGrads;
  ArrayRef<bool> operandNeedsGrad;
  SmallVector<Value> operandGrads;
};

using GradientRule = std::function<void(GradientContext &)>;

class GradientTable {
public:
  template <typename OpT> void add(GradientRule rule) {
    rules[TypeID::get<OpT>()] = std::move(rule);
  }
  /// A rule that takes its op already cast, as a rewrite pattern does.
  template <typename OpT> void add(void (*rule)(GradientContext &, OpT)) {
    add<OpT>([rule](GradientContext &ctx) { rule(ctx, ctx.getOp<OpT>()); });
  }
  const GradientRule *lookup(Operation *op) const;

private:
  llvm::DenseMap<TypeID, GradientRule> rules;
};

// One registration function per *Gradients.cpp file.
void registerElementwiseGradients(GradientTable &table);
void registerLinearAlgebraGradients(GradientTable &table);
void registerNormalizationGradients(GradientTable &table);
void registerDataMovementGradients(GradientTable &table);
void registerConvolutionGradients(GradientTable &table);

/// The table the functions above fill, built once.
const GradientTable &getGradientTable();

} // namespace mlir::cleave::autodiff

#endif // CLEAVE_PASSES_AUTODIFF_GRADIENTRULES_H
