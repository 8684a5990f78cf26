//===- GridSpec.h - grids and pins as the user writes them ----------------===//
//
// `--grid dp=2,tp=2` names the axes of a device grid and their sizes;
// `--shard fc1.weight=tp,-` pins a parameter's layout on it, one entry per
// dimension (a grid axis, a*b for several, - for none). cleavec, cleave-plan
// and the sharding passes all read them here.
//
//===----------------------------------------------------------------------===//
#ifndef CLEAVE_PASSES_ANALYSIS_SHARDING_GRIDSPEC_H
#define CLEAVE_PASSES_ANALYSIS_SHARDING_GRIDSPEC_H

#include "passes/Analysis/Sharding/TensorSharding.h"

#include "llvm/ADT/StringMap.h"
#include "llvm/Support/Error.h"

#include <string>

namespace mlir::cleave {

/// A grid as the user writes it ("dp=2,tp=2"): axis names and sizes.
struct ParsedGrid {
  llvm::SmallVector<std::string> names;
  llvm::SmallVector<int64_t> sizes;

  /// The product of the sizes.
  int64_t devices() const;
};

/// Parses "NAME=SIZE,..." (positive sizes, distinct names, at least one
/// axis), or an error that says which part is wrong.
llvm::Expected<ParsedGrid> parseGridSpec(llvm::StringRef spec);

/// parseGridSpec, its error emitted on `where`.
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

#endif // CLEAVE_PASSES_ANALYSIS_SHARDING_GRIDSPEC_H
