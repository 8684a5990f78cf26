//===- CleaveDialect.cpp - the cleave dialect and its attributes ----------===//
#include "dialects/Cleave/IR/CleaveDialect.h"
#include "dialects/Cleave/IR/CleaveOps.h"
#include "dialects/Cleave/Interfaces/FactorRule.h"

#include "mlir/Dialect/Shard/IR/ShardOps.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/DialectImplementation.h"
#include "mlir/Interfaces/FunctionInterfaces.h"
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
  attachFactorRules(getContext());
}

Operation *CleaveDialect::materializeConstant(OpBuilder &builder, Attribute value, Type type,
                                              Location loc) {
  auto elements = dyn_cast<ElementsAttr>(value);
  if (!elements || elements.getType() != type || !isa<RankedTensorType>(type) ||
      !cast<RankedTensorType>(type).hasStaticShape())
    return nullptr;
  return ConstantOp::create(builder, loc, elements);
}

// A parameter, input or output must be a statically shaped tensor:
// everything downstream (sharding, memory planning, codegen) sizes buffers
// from it. A null `type` (not known here) passes.
static LogicalResult verifyStaticTensor(Operation *op, Type type, StringRef what, unsigned index) {
  if (!type)
    return success();
  auto tensor = dyn_cast<RankedTensorType>(type);
  if (!tensor || !tensor.hasStaticShape())
    return op->emitOpError() << what << " #" << index << " must be a statically shaped tensor, got "
                             << type;
  return success();
}

// The type of argument `argIndex`, from the function type where `op` is a
// function (so that declarations, which have no block, are checked too).
static Type getArgumentType(Operation *op, unsigned regionIndex, unsigned argIndex) {
  if (auto function = dyn_cast<FunctionOpInterface>(op))
    return function.getArgumentTypes()[argIndex];
  if (op->getNumRegions() <= regionIndex || op->getRegion(regionIndex).empty())
    return Type();
  return op->getRegion(regionIndex).getArgument(argIndex).getType();
}

// A sharding names one list of grid axes per dimension of the tensor.
static LogicalResult verifySharding(Operation *op, Type type, Attribute value, StringRef what,
                                    unsigned index) {
  auto axes = dyn_cast<shard::GridAxesArrayAttr>(value);
  if (!axes)
    return op->emitOpError() << "'" << CleaveDialect::kShardingAttrName << "' on " << what << " #"
                             << index << " must be a grid axes array";
  auto tensor = dyn_cast_or_null<RankedTensorType>(type);
  if (tensor && static_cast<int64_t>(axes.size()) != tensor.getRank())
    return op->emitOpError() << "'" << CleaveDialect::kShardingAttrName << "' on " << what << " #"
                             << index << " lists " << axes.size()
                             << " dimensions for a tensor of rank " << tensor.getRank();
  return success();
}

LogicalResult CleaveDialect::verifyRegionArgAttribute(Operation *op, unsigned regionIndex,
                                                      unsigned argIndex, NamedAttribute attribute) {
  StringRef name = attribute.getName().getValue();
  Type argType = getArgumentType(op, regionIndex, argIndex);
  if (name == kParamAttrName) {
    auto param = dyn_cast<ParamAttr>(attribute.getValue());
    if (!param)
      return op->emitOpError() << "'" << kParamAttrName << "' on argument #" << argIndex
                               << " must be a #cleave.param attribute";
    if (param.getName().getValue().empty())
      return op->emitOpError() << "'" << kParamAttrName << "' on argument #" << argIndex
                               << " must name the parameter";
    auto function = dyn_cast<FunctionOpInterface>(op);
    if (function && function.getArgAttr(argIndex, kInputAttrName))
      return op->emitOpError() << "argument #" << argIndex << " cannot be both a parameter ('"
                               << kParamAttrName << "') and a data input ('" << kInputAttrName
                               << "')";
    return verifyStaticTensor(op, argType, "parameter argument", argIndex);
  }
  if (name == kOptStateAttrName || name == kStepScalarAttrName) {
    auto text = dyn_cast<StringAttr>(attribute.getValue());
    if (!text || text.getValue().empty())
      return op->emitOpError() << "'" << name << "' on argument #" << argIndex
                               << " must be a non-empty string";
    return verifyStaticTensor(op, argType, "train step argument", argIndex);
  }
  if (name == kInputAttrName) {
    auto inputName = dyn_cast<StringAttr>(attribute.getValue());
    if (!inputName || inputName.getValue().empty())
      return op->emitOpError() << "'" << kInputAttrName << "' on argument #" << argIndex
                               << " must be a non-empty string";
    return verifyStaticTensor(op, argType, "input argument", argIndex);
  }
  if (name == kShardingAttrName)
    return verifySharding(op, argType, attribute.getValue(), "argument", argIndex);
  return op->emitOpError() << "unknown cleave argument attribute '" << name << "'";
}

