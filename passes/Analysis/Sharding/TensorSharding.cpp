//===- TensorSharding.cpp - tensor shardings over a device grid -----------===//
#include "passes/Analysis/Sharding/TensorSharding.h"

#include "dialects/Cleave/IR/CleaveDialect.h"
#include "dialects/Cleave/Interfaces/CostInterface.h"

#include "llvm/ADT/STLExtras.h"

using namespace mlir;
using namespace mlir::cleave;

int64_t GridInfo::devices() const {
  int64_t count = 1;
  for (int64_t size : shape)
    count *= size;
  return count;
}

int64_t GridInfo::axesSize(ArrayRef<int16_t> axes) const {
  int64_t size = 1;
  for (int16_t axis : axes)
    size *= shape[axis];
  return size;
}

std::string GridInfo::axesName(ArrayRef<int16_t> axes) const {
  if (axes.empty())
    return "-";
  std::string text;
  for (auto [i, axis] : llvm::enumerate(axes)) {
    if (i)
      text += "*";
    text += axis < static_cast<int16_t>(names.size()) ? names[axis] : std::to_string(axis);
  }
  return text;
}

FailureOr<GridInfo> mlir::cleave::getGrid(ModuleOp module) {
  SmallVector<shard::GridOp> grids(module.getOps<shard::GridOp>());
  if (grids.size() != 1)
    return module.emitError() << "expected exactly one shard.grid in the module, found "
                              << grids.size(),
           failure();
  GridInfo grid;
  grid.op = grids.front();
  for (int64_t size : grid.op.getShape()) {
    if (ShapedType::isDynamic(size) || size < 1)
      return grid.op.emitOpError("needs a static shape of positive sizes"), failure();
    grid.shape.push_back(size);
  }
  if (auto names = grid.op->getAttrOfType<ArrayAttr>(CleaveDialect::kAxisNamesAttrName)) {
    for (Attribute name : names)
      grid.names.push_back(cast<StringAttr>(name).str());
  }
  for (size_t axis = grid.names.size(); axis < grid.shape.size(); ++axis)
    grid.names.push_back("axis" + std::to_string(axis));
  return grid;
}

FailureOr<RankedTensorType> mlir::cleave::localType(RankedTensorType type,
                                                    const TensorSharding &sharding,
                                                    const GridInfo &grid) {
  SmallVector<int64_t> shape(type.getShape());
  if (sharding.dims.size() != shape.size())
    return failure();
  for (auto [size, axes] : llvm::zip(shape, sharding.dims)) {
    int64_t parts = grid.axesSize(axes);
    if (size % parts != 0)
      return failure();
    size /= parts;
  }
  return RankedTensorType::get(shape, type.getElementType());
}

int64_t mlir::cleave::getLocalBytes(RankedTensorType type, const TensorSharding &sharding,
                                    const GridInfo &grid) {
  int64_t elements = 1;
  for (auto [index, size] : llvm::enumerate(type.getShape())) {
    int64_t ways = index < sharding.dims.size() ? grid.axesSize(sharding.dims[index]) : 1;
    elements *= llvm::divideCeil(size, std::max<int64_t>(ways, 1));
  }
  return elements * getElementBytes(type.getElementType());
}

std::string mlir::cleave::describe(const TensorSharding &sharding, const GridInfo &grid) {
  std::string text = "[";
  for (auto [i, axes] : llvm::enumerate(sharding.dims)) {
    if (i)
      text += ", ";
    text += grid.axesName(axes);
  }
  text += "]";
  if (!sharding.partial.empty())
    text += " partial(" + grid.axesName(sharding.partial) + ")";
  return text;
}
