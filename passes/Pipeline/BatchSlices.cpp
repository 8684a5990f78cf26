//===- BatchSlices.cpp - which rows of a batch input a micro-batch reads --===//
#include "passes/Pipeline/BatchSlices.h"

#include "dialects/Cleave/IR/CleaveDialect.h"
#include "dialects/Cleave/IR/CleaveOps.h"

#include "mlir/Dialect/Shard/IR/ShardOps.h"
#include "mlir/IR/BuiltinOps.h"

using namespace mlir;
using namespace mlir::cleave;

BatchSlices::BatchSlices(func::FuncOp function, int64_t microBatches)
    : function(function), microBatches(microBatches) {
  llvm::SmallVector<int64_t> gridShape;
  if (auto module = function->getParentOfType<ModuleOp>())
    for (auto grid : module.getOps<shard::GridOp>()) {
      gridShape.assign(grid.getShape().begin(), grid.getShape().end());
      break;
    }
  llvm::DenseMap<unsigned, int64_t> splits;
  int64_t largest = 1;
  for (BlockArgument argument : function.getArguments()) {
    unsigned index = argument.getArgNumber();
    if (!function.getArgAttr(index, CleaveDialect::kInputAttrName))
      continue;
    int64_t split = 1;
    if (auto sharding = function.getArgAttrOfType<shard::GridAxesArrayAttr>(
            index, CleaveDialect::kShardingAttrName))
      if (sharding.size() > 0)
        for (int16_t axis : sharding.getAxes()[0].asArrayRef())
          if (axis >= 0 && axis < static_cast<int16_t>(gridShape.size()))
            split *= gridShape[axis];
    splits[index] = split;
    largest = std::max(largest, split);
  }
  for (auto [index, split] : splits)
    blocks[index] = largest % split == 0 ? largest / split : 1;
}

LogicalResult BatchSlices::check() const {
  for (BlockArgument argument : function.getArguments()) {
    auto found = blocks.find(argument.getArgNumber());
    if (found == blocks.end())
      continue;
    auto type = cast<RankedTensorType>(argument.getType());
    int64_t rows = type.getRank() == 0 ? 0 : type.getDimSize(0);
    int64_t parts = found->second * microBatches;
    if (rows == 0 || rows % parts != 0) {
      auto name = function.getArgAttrOfType<StringAttr>(argument.getArgNumber(),
                                                        CleaveDialect::kInputAttrName);
      return function.emitOpError()
             << "--micro-batches " << microBatches << " does not divide the batch of "
             << rows / found->second << " per data-parallel rank (input '" << name.getValue()
             << "'): pick a micro-batch count that divides it";
    }
  }
  return success();
}

Value BatchSlices::slice(OpBuilder &builder, BlockArgument input, Value value, int64_t m) const {
  auto type = cast<RankedTensorType>(value.getType());
  int64_t count = blocks.lookup(input.getArgNumber());
  if (count <= 1) {
    // The rank's own rows: part m of M.
    llvm::SmallVector<int64_t> shape(type.getShape());
    shape[0] /= microBatches;
    llvm::SmallVector<int64_t> starts(type.getRank(), 0);
    starts[0] = m * shape[0];
    llvm::SmallVector<int64_t> strides(type.getRank(), 1);
    return SliceOp::create(
        builder, value.getLoc(), RankedTensorType::get(shape, type.getElementType()), value,
        builder.getDenseI64ArrayAttr(starts), builder.getDenseI64ArrayAttr(strides));
  }
  // [blocks * M * b, ...] as [blocks, M, b, ...]: part m of each block.
  ArrayRef<int64_t> rest = type.getShape().drop_front();
  int64_t rows = type.getDimSize(0) / (count * microBatches);
  llvm::SmallVector<int64_t> split = {count, microBatches, rows};
  llvm::append_range(split, rest);
  Value blocked = ReshapeOp::create(builder, value.getLoc(),
                                    RankedTensorType::get(split, type.getElementType()), value);
  llvm::SmallVector<int64_t> picked = split;
  picked[1] = 1;
  llvm::SmallVector<int64_t> starts(split.size(), 0);
  starts[1] = m;
  llvm::SmallVector<int64_t> strides(split.size(), 1);
  Value part = SliceOp::create(
      builder, value.getLoc(), RankedTensorType::get(picked, type.getElementType()), blocked,
      builder.getDenseI64ArrayAttr(starts), builder.getDenseI64ArrayAttr(strides));
  llvm::SmallVector<int64_t> shape = {count * rows};
  llvm::append_range(shape, rest);
  return ReshapeOp::create(builder, value.getLoc(),
                           RankedTensorType::get(shape, type.getElementType()), part);
}
