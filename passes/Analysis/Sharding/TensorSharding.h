//===- TensorSharding.h - how one tensor is laid out over a device grid ---===//
//
// A tensor's sharding lists, per dimension, the grid axes it is split over
// (major first: a dimension split over axes [0, 1] of a 2x2 grid holds block
// i0 * 2 + i1 on device (i0, i1)), plus the axes over which devices hold
// partial values that still have to be reduced. It is what GSPMD and the
// `shard` dialect call a tiled sharding; the partial axes are kept here
// because MLIR 22's shard.sharding no longer has them.
//
// In IR a plan is written with the attributes of ShardingAttrs.h: one
// `shard.grid` on the module, `cleave.factor_axes` on each split op and
// `cleave.sharding` on function arguments and results.
//
//===----------------------------------------------------------------------===//
#ifndef CLEAVE_PASSES_ANALYSIS_SHARDING_TENSORSHARDING_H
#define CLEAVE_PASSES_ANALYSIS_SHARDING_TENSORSHARDING_H

#include "mlir/Dialect/Shard/IR/ShardOps.h"
#include "mlir/IR/BuiltinOps.h"
#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/SmallVector.h"

#include <string>

namespace mlir::cleave {

using AxisList = llvm::SmallVector<int16_t, 2>;

struct TensorSharding {
  llvm::SmallVector<AxisList, 4> dims;
  AxisList partial; // sorted
  shard::ReductionKind partialKind = shard::ReductionKind::Sum;

  static TensorSharding replicated(int64_t rank) {
    TensorSharding sharding;
    sharding.dims.resize(rank);
    return sharding;
  }
  bool isReplicated() const {
    return partial.empty() && llvm::all_of(dims, [](const AxisList &a) { return a.empty(); });
  }
  bool operator==(const TensorSharding &other) const {
    return dims == other.dims && partial == other.partial &&
           (partial.empty() || partialKind == other.partialKind);
  }
  bool operator!=(const TensorSharding &other) const { return !(*this == other); }
};

/// The grid a plan is laid out on: sizes and names of its axes.
struct GridInfo {
  shard::GridOp op;
  llvm::SmallVector<int64_t, 4> shape;
  llvm::SmallVector<std::string, 4> names;

  int64_t devices() const;
  int64_t axesSize(llvm::ArrayRef<int16_t> axes) const;
  /// "dp", "dp*tp", "-" for none.
  std::string axesName(llvm::ArrayRef<int16_t> axes) const;
};

/// The module's single shard.grid, or failure with a diagnostic.
FailureOr<GridInfo> getGrid(ModuleOp module);

/// `type` with every dimension divided by the sizes of its axes; failure
/// (no diagnostic) where an axis product does not divide a dimension.
FailureOr<RankedTensorType> localType(RankedTensorType type, const TensorSharding &sharding,
                                      const GridInfo &grid);

/// Bytes of one device's block of `type` laid out as `sharding` (each
/// dimension divided by its axes, rounded up: an uneven split pads the last
/// block); getTensorBytes of the whole tensor when nothing is split.
int64_t getLocalBytes(RankedTensorType type, const TensorSharding &sharding, const GridInfo &grid);

/// "[dp, -, tp]" (and " partial(tp)") for messages and plan dumps.
std::string describe(const TensorSharding &sharding, const GridInfo &grid);

} // namespace mlir::cleave

#endif // CLEAVE_PASSES_ANALYSIS_SHARDING_TENSORSHARDING_H
