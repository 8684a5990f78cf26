//===- GridSpec.cpp - grids and pins as the user writes them --------------===//
#include "passes/Analysis/Sharding/GridSpec.h"

#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/StringExtras.h"

#include <functional>
#include <numeric>

using namespace mlir;
using namespace mlir::cleave;

int64_t ParsedGrid::devices() const {
  return std::accumulate(sizes.begin(), sizes.end(), int64_t{1}, std::multiplies<int64_t>());
}

static llvm::Error gridError(const llvm::Twine &message) {
  return llvm::createStringError(llvm::inconvertibleErrorCode(), message);
}

llvm::Expected<ParsedGrid> mlir::cleave::parseGridSpec(StringRef spec) {
  ParsedGrid grid;
  SmallVector<StringRef> parts;
  spec.split(parts, ',', -1, false);
  for (StringRef part : parts) {
    auto [name, size] = part.trim().split('=');
    int64_t value = 0;
    if (name.empty() || size.trim().getAsInteger(10, value) || value < 1)
      return gridError("grid axis '" + part +
                       "' is not NAME=SIZE with a positive size (e.g. dp=2,tp=2)");
    if (llvm::is_contained(grid.names, name.trim()))
      return gridError("grid axis '" + name.trim() + "' is named twice");
    grid.names.push_back(name.trim().str());
    grid.sizes.push_back(value);
  }
  if (grid.names.empty())
    return gridError("the grid needs at least one axis, e.g. dp=4");
  return grid;
}

FailureOr<ParsedGrid> mlir::cleave::parseGrid(StringRef spec, Operation *where) {
  llvm::Expected<ParsedGrid> grid = parseGridSpec(spec);
  if (!grid)
    return where->emitError(llvm::toString(grid.takeError())), failure();
  return std::move(*grid);
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
