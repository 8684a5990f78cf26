//===- SearchIlp.h - the search's choice as a 0-1 program -----------------===//
//
// One binary column per allowed candidate of each class (exactly one per
// class), the candidates' compute and in-group resharding as their
// objective. An edge whose cost depends on one choice only (one side fixed,
// one allowed layout, or both sides in one class, which choose alike) adds
// to that side's columns; the others are linearised as a transportation
// polytope: continuous y[i][j] >= 0 over the producer's and consumer's
// distinct layouts, whose row and column sums are the two one-hot choices,
// so y is their product and y . cost is exact. One row keeps parameters,
// gradients, optimizer state and saved activations within the devices'
// memory. CBC (IlpSolver.h) solves it.
//
//===----------------------------------------------------------------------===//
#ifndef CLEAVE_PASSES_SHARDING_SEARCHILP_H
#define CLEAVE_PASSES_SHARDING_SEARCHILP_H

#include "passes/Sharding/SearchProblem.h"

namespace mlir::cleave {

struct IlpSearchResult {
  /// The chosen candidate per class and its predicted seconds, or failure
  /// with a diagnostic on the function.
  std::vector<int> chosen;
  FailureOr<double> seconds = failure();
  /// The program exceeded its size limit (the search then falls back).
  bool tooLarge = false;
};

/// Relative gain below which a change of plan is not worth making (a bias
/// laid out differently, say): ties keep the simpler plan. CBC stops within
/// half of it.
inline constexpr double kMinSearchGain = 1e-3;

/// Solves `problem` over the candidates `allowed(class, candidate)` admits
/// (a class with one candidate, a pin, always), from `start` (a candidate
/// per class, or empty: the first allowed one), within `timeLimit`
/// seconds of CBC.
IlpSearchResult solveSearchIlp(const SearchProblem &problem,
                               llvm::function_ref<bool(int, int)> allowed, ArrayRef<int> start,
                               double timeLimit);

} // namespace mlir::cleave

#endif // CLEAVE_PASSES_SHARDING_SEARCHILP_H
