//===- CleaveDialect.cpp - the cleave dialect and its attributes ----------===//
#include "dialects/Cleave/IR/CleaveDialect.h"
#include "dialects/Cleave/IR/CleaveOps.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/DialectImplementation.h"
#include "llvm/ADT/TypeSwitch.h"

using namespace mlir;
using namespace mlir::cleave;

#include "dialects/Cleave/IR/CleaveDialect.cpp.inc"
#include "dialects/Cleave/IR/CleaveEnums.cpp.inc"

#define GET_ATTRDEF_CLASSES
#include "dialects/Cleave/IR/CleaveAttrs.cpp.inc"

void CleaveDialect::initialize() {
  addOperations<
#define GET_OP_LIST
#include "dialects/Cleave/IR/CleaveOps.cpp.inc"
      >();
  addAttributes<
#define GET_ATTRDEF_LIST
#include "dialects/Cleave/IR/CleaveAttrs.cpp.inc"
      >();
}

// A parameter or input must be a statically shaped tensor: everything
// downstream (sharding, memory planning, codegen) sizes buffers from it.
static LogicalResult verifyStaticTensor(Operation *op, Type type, StringRef what,
                                        unsigned index) {
  auto tensor = dyn_cast<RankedTensorType>(type);
  if (!tensor || !tensor.hasStaticShape())
    return op->emitOpError() << what << " #" << index
                             << " must be a statically shaped tensor, got " << type;
  return success();
}

LogicalResult CleaveDialect::verifyRegionArgAttribute(Operation *op,
                                                      unsigned regionIndex,
                                                      unsigned argIndex,
                                                      NamedAttribute attribute) {
  StringRef name = attribute.getName().getValue();
  if (op->getNumRegions() <= regionIndex || op->getRegion(regionIndex).empty())
    return success();
  Type argType = op->getRegion(regionIndex).getArgument(argIndex).getType();
  if (name == kParamAttrName) {
    if (!isa<ParamAttr>(attribute.getValue()))
      return op->emitOpError() << "'" << kParamAttrName << "' on argument #" << argIndex
                               << " must be a #cleave.param attribute";
    return verifyStaticTensor(op, argType, "parameter argument", argIndex);
  }
  if (name == kInputAttrName) {
    auto inputName = dyn_cast<StringAttr>(attribute.getValue());
    if (!inputName || inputName.getValue().empty())
      return op->emitOpError() << "'" << kInputAttrName << "' on argument #" << argIndex
                               << " must be a non-empty string";
    return verifyStaticTensor(op, argType, "input argument", argIndex);
  }
  return op->emitOpError() << "unknown cleave argument attribute '" << name << "'";
}

LogicalResult CleaveDialect::verifyRegionResultAttribute(Operation *op,
                                                         unsigned regionIndex,
                                                         unsigned resultIndex,
                                                         NamedAttribute attribute) {
  StringRef name = attribute.getName().getValue();
  if (name != kOutputAttrName)
    return op->emitOpError() << "unknown cleave result attribute '" << name << "'";
  auto outputName = dyn_cast<StringAttr>(attribute.getValue());
  if (!outputName || outputName.getValue().empty())
    return op->emitOpError() << "'" << kOutputAttrName << "' on result #" << resultIndex
                             << " must be a non-empty string";
  return success();
}

LogicalResult CleaveDialect::verifyOperationAttribute(Operation *op,
                                                      NamedAttribute attribute) {
  StringRef name = attribute.getName().getValue();
  if (name == kSourceAttrName) {
    if (!isa<StringAttr>(attribute.getValue()))
      return op->emitOpError() << "'" << kSourceAttrName << "' must be a string (a file path)";
    return success();
  }
  if (name == kOpsetAttrName) {
    if (!isa<IntegerAttr>(attribute.getValue()))
      return op->emitOpError() << "'" << kOpsetAttrName << "' must be an integer";
    return success();
  }
  if (llvm::is_contained({kFlopsAttrName, kBytesAttrName, kTotalFlopsAttrName,
                          kTotalBytesAttrName},
                         name)) {
    if (!isa<IntegerAttr>(attribute.getValue()))
      return op->emitOpError() << "'" << name << "' must be an integer";
    return success();
  }
  return op->emitOpError() << "unknown cleave attribute '" << name << "'";
}
