//===- ConfigSearch.cpp - the 3-D search over configurations --------------===//
//
// The expensive figures (a sharding search per sub-grid shape, a split per
// chunk count) are read lazily and cached by ConfigFigures; everything per
// configuration is ConfigCost.h's arithmetic. The enumeration goes from the
// simplest configurations to those with more machinery so that, with the
// gain rule of chooseConfiguration, a tie keeps the simpler plan (and a
// model that fits keeps the plan the sharding search alone would make).
//
//===----------------------------------------------------------------------===//
#include "passes/Planner/ConfigSearch.h"
#include "dialects/Cleave/IR/CleaveOps.h"
#include "passes/Planner/ConfigFigures.h"
#include "passes/Sharding/SearchIlp.h"

#include "mlir/IR/Builders.h"
#include "llvm/Support/DebugLog.h"

#include <algorithm>
#include <chrono>
#include <limits>

#define DEBUG_TYPE "cleave-search-configuration"

using namespace mlir;
using namespace mlir::cleave;

int mlir::cleave::configurationMachinery(const Configuration &config) {
  return (config.pp > 1) + (config.microBatches > 1) + (config.virtualStages > 1) +
         (config.recompute != RecomputeMode::none) + (config.zero > 0) + config.sequenceParallel;
}

void mlir::cleave::chooseConfiguration(std::vector<PricedConfiguration> priced,
                                       ConfigSearchResult &result) {
  result.priced = static_cast<int64_t>(priced.size());
  if (priced.empty())
    return;
  std::stable_sort(priced.begin(), priced.end(),
                   [](const PricedConfiguration &a, const PricedConfiguration &b) {
                     return configurationMachinery(a.config) < configurationMachinery(b.config);
                   });
  const PricedConfiguration *best = nullptr;
  // ZeRO and recomputation trade time for memory: they are chosen when
  // nothing without them fits (or the user pinned them, which leaves no
  // other choice). In this cost model ZeRO-1 and -2 would win a little by
  // sharding the update; a plan that fits keeps its state whole, as the
  // sharding search alone plans it.
  auto savesMemory = [](const Configuration &config) {
    return config.zero > 0 || config.recompute != RecomputeMode::none;
  };
  for (bool memorySaving : {false, true}) {
    for (const PricedConfiguration &candidate : priced)
      if (candidate.fits && savesMemory(candidate.config) == memorySaving &&
          (!best || candidate.stepSeconds < best->stepSeconds * (1 - kMinSearchGain)))
        best = &candidate;
    if (best)
      break;
  }
  if (!best)
    for (const PricedConfiguration &candidate : priced)
      if (!best || candidate.memoryBytes < best->memoryBytes * (1 - kMinSearchGain))
        best = &candidate;
  result.best = *best;
  // The top ten: those that fit by time, then the rest by memory.
  std::stable_sort(priced.begin(), priced.end(),
                   [](const PricedConfiguration &a, const PricedConfiguration &b) {
                     if (a.fits != b.fits)
                       return a.fits;
                     return a.fits ? a.stepSeconds < b.stepSeconds : a.memoryBytes < b.memoryBytes;
                   });
  // (`best` pointed into `priced`, which is now sorted again.)
  std::string chosen = formatConfiguration(result.best.config);
  result.considered.clear();
  result.considered.push_back(result.best);
  for (const PricedConfiguration &candidate : priced) {
    if (result.considered.size() >= 10)
      break;
    if (formatConfiguration(candidate.config) != chosen)
      result.considered.push_back(candidate);
  }
}

static std::vector<int64_t> divisorsOf(int64_t n) {
  std::vector<int64_t> divisors;
  for (int64_t d = 1; d <= n; ++d)
    if (n % d == 0)
      divisors.push_back(d);
  return divisors;
}

