//===- PipelineAxis.cpp - the grid's "pp" axis, inserted first ------------===//
#include "passes/Pipeline/PipelineAxis.h"

#include "dialects/Cleave/IR/CleaveDialect.h"

#include "mlir/Dialect/Shard/IR/ShardOps.h"

using namespace mlir;
using namespace mlir::cleave;

void mlir::cleave::dropSingleDeviceCollectives(ModuleOp module, func::FuncOp function) {
  // "--grid pp=S" alone plans each stage on a grid "dp=1": its collectives
  // (a gradient all-reduce over one device) copy and change nothing.
  for (auto grid : module.getOps<shard::GridOp>()) {
    llvm::ArrayRef<int64_t> oldShape = grid.getShape();
    llvm::SmallVector<Operation *> trivial;
    function.walk([&](Operation *op) {
      auto axes = op->getAttrOfType<DenseI16ArrayAttr>("grid_axes");
      if (!axes || !op->getDialect() || op->getDialect()->getNamespace() != "shard" ||
          op->getNumOperands() < 1 || op->getNumResults() != 1 ||
          op->getOperand(0).getType() != op->getResult(0).getType())
        return;
      int64_t devices = 1;
      for (int16_t axis : axes.asArrayRef())
        devices *= axis < static_cast<int16_t>(oldShape.size()) ? oldShape[axis] : 0;
      if (devices == 1)
        trivial.push_back(op);
    });
    for (Operation *op : trivial) {
      op->getResult(0).replaceAllUsesWith(op->getOperand(0));
      op->erase();
    }
  }
}

LogicalResult mlir::cleave::insertPipelineAxis(ModuleOp module, func::FuncOp function,
                                               int64_t stages, std::string &gridName) {
  for (auto grid : module.getOps<shard::GridOp>()) {
    if (gridName.empty())
      gridName = grid.getSymName().str();
    llvm::SmallVector<int64_t> shape = {stages};
    llvm::append_range(shape, grid.getShape());
    grid.setShape(shape);
    llvm::SmallVector<Attribute> names = {StringAttr::get(module.getContext(), "pp")};
    if (auto old = grid->getAttrOfType<ArrayAttr>(CleaveDialect::kAxisNamesAttrName))
      llvm::append_range(names, old.getValue());
    grid->setAttr(CleaveDialect::kAxisNamesAttrName, ArrayAttr::get(module.getContext(), names));
  }
  if (gridName.empty())
    return function.emitOpError() << "has no shard.grid: run the shard pipeline's partition "
                                     "before cleave-pipeline-unroll";
  MLIRContext *context = module.getContext();
  auto shiftAxes = [&](Attribute attribute) -> Attribute {
    if (auto axes = dyn_cast<DenseI16ArrayAttr>(attribute)) {
      llvm::SmallVector<int16_t> shifted;
      for (int16_t axis : axes.asArrayRef())
        shifted.push_back(static_cast<int16_t>(axis + 1));
      return DenseI16ArrayAttr::get(context, shifted);
    }
    if (auto array = dyn_cast<shard::GridAxesArrayAttr>(attribute)) {
      llvm::SmallVector<shard::GridAxesAttr> dims;
      for (shard::GridAxesAttr dim : array.getAxes()) {
        llvm::SmallVector<int16_t> shifted;
        for (int16_t axis : dim.asArrayRef())
          shifted.push_back(static_cast<int16_t>(axis + 1));
        dims.push_back(DenseI16ArrayAttr::get(context, shifted));
      }
      return shard::GridAxesArrayAttr::get(context, dims);
    }
    return {};
  };
  function.walk([&](Operation *op) {
    for (NamedAttribute attribute : op->getAttrs())
      if (op->getDialect() && op->getDialect()->getNamespace() == "shard" &&
          attribute.getName() == "grid_axes") {
        if (Attribute shifted = shiftAxes(attribute.getValue()))
          op->setAttr(attribute.getName(), shifted);
      } else if (isa<shard::GridAxesArrayAttr>(attribute.getValue())) {
        op->setAttr(attribute.getName(), shiftAxes(attribute.getValue()));
      }
  });
  auto shiftAll = [&](ArrayAttr all) -> ArrayAttr {
    if (!all)
      return all;
    llvm::SmallVector<Attribute> result;
    for (Attribute entry : all) {
      auto dictionary = cast<DictionaryAttr>(entry);
      NamedAttrList list(dictionary);
      if (Attribute sharding = dictionary.get(CleaveDialect::kShardingAttrName))
        if (Attribute shifted = shiftAxes(sharding))
          list.set(CleaveDialect::kShardingAttrName, shifted);
      result.push_back(list.getDictionary(context));
    }
    return ArrayAttr::get(context, result);
  };
  function.setAllArgAttrs(shiftAll(function.getAllArgAttrs()));
  function.setAllResultAttrs(shiftAll(function.getAllResultAttrs()));
  return success();
}