LogicalResult CleaveDialect::verifyRegionResultAttribute(Operation *op, unsigned regionIndex,
                                                         unsigned resultIndex,
                                                         NamedAttribute attribute) {
  StringRef name = attribute.getName().getValue();
  if (name == kLossAttrName) {
    if (!isa<UnitAttr>(attribute.getValue()))
      return op->emitOpError() << "'" << kLossAttrName << "' on result #" << resultIndex
                               << " must be a unit attribute";
    return success();
  }
  if (name == kShardingAttrName) {
    auto function = dyn_cast<FunctionOpInterface>(op);
    Type type = function ? function.getResultTypes()[resultIndex] : Type();
    return verifySharding(op, type, attribute.getValue(), "result", resultIndex);
  }
  if (name == kUpdatesAttrName || name == kGradOfAttrName) {
    auto index = dyn_cast<IntegerAttr>(attribute.getValue());
    auto function = dyn_cast<FunctionOpInterface>(op);
    if (!index || !function || index.getInt() < 0 ||
        index.getInt() >= (int64_t)function.getNumArguments())
      return op->emitOpError() << "'" << name << "' on result #" << resultIndex
                               << " must be the index of an argument";
    if (function.getArgumentTypes()[index.getInt()] != function.getResultTypes()[resultIndex])
      return op->emitOpError() << "result #" << resultIndex << " ('" << name
                               << "') must have the type of argument #" << index.getInt();
    return success();
  }
  if (name != kOutputAttrName)
    return op->emitOpError() << "unknown cleave result attribute '" << name << "'";
  auto outputName = dyn_cast<StringAttr>(attribute.getValue());
  if (!outputName || outputName.getValue().empty())
    return op->emitOpError() << "'" << kOutputAttrName << "' on result #" << resultIndex
                             << " must be a non-empty string";
  if (auto function = dyn_cast<FunctionOpInterface>(op))
    return verifyStaticTensor(op, function.getResultTypes()[resultIndex], "output result",
                              resultIndex);
  return success();
}

LogicalResult CleaveDialect::verifyOperationAttribute(Operation *op, NamedAttribute attribute) {
  StringRef name = attribute.getName().getValue();
  if ((name == kSourceAttrName || name == kOpsetAttrName) && !isa<ModuleOp>(op))
    return op->emitOpError() << "'" << name << "' belongs on the module, not on '" << op->getName()
                             << "'";
  // Most cleave attributes only need a value of one kind.
  Attribute value = attribute.getValue();
  auto requireKind = [&](bool isKind, StringRef kind) -> LogicalResult {
    if (isKind)
      return success();
    return op->emitOpError() << "'" << name << "' must be " << kind;
  };
  if (name == kSourceAttrName)
    return requireKind(isa<StringAttr>(value), "a string (a file path)");
  if (llvm::is_contained({kOpsetAttrName, kFlopsAttrName, kBytesAttrName, kTotalFlopsAttrName,
                          kTotalBytesAttrName},
                         name))
    return requireKind(isa<IntegerAttr>(value), "an integer");
  if (llvm::is_contained(
          {kForwardIdAttrName, kBackwardOfAttrName, kUpdateOfAttrName, kStageAttrName}, name))
    return requireKind(isa<IntegerAttr>(value) && !isa<ModuleOp>(op), "an integer on an op");
  // On the clones of cleave-recompute (kRecomputedAttrName in
  // passes/Recompute/Recompute.h, which the dialect does not depend on).
  if (name == "cleave.recomputed")
    return requireKind(isa<UnitAttr>(value) && !isa<ModuleOp>(op), "a unit attribute on an op");
  if (name == kPhaseAttrName) {
    auto phase = dyn_cast<StringAttr>(value);
    return requireKind(phase &&
                           llvm::is_contained({"forward", "backward", "update"}, phase.getValue()),
                       "\"forward\", \"backward\" or \"update\"");
  }
  if (name == kPipelineAttrName)
    return requireKind(isa<DictionaryAttr>(value) && isa<ModuleOp>(op),
                       "a dictionary on the module (docs/pipeline.md)");
  if (name == kPredictedStepSecondsAttrName)
    return requireKind(isa<FloatAttr>(value), "a float (seconds)");
  if (name == kFactorAxesAttrName)
    return requireKind(isa<shard::GridAxesArrayAttr>(value), "a grid axes array");
  if (name == kAxisNamesAttrName) {
    auto names = dyn_cast<ArrayAttr>(attribute.getValue());
    auto grid = dyn_cast<shard::GridOp>(op);
    if (!grid || !names || names.size() != grid.getShape().size() ||
        !llvm::all_of(names, [](Attribute a) { return isa<StringAttr>(a); }))
      return op->emitOpError() << "'" << name << "' must be one string per axis on a shard.grid";
    return success();
  }
  if (name == kShardFallbackAttrName) {
    auto fallback = dyn_cast<DictionaryAttr>(attribute.getValue());
    if (!isa<ModuleOp>(op) || !fallback || !fallback.getAs<StringAttr>("grid") ||
        !fallback.getAs<IntegerAttr>("zero") || !fallback.getAs<StringAttr>("shard"))
      return op->emitOpError() << "'" << name
                               << "' must be a dictionary {grid, zero, shard} on the module";
    return success();
  }
  return op->emitOpError() << "unknown cleave attribute '" << name << "'";
}
