//===- Zero.h - ZeRO's dp splits on top of a plan --------------------------===//
//
// ZeRO (Rajbhandari et al. 2020) over the data-parallel axis, as layouts:
//   1: optimizer state split over dp; the update runs on the rank's shard
//      of an all-reduced (whole) gradient; the updated parameter gathered;
//   2: the same, the gradient reduce-scattered instead;
//   3: parameters stored split over dp too, gathered before each use.
// The seed pass (a pinned grid) and the sharding search (--devices) both
// lay their plan out first and then add these splits, so a --zero pin
// constrains the search rather than replacing it. ZeRO-1 also marks the ops
// of the update it splits (`cleave.reduce_whole`): cleave-partition then
// all-reduces their dp-partial gradient whole and slices it, where it
// would reduce-scatter; a split the plan chose itself keeps its
// reduce-scatter.
//
//===----------------------------------------------------------------------===//
#ifndef CLEAVE_PASSES_SHARDING_ZERO_H
#define CLEAVE_PASSES_SHARDING_ZERO_H

#include "passes/Analysis/Sharding/TensorSharding.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"

namespace mlir::cleave {

/// Whether `level` is a ZeRO level (0 to 3).
inline bool isZeroLevel(int64_t level) { return level >= 0 && level <= 3; }

/// Adds grid axis `dp` to the first dimension it (with the axes already
/// there) divides of: every optimizer state argument (level >= 1) and every
/// trainable parameter (level 3) of `function` that is not split over `dp`
/// yet; each result that updates such an argument takes its new layout. A
/// tensor no dimension of which `dp` divides stays as it is.
void addZeroArgumentSplits(func::FuncOp function, llvm::ArrayRef<int64_t> gridSizes, int16_t dp,
                           int level);

/// Splits the optimizer update of a plan that has every op's
/// `cleave.factor_axes` already (the search's) over `dp` once
/// addZeroArgumentSplits ran: walking forward over the ops after the loss,
/// an op reading a tensor split over `dp` follows it (as propagation
/// does); walking back, an op whose users all want its result split over
/// `dp` takes that split. An op keeps its axes where `dp` is in use or a
/// factor cannot take it. With `reduceWhole` (ZeRO-1) the ops it splits are
/// marked `cleave.reduce_whole`.
void splitUpdateOverAxis(func::FuncOp function, const GridInfo &grid, int16_t dp, bool reduceWhole);

/// Marks every op after the loss `cleave.reduce_whole`: ZeRO-1 on a plan
/// that propagation completes (whatever it splits over dp there, it splits
/// for ZeRO).
void markReduceWholeAfterLoss(func::FuncOp function);

} // namespace mlir::cleave

#endif // CLEAVE_PASSES_SHARDING_ZERO_H
