//===- ConfigFigures.h - what pricing a configuration reads, read once ----===//
//
// The figures ConfigCost.h prices with, read from a phase-tagged train
// step and cached: the split's chunks for each S x V (the split's own
// balance and counting, SplitCuts.h and SplitFigures.h, at one device and
// the global batch), the intra-op plan's factors for each dp x tp sub-grid
// (the sharding search on the global step, once per shape) and what each
// recompute mode keeps and recomputes.
//
//===----------------------------------------------------------------------===//
#ifndef CLEAVE_PASSES_PLANNER_CONFIGFIGURES_H
#define CLEAVE_PASSES_PLANNER_CONFIGFIGURES_H

#include "passes/Pipeline/SplitCuts.h"
#include "passes/Pipeline/SplitPhases.h"
#include "passes/Planner/ConfigCost.h"
#include "passes/Sharding/SearchProblem.h"

#include "mlir/IR/BuiltinOps.h"

#include <map>
#include <memory>

namespace mlir::cleave {

class ConfigFigures {
public:
  /// Reads @train_step of `module`; an error on the function without
  /// phase tags. `cluster` prices the ops (one device's rates).
  static FailureOr<std::unique_ptr<ConfigFigures>>
  analyze(ModuleOp module, const Cluster &cluster, std::string clusterName,
          std::vector<std::string> cuts, std::string shardPins, double ilpTimeLimit, int64_t maxOps,
          std::string precision = "fp32");

  /// Layer boundaries + 1: the most chunks a balanced split can have.
  int64_t numLayers() const { return profile.numLayers(); }
  /// The batch: the first dimension of the first batch input (0 if none).
  int64_t batchRows() const { return rows; }

  /// The chunks of an S x V split (balanced, or the pinned cuts); failure
  /// (diagnostic on the function) when the cuts cannot be made.
  FailureOr<const ChunkFigures *> chunks(int64_t stages, int64_t virtualStages);

  /// The sub-grid's factors (1 where it has no plan).
  const SubGridFigures &subGrid(int64_t dp, int64_t tp);
  /// The sub-grid's own plan when it fits the devices as it is (one stage,
  /// one micro-batch): its step seconds and bytes per device, exactly what
  /// the sharding search alone would predict for that grid.
  struct PlainPlan {
    double seconds = 0, bytes = 0;
  };
  std::optional<PlainPlan> plainPlan(int64_t dp, int64_t tp);

  /// What `mode` keeps and recomputes; nullopt when it cannot be priced
  /// (the recompute pass is not built in, or it failed on this step).
  std::optional<RecomputeFigures> recompute(RecomputeMode mode);

  /// The sharding searches run so far (one per distinct sub-grid shape).
  int64_t numSubGridPlans() const { return static_cast<int64_t>(subGridPlans.size()); }

private:
  ConfigFigures(ModuleOp module, TrainStepPhases phases, const Cluster &cluster)
      : module(module), phases(std::move(phases)), cluster(cluster) {}

  ModuleOp module;
  TrainStepPhases phases;
  Cluster cluster;
  std::string clusterName, shardPins;
  /// The user's --precision: the split's and the sub-grid plans' prices.
  std::string precision = "fp32";
  std::vector<std::string> cuts;
  double ilpTimeLimit = 2.0;
  int64_t maxOps = 2500;
  CutProfile profile;
  int64_t rows = 0;
  double computeSeconds = 0;  // the forward and backward on one device
  double updateSeconds = 0;   // the optimizer's update on one device
  int64_t trainableBytes = 0; // the gradients' bytes
  int64_t stashBytes = 0;     // the forward's values the backward reads
  int64_t stateBytes = 0;     // parameters, gradients, optimizer state
  std::map<std::pair<int64_t, int64_t>, ChunkFigures> chunkCache;
  std::map<std::pair<int64_t, int64_t>, SubGridFigures> subGrids;
  struct SubGridPlan {
    SearchPlan plan;
    Cluster cluster;
    bool fits = false;
  };
  const std::optional<SubGridPlan> &planSubGrid(int64_t dp, int64_t tp);
  std::map<std::pair<int64_t, int64_t>, std::optional<SubGridPlan>> subGridPlans;
  std::map<RecomputeMode, std::optional<RecomputeFigures>> recomputeCache;
};

} // namespace mlir::cleave

#endif // CLEAVE_PASSES_PLANNER_CONFIGFIGURES_H
