//===- CollectiveOrder.cpp - what orders the step's collectives ----------===//
#include "passes/Sharding/CollectiveOrder.h"

#include "dialects/Cleave/IR/CleaveDialect.h"
#include "dialects/Cleave/IR/CleaveOps.h"
#include "mlir/Dialect/Shard/IR/ShardDialect.h"
#include "mlir/Dialect/Shard/IR/ShardOps.h"
#include "mlir/IR/SymbolTable.h"
#include "mlir/Interfaces/CallInterfaces.h"
#include "passes/Pipelines.h"
#include "llvm/ADT/STLExtras.h"

using namespace mlir;
using namespace mlir::cleave;

bool mlir::cleave::isCollectiveStart(Operation *op) {
  return isa<AllReduceStartOp, ReduceScatterStartOp, AllGatherStartOp>(op);
}

bool mlir::cleave::sendsMessages(Operation *op) {
  return isCollectiveStart(op) || (isa_and_present<shard::ShardDialect>(op->getDialect()) &&
                                   !isa<shard::GridOp, shard::AllSliceOp>(op));
}

bool mlir::cleave::isCollectiveBarrier(Operation *op) {
  if (isa<CallOpInterface>(op))
    return true;
  bool found = false;
  op->walk([&](Operation *inner) {
    if (sendsMessages(inner)) {
      found = true;
      return WalkResult::interrupt();
    }
    return WalkResult::advance();
  });
  return found;
}

int64_t mlir::cleave::getPipelineAxisIndex(Operation *op, FlatSymbolRefAttr grid) {
  auto gridOp = SymbolTable::lookupNearestSymbolFrom<shard::GridOp>(op, grid);
  if (!gridOp)
    return -1;
  auto names = gridOp->getAttrOfType<ArrayAttr>(CleaveDialect::kAxisNamesAttrName);
  if (!names)
    return -1;
  for (auto [index, name] : llvm::enumerate(names))
    if (auto text = dyn_cast<StringAttr>(name); text && text.getValue() == kPipelineAxis)
      return static_cast<int64_t>(index);
  return -1;
}

bool mlir::cleave::isOverPipelineAxis(Operation *op) {
  auto grid = op->getAttrOfType<FlatSymbolRefAttr>("grid");
  auto axes = op->getAttrOfType<DenseI16ArrayAttr>("grid_axes");
  if (!grid || !axes)
    return true;
  int64_t pipeline = getPipelineAxisIndex(op, grid);
  return pipeline >= 0 && llvm::is_contained(axes.asArrayRef(), pipeline);
}
