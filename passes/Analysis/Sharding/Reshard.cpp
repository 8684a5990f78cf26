//===- Reshard.cpp - the collectives that change a value's layout ---------===//
#include "passes/Analysis/Sharding/Reshard.h"

#include <optional>

using namespace mlir;
using namespace mlir::cleave;

SmallVector<ReshardStep> mlir::cleave::planReshard(TensorSharding from, const TensorSharding &to) {
  SmallVector<ReshardStep> steps;
  if (from == to)
    return steps;
  if (!from.partial.empty()) {
    AxisList partial = from.partial;
    std::optional<int64_t> scatterDim;
    // Every kind a partial value carries (sum, max, min) scatters as well as
    // it reduces, so a max costs what a sum of the same bytes costs.
    for (auto [dim, axes] : llvm::enumerate(to.dims)) {
      AxisList joined = from.dims[dim];
      joined.append(partial.begin(), partial.end());
      if (axes == joined) {
        scatterDim = dim;
        from.dims[dim] = joined;
        break;
      }
    }
    from.partial.clear();
    steps.push_back({scatterDim ? ReshardStep::Kind::reduceScatter : ReshardStep::Kind::allReduce,
                     partial, scatterDim.value_or(0), from});
  }
  for (auto [dim, axes] : llvm::enumerate(to.dims)) {
    AxisList &have = from.dims[dim];
    size_t common = 0;
    while (common < have.size() && common < axes.size() && have[common] == axes[common])
      ++common;
    if (have.size() == common)
      continue;
    AxisList gathered(have.begin() + common, have.end());
    have.resize(common);
    steps.push_back({ReshardStep::Kind::allGather, gathered, static_cast<int64_t>(dim), from});
  }
  for (auto [dim, axes] : llvm::enumerate(to.dims)) {
    AxisList &have = from.dims[dim];
    if (have.size() == axes.size())
      continue;
    AxisList sliced(axes.begin() + have.size(), axes.end());
    have = axes;
    steps.push_back({ReshardStep::Kind::allSlice, sliced, static_cast<int64_t>(dim), from});
  }
  // One gather and one slice of the same axes on two dimensions: the axes
  // move, an all-to-all.
  auto isKind = [&](ReshardStep::Kind kind) {
    return [kind](const ReshardStep &step) { return step.kind == kind; };
  };
  if (llvm::count_if(steps, isKind(ReshardStep::Kind::allGather)) == 1 &&
      llvm::count_if(steps, isKind(ReshardStep::Kind::allSlice)) == 1) {
    auto gather = llvm::find_if(steps, isKind(ReshardStep::Kind::allGather));
    auto slice = llvm::find_if(steps, isKind(ReshardStep::Kind::allSlice));
    if (gather->axes == slice->axes && gather->dim != slice->dim) {
      ReshardStep move{ReshardStep::Kind::allToAll, gather->axes, gather->dim, slice->after,
                       slice->dim};
      *gather = move;
      steps.erase(slice);
    }
  }
  return steps;
}