FailureOr<ConfigSearchResult>
mlir::cleave::searchConfiguration(ModuleOp module, const Cluster &cluster,
                                  const ConfigSearchOptions &options) {
  auto start = std::chrono::steady_clock::now();
  const int64_t devices = options.devices;
  if (devices < 1)
    return module.emitError() << "the configuration search needs at least one device, got "
                              << devices,
           failure();
  // Pins that cannot hold together are the user's to fix.
  int64_t pinnedProduct = options.pp.value_or(1) * options.dp.value_or(1) * options.tp.value_or(1);
  if (devices % pinnedProduct != 0 ||
      (options.pp && options.dp && options.tp && pinnedProduct != devices))
    return module.emitError() << "the pinned grid (pp=" << options.pp.value_or(1)
                              << ", dp=" << options.dp.value_or(1)
                              << ", tp=" << options.tp.value_or(1) << ") does not divide the "
                              << devices << " devices: give sizes whose product is " << devices
                              << " (or divides it, leaving the rest to the search)",
           failure();
  if (options.zero && (*options.zero < 0 || *options.zero > 3))
    return module.emitError() << "ZeRO level " << *options.zero << ": use 0, 1, 2 or 3", failure();
  if (options.virtualStages && *options.virtualStages > 1 && options.schedule &&
      *options.schedule != "interleaved")
    return module.emitError() << "virtual-stages " << *options.virtualStages
                              << " needs the interleaved schedule, not " << *options.schedule,
           failure();

  FailureOr<std::unique_ptr<ConfigFigures>> analyzed =
      ConfigFigures::analyze(module, cluster, options.clusterName, options.cuts, options.shardPins,
                             options.ilpTimeLimit, options.maxOps, options.precision);
  if (failed(analyzed))
    return failure();
  ConfigFigures &figures = **analyzed;
  const int64_t layers = figures.numLayers(), rows = figures.batchRows();
  if (options.microBatches && rows > 0 && rows % *options.microBatches != 0)
    return module.emitError() << "micro-batches " << *options.microBatches
                              << " do not divide the batch of " << rows,
           failure();
  // The split cuts at layer boundaries: a pinned stage count needs as many.
  if (options.pp && options.cuts.empty() && *options.pp > layers)
    return module.emitError() << "--grid pp=" << *options.pp << ": cannot be cut into "
                              << *options.pp << " pipeline chunks: the model has " << layers
                              << (layers == 1 ? " layer" : " layers") << "; at most " << layers
                              << " stage" << (layers == 1 ? "" : "s")
                              << " (docs/pipeline.md, \"The split\")",
           failure();
  const int64_t tpLimit =
      cluster.devicesPerNode > 0 ? std::min(devices, cluster.devicesPerNode) : devices;
  // Batch normalisation's statistics are over what one step of the
  // program sees: with M micro-batches, over each micro-batch, which is
  // another computation. The search keeps M = 1 for such a model (so no
  // pipeline); --micro-batches still asks for more.
  bool batchStatistics = false;
  module.walk([&](BatchNormOp) { batchStatistics = true; });
  if (batchStatistics && options.pp && *options.pp > 1 && !options.microBatches)
    return module.emitError() << "--grid pp=" << *options.pp << " needs micro-batches, and the "
                              << "model's batch normalisation would compute its statistics per "
                              << "micro-batch (not what one device computes), so the search "
                              << "does not choose them: give --micro-batches M to accept that",
           failure();

  std::vector<PricedConfiguration> priced;
  std::string lastError;
  auto price = [&](const Configuration &config, const ChunkFigures &chunks) {
    std::optional<RecomputeFigures> recompute = figures.recompute(config.recompute);
    if (!recompute)
      return;
    llvm::Expected<PricedConfiguration> result =
        priceConfiguration(config, chunks, figures.subGrid(config.dp, config.tp), *recompute,
                           cluster, options.overlap);
    if (!result) {
      lastError = llvm::toString(result.takeError());
      return;
    }
    // One stage and one micro-batch of plain data and tensor parallelism is
    // what the sharding search plans alone: its own figures price it.
    if (config.pp == 1 && config.microBatches == 1 && config.zero == 0 &&
        config.recompute == RecomputeMode::none && !config.sequenceParallel)
      if (std::optional<ConfigFigures::PlainPlan> plain = figures.plainPlan(config.dp, config.tp)) {
        result->stepSeconds = plain->seconds;
        result->memoryBytes = plain->bytes;
        result->stageMemoryBytes = {static_cast<int64_t>(plain->bytes)};
        result->fits = true;
      }
    priced.push_back(std::move(*result));
  };

  std::vector<RecomputeMode> recomputeModes = {RecomputeMode::none};
  if (options.recompute)
    recomputeModes = {*options.recompute};
  else if (options.searchRecompute)
    recomputeModes = {RecomputeMode::none, RecomputeMode::selective, RecomputeMode::full};

  for (int64_t stages : divisorsOf(devices)) {
    if ((options.pp && stages != *options.pp) || (!options.pp && stages > layers))
      continue;
    for (int64_t tp : divisorsOf(devices / stages)) {
      int64_t dp = devices / (stages * tp);
      if ((options.tp && tp != *options.tp) || (options.dp && dp != *options.dp))
        continue;
      if (!options.tp && tp > tpLimit)
        continue;
      // One axis over every device is what the sharding search plans
      // alone: it may split weights there when the batch does not divide.
      bool plainOnly = rows > 0 && rows % dp != 0;
      if (plainOnly && (stages > 1 || tp > 1))
        continue;
      // The stage's plan may split the batch over tp too (the axis names
      // are labels): a micro-batch must still split over both.
      int64_t perReplica = plainOnly                           ? 1
                           : rows > 0 && rows % (dp * tp) == 0 ? rows / (dp * tp)
                           : rows > 0                          ? 1
                                                               : 1;
      for (int64_t m : divisorsOf(perReplica)) {
        if (options.microBatches ? m != *options.microBatches
                                 : (m > options.maxMicroBatches || (stages > 1 && m < stages) ||
                                    (batchStatistics && m > 1)))
          continue;
        struct Schedule {
          std::string name;
          int64_t virtualStages;
        };
        std::vector<Schedule> schedules;
        if (options.schedule || options.virtualStages) {
          std::string name = options.schedule.value_or(
              options.virtualStages.value_or(1) > 1 ? "interleaved" : "1f1b");
          int64_t v = options.virtualStages.value_or(name == "interleaved" && stages > 1 ? 2 : 1);
          schedules.push_back({name, v});
        } else {
          schedules.push_back({"1f1b", 1});
          if (stages > 1 && 2 * stages <= layers && m % stages == 0)
            schedules.push_back({"interleaved", 2});
        }
        for (const Schedule &schedule : schedules) {
          int64_t chunkCount = stages * schedule.virtualStages;
          if (!options.cuts.empty() && static_cast<int64_t>(options.cuts.size()) + 1 != chunkCount)
            continue;
          if (options.cuts.empty() && chunkCount > layers)
            continue;
          FailureOr<const ChunkFigures *> chunks;
          {
            ScopedDiagnosticHandler keep(module.getContext(), [&](Diagnostic &diagnostic) {
              lastError = diagnostic.str();
              return success();
            });
            chunks = figures.chunks(stages, schedule.virtualStages);
          }
          if (failed(chunks))
            continue;
          for (RecomputeMode recompute : recomputeModes)
            for (int zero = 0; zero <= 3; ++zero) {
              // ZeRO shards over dp as data parallelism: the batch must split,
              // pinned or not (a pinned level has nothing to shard on dp=1).
              if (options.zero ? zero != *options.zero
                               : !llvm::is_contained(options.zeroLevels, zero))
                continue;
              if (zero > 0 && (dp == 1 || plainOnly))
                continue;
              if (zero > 0 && options.zeroOnlyDataParallel && (stages > 1 || tp > 1))
                continue;
              for (int sp = 0; sp <= 1; ++sp) {
                if (options.sequenceParallel ? sp != *options.sequenceParallel
                                             : (sp && (tp == 1 || !options.searchSequenceParallel)))
                  continue;
                Configuration config;
                config.pp = stages;
                config.dp = dp;
                config.tp = tp;
                config.microBatches = m;
                config.schedule = schedule.name;
                config.virtualStages = schedule.virtualStages;
                config.recompute = recompute;
                config.zero = zero;
                config.sequenceParallel = sp;
                config.precision = options.precision;
                config.cuts = options.cuts;
                price(config, **chunks);
              }
            }
        }
      }
    }
  }
  if (priced.empty())
    return module.emitError() << "no configuration of " << devices << " devices satisfies the pins"
                              << (lastError.empty() ? "" : ": " + lastError),
           failure();
  ConfigSearchResult result;
  chooseConfiguration(std::move(priced), result);
  result.allPinned = result.priced == 1 && pinnedProduct == devices;
  result.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  LDBG() << "priced " << result.priced << " configurations (" << figures.numSubGridPlans()
         << " sub-grid plans) in " << result.seconds << " s; chosen "
         << formatConfiguration(result.best.config);
  return result;
}

