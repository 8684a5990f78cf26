//===- ElementOffsets.h - flat offsets for element-wise indexing ops ------===//
//
// GatherElements, ScatterElements, ScatterND and the loss ops address single
// elements by index. Cleave expresses them as cleave.gather / scatter_add on
// the data flattened to one dimension, with offsets computed here: exact,
// and with gradients that the gather/scatter_add pair already has.
//
//===----------------------------------------------------------------------===//
#ifndef CLEAVE_COMPILER_IMPORTER_RULES_ELEMENTOFFSETS_H
#define CLEAVE_COMPILER_IMPORTER_RULES_ELEMENTOFFSETS_H

#include "compiler/Importer/NodeContext.h"

namespace mlir::cleave::importer {

/// Row-major offsets into `dataShape` of the elements GatherElements reads:
/// position p of `indices` (rank of the data) names the element at p with
/// p[axis] replaced by indices[p]; negative indices count from the end.
/// Constant indices give a constant (an out-of-range index fails); run-time
/// ones give i64 IR built from iotas, without a large baked-in constant, and
/// an out-of-range index gives an offset past the end, which the gather or
/// scatter_add kernel reports at run time (rather than reading a neighbour).
/// Without `allowNegative` a negative index is out of range too.
FailureOr<Value> elementOffsets(NodeContext &ctx, const HostTensor *constantIndices,
                                Value indices, ArrayRef<int64_t> dataShape, int64_t axis,
                                bool allowNegative = true);

/// `data` flattened and gathered at `offsets`: the result has the offsets'
/// shape.
Value gatherAtOffsets(NodeContext &ctx, Value data, Value offsets);

} // namespace mlir::cleave::importer

#endif // CLEAVE_COMPILER_IMPORTER_RULES_ELEMENTOFFSETS_H
