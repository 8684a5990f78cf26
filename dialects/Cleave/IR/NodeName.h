//===- NodeName.h - the ONNX node an op was imported from -----------------===//
//
// The importer names each op's location after its ONNX node; the plan
// reports and the generated source both show that name to people.
//
//===----------------------------------------------------------------------===//
#ifndef CLEAVE_DIALECT_NODENAME_H
#define CLEAVE_DIALECT_NODENAME_H

#include "mlir/IR/Location.h"
#include "mlir/IR/Operation.h"

#include <string>

namespace mlir::cleave {

/// The ONNX node `op` was imported from (its NameLoc, or the first one of a
/// FusedLoc), or "" when its location names none.
inline std::string nodeNameOf(Operation *op) {
  Location loc = op->getLoc();
  if (auto fused = dyn_cast<FusedLoc>(loc))
    for (Location inner : fused.getLocations())
      if (isa<NameLoc>(inner)) {
        loc = inner;
        break;
      }
  if (auto name = dyn_cast<NameLoc>(loc))
    return name.getName().str();
  return "";
}

} // namespace mlir::cleave

#endif // CLEAVE_DIALECT_NODENAME_H
