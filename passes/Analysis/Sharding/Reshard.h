//===- Reshard.h - the collectives that change a value's layout -----------===//
//
// cleave-partition emits these steps and the sharding search prices them
// (ReshardCost.h), so both agree by construction.
//
//===----------------------------------------------------------------------===//
#ifndef CLEAVE_PASSES_ANALYSIS_SHARDING_RESHARD_H
#define CLEAVE_PASSES_ANALYSIS_SHARDING_RESHARD_H

#include "passes/Analysis/Sharding/TensorSharding.h"

namespace mlir::cleave {

/// One collective of a resharding: `kind` over grid `axes` along tensor
/// dimension `dim` (unused for allReduce), leaving the value laid out as
/// `after`.
struct ReshardStep {
  enum class Kind { allReduce, reduceScatter, allGather, allSlice, allToAll } kind;
  AxisList axes;
  int64_t dim = 0; // gathered (allToAll: concatenated) or sliced dimension
  TensorSharding after;
  int64_t splitDim = 0; // allToAll: the dimension that becomes split
};

/// The collectives that bring a value laid out as `from` into `to` (never
/// partial): a partial value is reduce-scattered when `to` splits one
/// dimension over exactly the partial axes (after the ones it already
/// has), else all-reduced; axes `to` drops from a dimension are gathered,
/// axes it adds are sliced locally, and axes that only move from one
/// dimension to another go in one all-to-all (each rank sends every other
/// rank its part, 1/n of what gathering would move).
llvm::SmallVector<ReshardStep> planReshard(TensorSharding from, const TensorSharding &to);

} // namespace mlir::cleave

#endif // CLEAVE_PASSES_ANALYSIS_SHARDING_RESHARD_H
