//===- Sharding.cpp - tensor shardings over a device grid -----------------===//
#include "passes/Sharding/Sharding.h"

#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/StringExtras.h"

#include <optional>

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
  if (auto names = grid.op->getAttrOfType<ArrayAttr>(kAxisNamesAttr)) {
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

SmallVector<ReshardStep> mlir::cleave::planReshard(TensorSharding from, const TensorSharding &to) {
  SmallVector<ReshardStep> steps;
  if (from == to)
    return steps;
  if (!from.partial.empty()) {
    AxisList partial = from.partial;
    std::optional<int64_t> scatterDim;
    // Every kind a partial value carries (sum, max, min) scatters as well as
    // it reduces, so a max costs what a sum of the same bytes costs.
    for (auto [dim, axes] : llvm::enumerate(to.dims)) {
      AxisList joined = from.dims[dim];
      joined.append(partial.begin(), partial.end());
      if (axes == joined) {
        scatterDim = dim;
        from.dims[dim] = joined;
        break;
      }
    }
    from.partial.clear();
    steps.push_back({scatterDim ? ReshardStep::Kind::reduceScatter : ReshardStep::Kind::allReduce,
                     partial, scatterDim.value_or(0), from});
  }
  for (auto [dim, axes] : llvm::enumerate(to.dims)) {
    AxisList &have = from.dims[dim];
    size_t common = 0;
    while (common < have.size() && common < axes.size() && have[common] == axes[common])
      ++common;
    if (have.size() == common)
      continue;
    AxisList gathered(have.begin() + common, have.end());
    have.resize(common);
    steps.push_back({ReshardStep::Kind::allGather, gathered, static_cast<int64_t>(dim), from});
  }
  for (auto [dim, axes] : llvm::enumerate(to.dims)) {
    AxisList &have = from.dims[dim];
    if (have.size() == axes.size())
      continue;
    AxisList sliced(axes.begin() + have.size(), axes.end());
    have = axes;
    steps.push_back({ReshardStep::Kind::allSlice, sliced, static_cast<int64_t>(dim), from});
  }
  // One gather and one slice of the same axes on two dimensions: the axes
  // move, an all-to-all.
  auto isKind = [&](ReshardStep::Kind kind) {
    return [kind](const ReshardStep &step) { return step.kind == kind; };
  };
  if (llvm::count_if(steps, isKind(ReshardStep::Kind::allGather)) == 1 &&
      llvm::count_if(steps, isKind(ReshardStep::Kind::allSlice)) == 1) {
    auto gather = llvm::find_if(steps, isKind(ReshardStep::Kind::allGather));
    auto slice = llvm::find_if(steps, isKind(ReshardStep::Kind::allSlice));
    if (gather->axes == slice->axes && gather->dim != slice->dim) {
      ReshardStep move{ReshardStep::Kind::allToAll, gather->axes, gather->dim, slice->after,
                       slice->dim};
      *gather = move;
      steps.erase(slice);
    }
  }
  return steps;
}

FailureOr<ParsedGrid> mlir::cleave::parseGrid(StringRef spec, Operation *where) {
  ParsedGrid grid;
  SmallVector<StringRef> parts;
  spec.split(parts, ',', -1, false);
  for (StringRef part : parts) {
    auto [name, size] = part.trim().split('=');
    int64_t value = 0;
    if (name.empty() || size.trim().getAsInteger(10, value) || value < 1)
      return where->emitError() << "grid axis '" << part
                                << "' is not NAME=SIZE with a positive size (e.g. dp=2,tp=2)",
             failure();
    if (llvm::is_contained(grid.names, name.trim()))
      return where->emitError() << "grid axis '" << name.trim() << "' is named twice", failure();
    grid.names.push_back(name.trim().str());
    grid.sizes.push_back(value);
  }
  if (grid.names.empty())
    return where->emitError("the grid needs at least one axis, e.g. dp=4"), failure();
  return grid;
}

FailureOr<SmallVector<AxisList, 4>> mlir::cleave::parseSpec(StringRef spec, const ParsedGrid &grid,
                                                            int64_t rank, StringRef name,
                                                            Operation *where) {
  SmallVector<StringRef> parts;
  spec.split(parts, ',');
  if (static_cast<int64_t>(parts.size()) != rank)
    return where->emitError() << "--shard " << name << "=" << spec << ": the tensor has rank "
                              << rank << " but the spec names " << parts.size()
                              << " dimensions (one grid axis, a*b or - per dimension)",
           failure();
  SmallVector<AxisList, 4> dims;
  for (StringRef part : parts) {
    AxisList axes;
    part = part.trim();
    if (part != "-" && !part.empty()) {
      SmallVector<StringRef> names;
      part.split(names, '*');
      for (StringRef axisName : names) {
        auto it = llvm::find(grid.names, axisName.trim());
        if (it == grid.names.end())
          return where->emitError()
                     << "--shard " << name << "=" << spec << ": '" << axisName
                     << "' is not a grid axis (" << llvm::join(grid.names, ", ") << ")",
                 failure();
        axes.push_back(static_cast<int16_t>(it - grid.names.begin()));
      }
    }
    dims.push_back(axes);
  }
  return dims;
}

FailureOr<llvm::StringMap<std::string>> mlir::cleave::parsePins(StringRef pins, Operation *where) {
  llvm::StringMap<std::string> parsed;
  SmallVector<StringRef> pinList;
  pins.split(pinList, ';', -1, false);
  for (StringRef pin : pinList) {
    auto [name, spec] = pin.trim().split('=');
    if (name.empty() || spec.empty())
      return where->emitError() << "--shard '" << pin
                                << "' is not NAME=SPEC (e.g. fc1.weight=tp,-)",
             failure();
    parsed[name] = spec.str();
  }
  return parsed;
}
