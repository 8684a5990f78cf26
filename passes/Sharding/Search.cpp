//===- Search.cpp - choose every op's sharding by cost (Alpa's intra-op ILP)
//
// The pass: its options name the devices, the cluster profile, an optional
// grid and pins; the driver (SearchDriver.h) plans every candidate grid
// over the search's problem (SearchProblem.h) with its 0-1 program
// (SearchIlp.h) and decides; the pass writes the decision:
//   * a plan: the module's shard.grid, cleave.factor_axes on ops and
//     cleave.sharding on arguments and results, exactly what
//     cleave-partition reads, and the plan's predicted step time as
//     cleave.predicted_step_seconds on the function;
//   * past the exact search's size, the fallback's options as
//     cleave.shard_fallback on the module, for cleave-seed-sharding and
//     cleave-propagate-sharding (from-search=true) to carry out: the
//     pipeline runs them after the search, and they do nothing when the
//     search planned.
//
//===----------------------------------------------------------------------===//
#include "passes/Analysis/Sharding/ShardingAttrs.h"
#include "passes/Passes.h"
#include "passes/Sharding/SearchDriver.h"
#include "passes/Sharding/Zero.h"
#include "passes/TrainStepAttrs.h"

#include "dialects/Cleave/IR/CleaveOps.h"
#include "mlir/IR/Builders.h"
#include "llvm/Support/DebugLog.h"

namespace mlir::cleave {
#define GEN_PASS_DEF_CLEAVESEARCHSHARDING
#include "passes/Passes.h.inc"
} // namespace mlir::cleave

#define DEBUG_TYPE "cleave-search-sharding"

using namespace mlir;
using namespace mlir::cleave;

namespace {

/// Writes `plan` on `module` and its function `func`.
void writePlan(ModuleOp module, func::FuncOp func, const SearchPlan &plan) {
  MLIRContext *context = module.getContext();
  for (auto existing : llvm::make_early_inc_range(module.getOps<shard::GridOp>()))
    existing.erase();
  OpBuilder builder(context);
  builder.setInsertionPointToStart(module.getBody());
  auto grid = shard::GridOp::create(builder, module.getLoc(), "grid", plan.grid.sizes);
  setAxisNames(grid, plan.grid.names);

  for (const auto &[index, dims] : plan.arguments)
    setArgSharding(func, index, dims);
  for (const auto &[op, axes] : plan.ops)
    setFactorAxes(op, axes);
  // An updated tensor is returned in its argument's layout.
  for (unsigned r = 0; r < func.getNumResults(); ++r) {
    int64_t updated = getUpdatedArgument(func, r);
    auto attr =
        updated >= 0 ? func.getArgAttr(updated, CleaveDialect::kShardingAttrName) : Attribute();
    if (attr)
      func.setResultAttr(r, CleaveDialect::kShardingAttrName, attr);
    else
      func.removeResultAttr(r, StringAttr::get(context, CleaveDialect::kShardingAttrName));
  }
  setPredictedStepSeconds(func, plan.seconds);
}

struct SearchShardingPass
    : public mlir::cleave::impl::CleaveSearchShardingBase<SearchShardingPass> {
  using CleaveSearchShardingBase::CleaveSearchShardingBase;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    auto func = module.lookupSymbol<func::FuncOp>(function);
    if (!func || func.isExternal()) {
      module.emitError() << "cleave-search-sharding: no function @" << function;
      return signalPassFailure();
    }
    if (!isZeroLevel(zero)) {
      module.emitError() << "ZeRO level " << static_cast<int>(zero) << " is not one of 0, 1, 2, 3";
      return signalPassFailure();
    }
    if (devices < 1) {
      module.emitError("cleave-search-sharding needs devices >= 1");
      return signalPassFailure();
    }
    llvm::Expected<Cluster> cluster = loadCluster(clusterName, devices);
    if (!cluster) {
      module.emitError() << llvm::toString(cluster.takeError());
      return signalPassFailure();
    }
    SearchOptions options;
    options.devices = devices;
    options.clusterName = clusterName;
    options.gridSpec = gridSpec;
    options.pins = pins;
    options.timeLimit = timeLimit;
    options.maxOps = maxOps;
    options.precision = precision;
    if (sequenceParallel != "auto" && sequenceParallel != "on" && sequenceParallel != "off") {
      module.emitError() << "cleave-search-sharding: sequence-parallel=" << sequenceParallel
                         << " is not one of auto, on, off";
      return signalPassFailure();
    }
    options.sequenceParallel = sequenceParallel;
    FailureOr<SearchDecision> decision = runShardingSearch(module, func, *cluster, options);
    if (failed(decision))
      return signalPassFailure();
    if (const std::optional<SearchFallback> &fallback = decision->fallback) {
      // Seeding and propagation carry it out (cleave-seed-sharding and
      // cleave-propagate-sharding with from-search=true).
      LDBG() << "recording the fallback on the module for seeding and propagation";
      Builder builder(module.getContext());
      module->setAttr(CleaveDialect::kShardFallbackAttrName,
                      builder.getDictionaryAttr({
                          builder.getNamedAttr("grid", builder.getStringAttr(fallback->grid)),
                          builder.getNamedAttr("shard", builder.getStringAttr(fallback->pins)),
                          builder.getNamedAttr(
                              "zero", builder.getI64IntegerAttr(zero > 0 ? zero : fallback->zero)),
                      }));
      return;
    }
    module->removeAttr(CleaveDialect::kShardFallbackAttrName);
    writePlan(module, func, *decision->plan);
    if (failed(applyZero(module, func)))
      return signalPassFailure();
  }

  /// A --zero pin on top of the searched layouts (Zero.h): the search
  /// decides the grid and every op's split, ZeRO then shards over its dp
  /// axis what that plan keeps whole there. No dp axis (or dp=1): nothing
  /// to shard.
  LogicalResult applyZero(ModuleOp module, func::FuncOp func) {
    if (zero == 0)
      return success();
    FailureOr<GridInfo> grid = getGrid(module);
    if (failed(grid))
      return failure();
    auto dpName = llvm::find(grid->names, "dp");
    if (dpName == grid->names.end())
      return success();
    auto dp = static_cast<int16_t>(dpName - grid->names.begin());
    if (grid->shape[dp] < 2)
      return success();
    LDBG() << "ZeRO-" << zero << " over dp on the searched plan";
    addZeroArgumentSplits(func, grid->shape, dp, zero);
    splitUpdateOverAxis(func, *grid, dp, /*reduceWhole=*/zero == 1);
    return success();
  }
};

} // namespace
