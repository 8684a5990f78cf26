//===- CostInterface.cpp - what an op costs to run ------------------------===//
#include "dialects/Cleave/Interfaces/CostInterface.h"

#include "mlir/IR/BuiltinTypes.h"

using namespace mlir;

int64_t cleave::getElementBytes(Type elementType) {
  return std::max<int64_t>(1, (elementType.getIntOrFloatBitWidth() + 7) / 8);
}

int64_t cleave::getTensorBytes(Type type) {
  auto tensor = dyn_cast<RankedTensorType>(type);
  if (!tensor || !tensor.hasStaticShape())
    return 0;
  return tensor.getNumElements() * getElementBytes(tensor.getElementType());
}

int64_t cleave::detail::countResultElements(Operation *op) {
  int64_t elements = 0;
  for (Type type : op->getResultTypes())
    if (auto tensor = dyn_cast<RankedTensorType>(type))
      if (tensor.hasStaticShape())
        elements += tensor.getNumElements();
  return elements;
}

int64_t cleave::detail::countOperandAndResultBytes(Operation *op) {
  int64_t bytes = 0;
  for (Type type : op->getOperandTypes())
    bytes += getTensorBytes(type);
  for (Type type : op->getResultTypes())
    bytes += getTensorBytes(type);
  return bytes;
}

#include "dialects/Cleave/Interfaces/CostInterface.cpp.inc"
