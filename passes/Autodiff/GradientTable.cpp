//===- GradientTable.cpp - the table of gradient rules --------------------===//
#include "passes/Autodiff/GradientRules.h"

using namespace mlir;
using namespace mlir::cleave::autodiff;

const GradientRule *GradientTable::lookup(Operation *op) const {
  std::optional<RegisteredOperationName> name = op->getRegisteredInfo();
  if (!name)
    return nullptr;
  auto it = rules.find(name->getTypeID());
  return it == rules.end() ? nullptr : &it->second;
}

const GradientTable &mlir::cleave::autodiff::getGradientTable() {
  static const GradientTable table = [] {
    GradientTable rules;
    registerElementwiseGradients(rules);
    registerLinearAlgebraGradients(rules);
    registerNormalizationGradients(rules);
    registerDataMovementGradients(rules);
    registerConvolutionGradients(rules);
    return rules;
  }();
  return table;
}
