//===- ShardingAttrs.cpp - a sharding plan as IR attributes ---------------===//
#include "passes/Analysis/Sharding/ShardingAttrs.h"

#include "dialects/Cleave/IR/CleaveDialect.h"

#include "mlir/IR/Builders.h"

using namespace mlir;
using namespace mlir::cleave;

shard::GridAxesArrayAttr mlir::cleave::toAttr(MLIRContext *context, ArrayRef<AxisList> dims) {
  SmallVector<DenseI16ArrayAttr> attrs;
  for (const AxisList &axes : dims)
    attrs.push_back(DenseI16ArrayAttr::get(context, axes));
  return shard::GridAxesArrayAttr::get(context, attrs);
}

SmallVector<AxisList, 4> mlir::cleave::fromAttr(shard::GridAxesArrayAttr attr) {
  SmallVector<AxisList, 4> dims;
  for (DenseI16ArrayAttr axes : attr.getAxes())
    dims.push_back(AxisList(axes.asArrayRef()));
  return dims;
}

shard::GridAxesArrayAttr mlir::cleave::getFactorAxesAttr(Operation *op) {
  return op->getAttrOfType<shard::GridAxesArrayAttr>(CleaveDialect::kFactorAxesAttrName);
}

void mlir::cleave::setFactorAxes(Operation *op, ArrayRef<AxisList> axes) {
  if (llvm::any_of(axes, [](const AxisList &a) { return !a.empty(); }))
    op->setAttr(CleaveDialect::kFactorAxesAttrName, toAttr(op->getContext(), axes));
  else
    op->removeAttr(CleaveDialect::kFactorAxesAttrName);
}

static std::optional<SmallVector<AxisList, 4>> readSharding(shard::GridAxesArrayAttr attr) {
  if (!attr)
    return std::nullopt;
  return fromAttr(attr);
}

std::optional<SmallVector<AxisList, 4>> mlir::cleave::getArgSharding(func::FuncOp function,
                                                                     unsigned index) {
  return readSharding(
      function.getArgAttrOfType<shard::GridAxesArrayAttr>(index, CleaveDialect::kShardingAttrName));
}

std::optional<SmallVector<AxisList, 4>> mlir::cleave::getResultSharding(func::FuncOp function,
                                                                        unsigned index) {
  return readSharding(function.getResultAttrOfType<shard::GridAxesArrayAttr>(
      index, CleaveDialect::kShardingAttrName));
}

void mlir::cleave::setArgSharding(func::FuncOp function, unsigned index, ArrayRef<AxisList> dims) {
  function.setArgAttr(index, CleaveDialect::kShardingAttrName, toAttr(function.getContext(), dims));
}

void mlir::cleave::setResultSharding(func::FuncOp function, unsigned index,
                                     ArrayRef<AxisList> dims) {
  function.setResultAttr(index, CleaveDialect::kShardingAttrName,
                         toAttr(function.getContext(), dims));
}

void mlir::cleave::setAxisNames(shard::GridOp grid, ArrayRef<std::string> names) {
  Builder builder(grid.getContext());
  SmallVector<Attribute> attrs;
  for (const std::string &name : names)
    attrs.push_back(builder.getStringAttr(name));
  grid->setAttr(CleaveDialect::kAxisNamesAttrName, builder.getArrayAttr(attrs));
}

void mlir::cleave::setPredictedStepSeconds(func::FuncOp function, double seconds) {
  Builder builder(function.getContext());
  function->setAttr(CleaveDialect::kPredictedStepSecondsAttrName, builder.getF64FloatAttr(seconds));
}
