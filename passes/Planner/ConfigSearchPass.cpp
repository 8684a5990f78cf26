//===- ConfigSearchPass.cpp - cleave-search-configuration -----------------===//
//
// The 3-D search as a pass (Passes.td), for cleave-opt and its tests: the
// tools call searchConfiguration directly and carry the configuration out
// with the shard pipeline.
//
//===----------------------------------------------------------------------===//
#include "passes/Passes.h"
#include "passes/Planner/ConfigSearch.h"

#include "dialects/Cleave/IR/CleaveDialect.h"

#include "llvm/ADT/StringExtras.h"

namespace mlir::cleave {
#define GEN_PASS_DEF_CLEAVESEARCHCONFIGURATION
#include "passes/Passes.h.inc"
} // namespace mlir::cleave

using namespace mlir;
using namespace mlir::cleave;

/// The search's record on the module (the dialect's verifier knows it).
static constexpr llvm::StringLiteral kConfigurationAttrName = "cleave.configuration";

namespace {

struct SearchConfigurationPass
    : public mlir::cleave::impl::CleaveSearchConfigurationBase<SearchConfigurationPass> {
  using CleaveSearchConfigurationBase::CleaveSearchConfigurationBase;

  /// The options as the search's pins; failure with an error on `module`.
  FailureOr<ConfigSearchOptions> readOptions(ModuleOp module) {
    ConfigSearchOptions options;
    options.devices = devices;
    options.clusterName = clusterName;
    options.precision = precision;
    if (precision != "fp32" && precision != "bf16")
      return module.emitError() << "cleave-search-configuration: precision '" << precision
                                << "': use fp32 or bf16",
             failure();
    llvm::SmallVector<llvm::StringRef> axes;
    llvm::StringRef(grid).split(axes, ',', -1, false);
    for (llvm::StringRef axis : axes) {
      auto [name, value] = axis.split('=');
      int64_t size = 0;
      std::optional<int64_t> *pin = name == "pp"   ? &options.pp
                                    : name == "dp" ? &options.dp
                                    : name == "tp" ? &options.tp
                                                   : nullptr;
      if (!pin || value.getAsInteger(10, size) || size < 1)
        return module.emitError() << "cleave-search-configuration: grid axis '" << axis
                                  << "': give pp, dp or tp with a positive size (e.g. pp=2)",
               failure();
      *pin = size;
    }
    if (zero >= 0)
      options.zero = static_cast<int>(zero);
    if (microBatches > 0)
      options.microBatches = microBatches;
    if (!schedule.empty()) {
      if (schedule != "gpipe" && schedule != "1f1b" && schedule != "interleaved")
        return module.emitError() << "cleave-search-configuration: schedule '" << schedule
                                  << "': use gpipe, 1f1b or interleaved",
               failure();
      options.schedule = schedule;
    }
    if (virtualStages > 0)
      options.virtualStages = virtualStages;
    if (!recompute.empty()) {
      std::optional<RecomputeMode> mode = parseRecomputeMode(recompute);
      if (!mode)
        return module.emitError() << "cleave-search-configuration: recompute '" << recompute
                                  << "': use none, selective or full",
               failure();
      options.recompute = *mode;
    }
    options.cuts.assign(cuts.begin(), cuts.end());
    options.shardPins = pins;
    return options;
  }

  void runOnOperation() override {
    ModuleOp module = getOperation();
    FailureOr<ConfigSearchOptions> options = readOptions(module);
    if (failed(options))
      return signalPassFailure();
    llvm::Expected<Cluster> cluster = loadCluster(clusterName, devices);
    if (!cluster) {
      module.emitError() << "cleave-search-configuration: " << llvm::toString(cluster.takeError());
      return signalPassFailure();
    }
    FailureOr<ConfigSearchResult> result = searchConfiguration(module, *cluster, *options);
    if (failed(result))
      return signalPassFailure();
    module->setAttr(kConfigurationAttrName, buildConfigurationAttr(&getContext(), *result));
    if (print)
      printConfigurationSearch(*result, llvm::outs());
  }
};

} // namespace
