//===- TrainStepAttrs.h - reading the roles of function arguments ---------===//
//
// The training passes hand functions to each other; the role of every
// argument and result is carried by the cleave argument/result attributes
// (see CleaveBase.td). These helpers read and write them.
//
//===----------------------------------------------------------------------===//
#ifndef CLEAVE_PASSES_TRAINSTEPATTRS_H
#define CLEAVE_PASSES_TRAINSTEPATTRS_H

#include "dialects/Cleave/IR/CleaveOps.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/BuiltinOps.h"

namespace mlir::cleave {

/// The function @`name` of `module`; where there is none, emits `missing`
/// (which names the pass and what to run first) and returns null.
inline func::FuncOp lookupFunctionOrEmit(ModuleOp module, llvm::StringRef name,
                                         const llvm::Twine &missing) {
  auto function = module.lookupSymbol<func::FuncOp>(name);
  if (!function)
    module.emitError(missing);
  return function;
}

/// Makes `function` return `results`, with `resultAttrs`, in place of
/// what its return op returned; its type follows.
inline void replaceResults(func::FuncOp function, ValueRange results,
                           ArrayRef<DictionaryAttr> resultAttrs) {
  Operation *returnOp = function.getBody().front().getTerminator();
  OpBuilder builder(returnOp);
  func::ReturnOp::create(builder, returnOp->getLoc(), results);
  returnOp->erase();
  function.setType(
      builder.getFunctionType(function.getArgumentTypes(), ValueRange(results).getTypes()));
  function.setAllResultAttrs(resultAttrs);
}

/// The parameter attribute of argument `index`, or null.
inline ParamAttr getParamAttr(func::FuncOp function, unsigned index) {
  return function.getArgAttrOfType<ParamAttr>(index, CleaveDialect::kParamAttrName);
}

inline bool isTrainableParam(func::FuncOp function, unsigned index) {
  ParamAttr param = getParamAttr(function, index);
  return param && param.getKind() == ParamKind::trainable;
}

/// Index of the result marked as the loss, or -1.
inline int findLossResult(func::FuncOp function) {
  for (unsigned i = 0; i < function.getNumResults(); ++i)
    if (function.getResultAttr(i, CleaveDialect::kLossAttrName))
      return i;
  return -1;
}

/// The op that computes the loss result, or null: where the forward pass
/// ends and the backward begins.
inline Operation *findLossOp(func::FuncOp function) {
  int loss = findLossResult(function);
  return loss < 0 ? nullptr
                  : function.getBody().front().getTerminator()->getOperand(loss).getDefiningOp();
}

/// The argument index a result overwrites (`cleave.updates`), or -1.
inline int64_t getUpdatedArgument(func::FuncOp function, unsigned result) {
  auto attr = function.getResultAttrOfType<IntegerAttr>(result, CleaveDialect::kUpdatesAttrName);
  return attr ? attr.getInt() : -1;
}

/// The argument index whose gradient a result is (`cleave.grad_of`), or -1.
inline int64_t getGradientOf(func::FuncOp function, unsigned result) {
  auto attr = function.getResultAttrOfType<IntegerAttr>(result, CleaveDialect::kGradOfAttrName);
  return attr ? attr.getInt() : -1;
}

} // namespace mlir::cleave

#endif // CLEAVE_PASSES_TRAINSTEPATTRS_H
