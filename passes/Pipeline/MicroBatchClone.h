//===- MicroBatchClone.h - an op of the step, run on one micro-batch ------===//
//
// cleave-pipeline-unroll clones each forward and backward op once per
// micro-batch; the clone reads the micro-batch's (smaller) operands and gets
// the result types they give (MicroBatchShapes.h). Two things are not in
// the types: a dropout mask draws a stream of its own per micro-batch, and
// a reduce-mean's gradient scales by the 1/count of the full batch (a
// constant autodiff wrote), which a micro-batch must scale by M times that.
//
//===----------------------------------------------------------------------===//
#ifndef CLEAVE_PASSES_PIPELINE_MICROBATCHCLONE_H
#define CLEAVE_PASSES_PIPELINE_MICROBATCHCLONE_H

#include "dialects/Cleave/IR/CleaveOps.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/IRMapping.h"
#include "llvm/ADT/DenseMap.h"

#include <utility>

namespace mlir::cleave {

class MicroBatchCloner {
public:
  explicit MicroBatchCloner(int64_t microBatches) : microBatches(microBatches) {}

  /// Clones `op` into micro-batch `m` at `builder`'s point: operands through
  /// `mapping` (unmapped ones as they are), results mapped. Fails with a
  /// diagnostic on `op` when its shapes cannot be split.
  LogicalResult clone(OpBuilder &builder, Operation *op, IRMapping &mapping, int64_t m);

  /// Part `m` of `parts` of `value` along `dim` (a cleave.slice).
  static Value slicePart(OpBuilder &builder, Value value, unsigned dim, int64_t parts, int64_t m);

private:
  LogicalResult cloneMask(OpBuilder &builder, RandomMaskOp mask, IRMapping &mapping, int64_t m);

  int64_t microBatches;
  /// (micro-batch, cleave.fwd_id of a reduce-mean whose reduced dimensions
  /// the micro-batch splits) -> in how many parts.
  llvm::DenseMap<std::pair<int64_t, int64_t>, int64_t> meanParts;
};

} // namespace mlir::cleave

#endif // CLEAVE_PASSES_PIPELINE_MICROBATCHCLONE_H
