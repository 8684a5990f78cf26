//===- GradientTable.cpp - the table of gradient rules --------------------===//
#include "passes/Autodiff/GradientRules.h"

#include "dialects/Cleave/IR/RuleTables.h"

using namespace mlir;
using namespace mlir::cleave;
using namespace mlir::cleave::autodiff;

const GradientRule *GradientTable::lookup(Operation *op) const { return lookupOpRule(rules, op); }

const GradientTable &mlir::cleave::autodiff::getGradientTable() {
  static const GradientTable table = buildRuleTable<GradientTable>(
      {registerElementwiseGradients, registerLinearAlgebraGradients, registerNormalizationGradients,
       registerDataMovementGradients, registerConvolutionGradients});
  return table;
}
