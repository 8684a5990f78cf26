//===- Sharding.h - how one tensor is laid out over a device grid ---------===//
//
// A tensor's sharding lists, per dimension, the grid axes it is split over
// (major first: a dimension split over axes [0, 1] of a 2x2 grid holds block
// i0 * 2 + i1 on device (i0, i1)), plus the axes over which devices hold
// partial values that still have to be reduced. It is what GSPMD and the
// `shard` dialect call a tiled sharding; the partial axes are kept here
// because MLIR 22's shard.sharding no longer has them.
//
// In IR a plan is written with attributes the partitioner reads:
//   - on the module, one `shard.grid` (its axis names in
//     `cleave.axis_names`, e.g. ["dp", "tp"]);
//   - on each op, `cleave.factor_axes`: a #shard.axes-array style list with
//     the grid axes of each of the op's factors (FactorRule.h);
//   - on function arguments and results, `cleave.sharding`: the axes of
//     each dimension.
//
//===----------------------------------------------------------------------===//
#ifndef CLEAVE_PASSES_SHARDING_SHARDING_H
#define CLEAVE_PASSES_SHARDING_SHARDING_H

#include "dialects/Cleave/Interfaces/FactorRule.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Shard/IR/ShardOps.h"
#include "mlir/IR/BuiltinOps.h"
#include "llvm/ADT/SmallVector.h"
#include "llvm/ADT/StringMap.h"

#include <string>

namespace mlir::cleave {

inline constexpr llvm::StringLiteral kFactorAxesAttr = "cleave.factor_axes";
inline constexpr llvm::StringLiteral kShardingAttr = "cleave.sharding";
inline constexpr llvm::StringLiteral kAxisNamesAttr = "cleave.axis_names";

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

/// Attribute form (one axis list per dimension) and back.
shard::GridAxesArrayAttr toAttr(MLIRContext *context, llvm::ArrayRef<AxisList> dims);
llvm::SmallVector<AxisList, 4> fromAttr(shard::GridAxesArrayAttr attr);

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
/// rank its part, 1/n of what gathering would move). cleave-partition emits these steps and
/// the sharding search prices them, so both agree by construction.
llvm::SmallVector<ReshardStep> planReshard(TensorSharding from, const TensorSharding &to);

/// "[dp, -, tp]" (and " partial(tp)") for messages and plan dumps.
std::string describe(const TensorSharding &sharding, const GridInfo &grid);

/// A grid as the user writes it ("dp=2,tp=2"): axis names and sizes.
struct ParsedGrid {
  llvm::SmallVector<std::string> names;
  llvm::SmallVector<int64_t> sizes;
};
FailureOr<ParsedGrid> parseGrid(llvm::StringRef spec, Operation *where);

/// --shard pins "NAME=SPEC;NAME=SPEC" by parameter name, or failure with a
/// diagnostic on `where`.
FailureOr<llvm::StringMap<std::string>> parsePins(llvm::StringRef pins, Operation *where);

/// A --shard layout ("tp,-" or "dp*tp,-,-": one entry per dimension) of
/// parameter `name` of rank `rank` on `grid`.
FailureOr<llvm::SmallVector<AxisList, 4>> parseSpec(llvm::StringRef spec, const ParsedGrid &grid,
                                                    int64_t rank, llvm::StringRef name,
                                                    Operation *where);

} // namespace mlir::cleave

#endif // CLEAVE_PASSES_SHARDING_SHARDING_H