DictionaryAttr mlir::cleave::buildConfigurationAttr(MLIRContext *context,
                                                    const ConfigSearchResult &result) {
  Builder b(context);
  const Configuration &config = result.best.config;
  SmallVector<NamedAttribute> entries = {
      b.getNamedAttr("pp", b.getI64IntegerAttr(config.pp)),
      b.getNamedAttr("dp", b.getI64IntegerAttr(config.dp)),
      b.getNamedAttr("tp", b.getI64IntegerAttr(config.tp)),
      b.getNamedAttr("micro_batches", b.getI64IntegerAttr(config.microBatches)),
      b.getNamedAttr("schedule", b.getStringAttr(config.schedule)),
      b.getNamedAttr("virtual_stages", b.getI64IntegerAttr(config.virtualStages)),
      b.getNamedAttr("recompute", b.getStringAttr(recomputeModeName(config.recompute))),
      b.getNamedAttr("zero", b.getI64IntegerAttr(config.zero)),
      b.getNamedAttr("sequence_parallel", b.getBoolAttr(config.sequenceParallel)),
      b.getNamedAttr("precision", b.getStringAttr(config.precision)),
      b.getNamedAttr("predicted_step_seconds", b.getF64FloatAttr(result.best.stepSeconds)),
      b.getNamedAttr("memory_bytes",
                     b.getI64IntegerAttr(static_cast<int64_t>(result.best.memoryBytes))),
      b.getNamedAttr("fits", b.getBoolAttr(result.best.fits)),
      b.getNamedAttr("configurations_priced", b.getI64IntegerAttr(result.priced)),
      b.getNamedAttr("search_seconds", b.getF64FloatAttr(result.seconds)),
      b.getNamedAttr("spec", b.getStringAttr(formatConfiguration(config))),
  };
  return b.getDictionaryAttr(entries);
}
