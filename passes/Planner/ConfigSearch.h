//===- ConfigSearch.h - the 3-D search over configurations ----------------===//
//
// Enumerates the configurations of a phase-tagged train step on N devices
// (docs/planner.md, "The search"): stages S over the divisors of N up to
// the layers, tp inside a node, dp = N / (S tp) dividing the batch,
// micro-batches over the divisors of the per-dp batch (at least S with a
// pipeline), the schedules, recomputation and ZeRO levels; what the user
// pinned restricts each. Each is priced by ConfigCost.h on figures read
// once: the split's chunks per S x V, the intra-op plan's factors per
// dp x tp sub-grid (the sharding ILP, once per shape), the recompute
// modes. The fastest configuration that fits wins; one with more
// machinery must gain kMinSearchGain over a simpler one. When none fits,
// the one needing the least memory.
//
//===----------------------------------------------------------------------===//
#ifndef CLEAVE_PASSES_PLANNER_CONFIGSEARCH_H
#define CLEAVE_PASSES_PLANNER_CONFIGSEARCH_H

#include "passes/Analysis/Cluster/Cluster.h"
#include "passes/Planner/ConfigCost.h"
#include "passes/Planner/Configuration.h"

#include "mlir/IR/BuiltinOps.h"
#include "llvm/Support/raw_ostream.h"

#include <optional>
#include <string>
#include <vector>

namespace mlir::cleave {

struct ConfigSearchOptions {
  int64_t devices = 1;
  std::string clusterName = "cpu";
  /// The user's --precision (never searched).
  std::string precision = "fp32";
  /// Pins: each given one restricts the search to it.
  std::optional<int64_t> pp, dp, tp, microBatches, virtualStages;
  std::optional<std::string> schedule;
  std::optional<RecomputeMode> recompute;
  std::optional<int> zero;
  std::optional<bool> sequenceParallel;
  /// --pipeline-cuts: pins the stages' count too (cuts + 1 chunks).
  std::vector<std::string> cuts;
  /// --shard pins (NAME=SPEC;NAME=SPEC), for the sub-grids' plans.
  std::string shardPins;
  /// Whether the search may choose sequence parallelism; off, it is only
  /// priced where pinned (the intra-op plan decides it otherwise).
  bool searchSequenceParallel = false;
  /// Whether recomputation is considered (off: only recompute=none).
  bool searchRecompute = true;
  /// ZeRO only as data parallelism over every device (one stage, no tp).
  bool zeroOnlyDataParallel = false;
  /// The ZeRO levels searched when --zero is not given.
  std::vector<int> zeroLevels = {0, 1, 2, 3};
  int64_t maxMicroBatches = 256;
  double ilpTimeLimit = 2.0;
  int64_t maxOps = 2500;
  /// Price the overlapped schedule (priceConfiguration's `overlap`); false
  /// for --no-overlap.
  bool overlap = true;
};

struct ConfigSearchResult {
  PricedConfiguration best;
  /// The fastest that fit first, then the rest by memory; the top 10.
  std::vector<PricedConfiguration> considered;
  int64_t priced = 0;
  double seconds = 0;
  /// Whether the options pinned every decision (the search had one
  /// configuration to price).
  bool allPinned = false;
};

/// Searches the configurations of @train_step in `module` (built with the
/// train pipeline's phase-tags=true) on `cluster` (N = options.devices
/// devices). Failure, with an error on the module, for pins that cannot
/// hold together (a grid that does not divide N, micro-batches that do not
/// divide the batch, ...) or a step without phase tags.
FailureOr<ConfigSearchResult> searchConfiguration(ModuleOp module, const Cluster &cluster,
                                                  const ConfigSearchOptions &options);

/// Picks from `priced` (in enumeration order, simpler first): the fastest
/// that fits, a later one replacing an earlier only when faster by
/// kMinSearchGain and a configuration of more machinery (pp, micro-batches,
/// recompute, ZeRO, ...) only when faster than every simpler one by that
/// much; none fitting: the least memory. Fills best and considered.
void chooseConfiguration(std::vector<PricedConfiguration> priced, ConfigSearchResult &result);

/// How much machinery a configuration uses (0: one stage, one micro-batch,
/// no recompute, no ZeRO).
int configurationMachinery(const Configuration &config);

/// The chosen configuration, its parts and the alternatives, as text.
void printConfigurationSearch(const ConfigSearchResult &result, llvm::raw_ostream &os);

/// The module attribute cleave.configuration (docs/planner.md).
DictionaryAttr buildConfigurationAttr(MLIRContext *context, const ConfigSearchResult &result);

} // namespace mlir::cleave

#endif // CLEAVE_PASSES_PLANNER_CONFIGSEARCH_H
