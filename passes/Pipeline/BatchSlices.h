//===- BatchSlices.h - which rows of a batch input a micro-batch reads ----===//
//
// After the partition each batch input holds the rank's rows: B / k of
// them when its first dimension is split k ways over the grid. Inputs can
// be split differently (the search may keep the labels whole and slice them
// inside the step), so "the first B / (k M) rows" would give two inputs
// different rows. Micro-batch m instead takes, in each of the K / k blocks
// an input holds (K: the largest split of any batch input), the m-th of M
// parts: every input then holds the same global rows, and the step's own
// slicing of a less split input picks this rank's part of them.
//
//===----------------------------------------------------------------------===//
#ifndef CLEAVE_PASSES_PIPELINE_BATCHSLICES_H
#define CLEAVE_PASSES_PIPELINE_BATCHSLICES_H

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Builders.h"
#include "llvm/ADT/DenseMap.h"

namespace mlir::cleave {

class BatchSlices {
public:
  /// Reads the batch inputs' shardings and the module's grid; call before
  /// the grid changes.
  BatchSlices(func::FuncOp function, int64_t microBatches);

  /// Success when every batch input's blocks split into M parts; else an
  /// error naming the input.
  LogicalResult check() const;

  /// Micro-batch `m` of batch input `input` (a value of the same type as
  /// the argument, e.g. the stage function's copy of it).
  Value slice(OpBuilder &builder, BlockArgument input, Value value, int64_t m) const;

private:
  mutable func::FuncOp function;
  int64_t microBatches;
  /// Batch input argument number -> the blocks its rows hold.
  llvm::DenseMap<unsigned, int64_t> blocks;
};

} // namespace mlir::cleave

#endif // CLEAVE_PASSES_PIPELINE_BATCHSLICES_H
