//===- Zero.h - ZeRO's dp splits on top of a plan --------------------------===//
//
// ZeRO (Rajbhandari et al. 2020) over the data-parallel axis, as layouts:
//   1: optimizer state split over dp; the update runs on the rank's shard
//      of an all-reduced (whole) gradient; the updated parameter gathered;
//   2: the same, the gradient reduce-scattered instead;
//   3: parameters stored split over dp too, gathered before each use.
// The seed pass (a pinned grid) and the sharding search (--devices) both
// lay their plan out first and then add these splits, so a --zero pin
// constrains the search rather than replacing it. The level is recorded on
// the module (`cleave.zero`) because cleave-partition needs it: only
// ZeRO-1 reduces a dp-partial gradient whole before slicing it.
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

/// Gives the ops after the loss that feed only layouts split over `dp`
/// (the optimizer update once addZeroArgumentSplits ran) the same split
/// over `dp`, walking back from the results, so that the update runs on
/// shards of a plan that has every op's `cleave.factor_axes` already (the
/// search's). An op keeps its axes where `dp` is already in use, where a
/// factor cannot take it, or where its users disagree.
void splitUpdateOverAxis(func::FuncOp function, const GridInfo &grid, int16_t dp);

/// The module's ZeRO level (`cleave.zero`; 0 without it) and setting it
/// (removed for 0).
int64_t getZeroLevel(ModuleOp module);
void setZeroLevel(ModuleOp module, int64_t level);

} // namespace mlir::cleave

#endif // CLEAVE_PASSES_SHARDING_ZERO_H
