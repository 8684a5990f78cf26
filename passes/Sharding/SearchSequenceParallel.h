//===- SearchSequenceParallel.h - Megatron-SP as a constraint of the search
//
// Sequence parallelism (Korthikanti et al., 2022) runs the norms between
// tensor-parallel blocks on 1/tp of the rows. In the search's terms that is
// a norm's candidate whose row factor holds the "tp" axis; the row-parallel
// product's partial sum then reaches it through a reduce_scatter and leaves
// it through an all_gather, both priced by the edges. The cost alone
// decides under `auto`; `on` and `off` pin the choice.
//
//===----------------------------------------------------------------------===//
#ifndef CLEAVE_PASSES_SHARDING_SEARCHSEQUENCEPARALLEL_H
#define CLEAVE_PASSES_SHARDING_SEARCHSEQUENCEPARALLEL_H

#include "passes/Sharding/SearchProblem.h"

#include <functional>

namespace mlir::cleave {

/// The grid's "tp" axis (size > 1), or -1.
int findTensorParallelAxis(const GridInfo &grid);

/// Whether candidate `c` of class `groupClass` is a norm (layer_norm or its
/// gradient) with its rows split over `tpAxis`.
bool splitsNormRows(const SearchProblem &problem, int groupClass, int c, int tpAxis);

/// Which candidates `mode` admits: "off" no norm with its rows over tp;
/// "on" only those, wherever a norm's rows divide; "auto" all.
std::function<bool(int, int)> sequenceParallelFilter(const SearchProblem &problem,
                                                     llvm::StringRef mode);

} // namespace mlir::cleave

#endif // CLEAVE_PASSES_SHARDING_SEARCHSEQUENCEPARALLEL_H
