//===- SearchDriver.h - grids, descent and trials of the sharding search --===//
//
// The search's driver: which grids to try, how to plan each (exactly on one
// axis; on several, block coordinate descent from the one-axis plan,
// SearchDescent.cpp), which grid wins, and what to do when none has a plan
// (SearchDriver.cpp). It reads the module and changes nothing: the pass
// (Search.cpp) writes what it decides.
//
//===----------------------------------------------------------------------===//
#ifndef CLEAVE_PASSES_SHARDING_SEARCHDRIVER_H
#define CLEAVE_PASSES_SHARDING_SEARCHDRIVER_H

#include "passes/Sharding/SearchProblem.h"

#include <optional>
#include <string>

namespace mlir::cleave {

/// How one grid is planned.
struct GridSearchOptions {
  double timeLimit = 2.0; // seconds of CBC per solve
  int64_t maxDistinctOps = 2500;
  /// Layouts the user pinned (--shard), by argument number of the parameter.
  DenseMap<unsigned, SmallVector<AxisList, 4>> pinned;
  /// Ignore time and take the plan that needs the least memory (when no
  /// plan fits, to say by how much).
  bool leastMemory = false;
  /// On a grid of several axes: the plan found on one axis over the same
  /// devices (per class, the factor or dimension it split), the descent's
  /// start.
  std::optional<std::vector<int8_t>> oneAxisPlan;
  /// "fp32" or "bf16": the precision the plan is priced at (Precision.h).
  std::string precision = "fp32";
  /// Megatron-SP: "on" requires, "off" forbids norms' rows split over the
  /// "tp" axis; "auto" leaves it to the cost, equal times going to the plan
  /// that keeps fewer activation bytes.
  std::string sequenceParallel = "auto";
};

struct GridSearchResult {
  /// The plan, or failure with a diagnostic on the function.
  FailureOr<SearchPlan> plan = failure();
  /// The problem or its program exceeded the exact search's size.
  bool tooLarge = false;
  int64_t distinctOps = 0;
  /// On a one-axis grid, the plan's axis targets per class: the start of
  /// the grids of several axes.
  std::optional<std::vector<int8_t>> oneAxisPlan;
};

/// Plans `func` on `grid`.
GridSearchResult searchGrid(func::FuncOp func, const ParsedGrid &grid, const Cluster &cluster,
                            const GridSearchOptions &options);

/// The grids tried for `devices` devices: (a, devices / a) named dp and tp,
/// one axis first. The search decides what each axis splits, so the names
/// only label the plan. The second axis stays inside a node when there are
/// several (it carries the fine-grained collectives that need the node's
/// links, as Megatron and Alpa place tensor parallelism); (1, devices) is
/// (devices, 1) renamed.
SmallVector<ParsedGrid> candidateGrids(int64_t devices, const Cluster &cluster);

struct SearchOptions {
  int64_t devices = 1;
  std::string clusterName; // for messages
  std::string gridSpec;    // search only this grid; empty: candidateGrids
  std::string pins;        // NAME=SPEC;NAME=SPEC
  double timeLimit = 2.0;
  int64_t maxOps = 2500;
  std::string precision = "fp32";        // fp32 or bf16 (Precision.h)
  std::string sequenceParallel = "auto"; // GridSearchOptions::sequenceParallel
};

/// Past the exact search's size: what cleave-seed-sharding and
/// cleave-propagate-sharding plan instead (docs/sharding.md).
struct SearchFallback {
  std::string grid; // "dp=8,tp=2"
  int64_t zero = 0;
  std::string pins;
};

/// The search's decision: a plan, or the fallback.
struct SearchDecision {
  std::optional<SearchPlan> plan;
  std::optional<SearchFallback> fallback;
};

/// Plans `func` over every candidate grid and keeps the fastest (a grid of
/// more axes must gain kMinSearchGain); when no plan fits, the one needing
/// the least memory; past the exact search's size, the fallback. Failure
/// (with a diagnostic on `module`) when the options are wrong or no grid
/// has a plan.
FailureOr<SearchDecision> runShardingSearch(ModuleOp module, func::FuncOp func,
                                            const Cluster &cluster, const SearchOptions &options);

} // namespace mlir::cleave

#endif // CLEAVE_PASSES_SHARDING_SEARCHDRIVER_H
