//===- ConfigureStep.cpp - the tools' configuration search ----------------===//
#include "compiler/ConfigureStep.h"

#include "passes/Analysis/Cluster/Cluster.h"
#include "passes/Pipelines.h"

#include "mlir/IR/Diagnostics.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/FormatVariadic.h"

using namespace mlir;
using namespace mlir::cleave;

static llvm::Error makeError(const llvm::Twine &message) {
  return llvm::createStringError(llvm::inconvertibleErrorCode(), message);
}

bool mlir::cleave::wantsConfigurationSearch(const ShardOptions &shard) {
  if (shard.plan != "auto" || shard.devices <= 1)
    return false;
  // A grid of other axes, or one whose devices disagree with --devices,
  // goes to the shard pipeline as it is (which plans it or says why not).
  llvm::SmallVector<llvm::StringRef> axes;
  llvm::StringRef(shard.grid).split(axes, ',', -1, false);
  int64_t product = 1;
  for (llvm::StringRef axis : axes) {
    auto [name, value] = axis.split('=');
    int64_t size = 0;
    if ((name != "pp" && name != "dp" && name != "tp") || value.getAsInteger(10, size) || size < 1)
      return false;
    product *= size;
  }
  return shard.devices % product == 0;
}

llvm::Expected<ConfigSearchOptions>
mlir::cleave::getConfigSearchOptions(const ShardOptions &shard, llvm::StringRef precision) {
  ConfigSearchOptions options;
  options.devices = shard.devices;
  options.clusterName = shard.cluster;
  options.precision = precision.str();
  options.overlap = shard.overlapCommunication;
  llvm::SmallVector<llvm::StringRef> axes;
  llvm::StringRef(shard.grid).split(axes, ',', -1, false);
  for (llvm::StringRef axis : axes) {
    auto [name, value] = axis.split('=');
    int64_t size = 0;
    if (value.getAsInteger(10, size) || size < 1)
      return makeError("--grid " + shard.grid + ": axis '" + axis + "' needs a positive size");
    (name == "pp" ? options.pp : name == "dp" ? options.dp : options.tp) = size;
  }
  if (shard.microBatchesPinned)
    options.microBatches = shard.microBatches;
  if (shard.schedulePinned)
    options.schedule = shard.schedule;
  if (shard.virtualStages != 1)
    options.virtualStages = shard.virtualStages;
  if (shard.zeroPinned)
    options.zero = shard.zero;
  // --recompute ("" lets the search decide).
  if (!shard.recompute.empty()) {
    std::optional<RecomputeMode> mode = parseRecomputeMode(shard.recompute);
    if (!mode)
      return makeError("--recompute " + shard.recompute + ": use none, selective or full");
    options.recompute = *mode;
  }
  options.cuts = shard.pipelineCuts;
  options.shardPins = llvm::join(shard.pins, ";");
  return options;
}

void mlir::cleave::applyConfiguration(const Configuration &config, ShardOptions &shard) {
  shard.grid = config.grid();
  shard.microBatches = static_cast<int>(config.microBatches);
  shard.schedule = config.schedule;
  shard.virtualStages = static_cast<int>(config.virtualStages);
  shard.zero = config.zero;
  shard.recompute = recomputeModeName(config.recompute).str();
}

llvm::Expected<std::optional<ConfigSearchResult>>
mlir::cleave::configureTrainStep(ModuleOp module, TrainOptions &train, ShardOptions &shard,
                                 llvm::StringRef precision) {
  // A step already split into stages has nothing left to search.
  if (!wantsConfigurationSearch(shard) ||
      (!module.lookupSymbol("train_step") && !module.lookupSymbol("forward")))
    return std::nullopt;
  llvm::Expected<ConfigSearchOptions> options = getConfigSearchOptions(shard, precision);
  if (!options)
    return options.takeError();
  llvm::Expected<Cluster> cluster = loadCluster(shard.cluster, shard.devices);
  if (!cluster)
    return cluster.takeError();
  OwningOpRef<ModuleOp> tagged;
  ModuleOp searched = module;
  if (!module.lookupSymbol("train_step")) {
    tagged = module.clone();
    TrainOptions withTags = train;
    withTags.settings.phaseTags = true;
    if (llvm::Error error = buildTrainStep(*tagged, withTags))
      return std::move(error);
    searched = *tagged;
  }
  std::string diagnostics;
  FailureOr<ConfigSearchResult> result = failure();
  bool untagged = false;
  {
    ScopedDiagnosticHandler handler(module.getContext(), [&](Diagnostic &diagnostic) {
      if (diagnostic.str().find("phase-tags") != std::string::npos)
        untagged = true;
      diagnostics += (diagnostics.empty() ? "" : "\n") + diagnostic.str();
      return success();
    });
    result = searchConfiguration(searched, *cluster, *options);
  }
  if (failed(result)) {
    // A step read from a file without phase tags is planned as before.
    if (untagged && !tagged)
      return std::nullopt;
    return makeError("the configuration search failed: " + diagnostics);
  }
  applyConfiguration(result->best.config, shard);
  train.settings.phaseTags = wantsPipeline(shard);
  return std::optional<ConfigSearchResult>(std::move(*result));
}

std::string mlir::cleave::describeConfigurationChoice(const ConfigSearchResult &result) {
  return llvm::formatv("Plan: {0} (searched {1} configurations in {2:F2} s; predicted step "
                       "{3:F3} ms)",
                       formatConfiguration(result.best.config), result.priced, result.seconds,
                       result.best.stepSeconds * 1e3)
      .str();
}
