//===- SearchDriver.cpp - which grids, which wins, and the fallback -------===//
//
// Every candidate grid is planned (SearchDescent.cpp): the one-axis grid
// first, since its plan is where the others start, then the others side by
// side. The fastest wins; a grid of more axes must gain. When no grid has a
// plan that fits, the plan needing the least memory is kept, so that the
// report and cleavec can say by how much it misses. Past the exact search's
// size the decision is the fallback, which the pipeline's seeding and
// propagation passes then carry out.
//
//===----------------------------------------------------------------------===//
#include "passes/Sharding/SearchDriver.h"
#include "passes/Sharding/SearchIlp.h"
#include "passes/TrainStepAttrs.h"

#include "dialects/Cleave/IR/CleaveOps.h"
#include "mlir/IR/Threading.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/Support/DebugLog.h"

#include <limits>
#include <numeric>

#define DEBUG_TYPE "cleave-search-sharding"

using namespace mlir;
using namespace mlir::cleave;

SmallVector<ParsedGrid> mlir::cleave::candidateGrids(int64_t devices, const Cluster &cluster) {
  SmallVector<ParsedGrid> grids;
  for (int64_t a = devices; a >= 1; --a) {
    int64_t b = devices / a;
    if (devices % a != 0 || (a == 1 && devices > 1))
      continue;
    if (cluster.nodes > 1 && cluster.devicesPerNode % b != 0)
      continue;
    ParsedGrid grid;
    grid.names.push_back("dp");
    grid.sizes.push_back(a);
    if (b > 1) {
      grid.names.push_back("tp");
      grid.sizes.push_back(b);
    }
    grids.push_back(grid);
  }
  return grids;
}

static std::string gridName(const ParsedGrid &grid) {
  std::string name;
  for (auto [axis, size] : llvm::zip(grid.names, grid.sizes))
    name += (name.empty() ? "" : ",") + axis + "=" + std::to_string(size);
  return name;
}

/// The pins' layouts on `grid`, by argument number; failure (with a
/// diagnostic on `func`) where a pin names an axis the grid lacks or a size
/// that does not divide.
static FailureOr<DenseMap<unsigned, SmallVector<AxisList, 4>>>
pinsOnGrid(func::FuncOp func, const ParsedGrid &grid, const llvm::StringMap<std::string> &pins,
           const llvm::StringMap<unsigned> &paramArguments) {
  DenseMap<unsigned, SmallVector<AxisList, 4>> pinned;
  bool usable = true;
  for (const auto &pin : pins) {
    unsigned index = paramArguments.lookup(pin.getKey());
    auto type = cast<RankedTensorType>(func.getArgument(index).getType());
    FailureOr<SmallVector<AxisList, 4>> dims =
        parseSpec(pin.getValue(), grid, type.getRank(), pin.getKey(), func);
    if (failed(dims))
      return failure();
    for (auto [dim, axes] : llvm::enumerate(*dims)) {
      int64_t parts = 1;
      for (int16_t axis : axes)
        parts *= grid.sizes[axis];
      if (type.getDimSize(dim) % parts != 0) {
        func.emitError() << "--shard " << pin.getKey() << "=" << pin.getValue() << ": dimension "
                         << dim << " (size " << type.getDimSize(dim) << ") cannot be split "
                         << parts << " ways";
        usable = false;
      }
    }
    pinned[index] = *dims;
  }
  if (!usable)
    return failure();
  return pinned;
}

/// Data parallelism over every device (dp as large as the batch allows;
/// the remaining devices form a tp axis that propagation leaves to pins),
/// with ZeRO-3 when parameters and optimizer state would take more than
/// half a device's memory.
static SearchFallback fallbackPlan(func::FuncOp func, const Cluster &cluster,
                                   const SearchOptions &options) {
  // At bf16 a parameter also holds its fp32 master (Precision.h).
  Precision precision = parsePrecision(options.precision).value_or(Precision::fp32);
  int64_t stateBytes = 0;
  for (BlockArgument argument : func.getArguments())
    if (getParamAttr(func, argument.getArgNumber()))
      stateBytes += getParameterBytes(argument.getType(), precision);
    else if (func.getArgAttr(argument.getArgNumber(), CleaveDialect::kOptStateAttrName))
      stateBytes += getOptimizerStateBytes(argument.getType(), precision);
  int64_t rows = 0;
  for (BlockArgument argument : func.getArguments())
    if (func.getArgAttr(argument.getArgNumber(), CleaveDialect::kInputAttrName) &&
        cast<RankedTensorType>(argument.getType()).getRank() > 0) {
      rows = cast<RankedTensorType>(argument.getType()).getDimSize(0);
      break;
    }
  int64_t devices = options.devices;
  int64_t dp = rows > 0 ? std::gcd<int64_t>(rows, devices) : devices;
  SearchFallback fallback;
  fallback.grid = "dp=" + std::to_string(dp);
  if (devices / dp > 1)
    fallback.grid += ",tp=" + std::to_string(devices / dp);
  if (!options.gridSpec.empty()) {
    // The pinned grid, its dp shrunk to what the batch divides (the rest
    // joins tp, which propagation leaves to pins).
    fallback.grid = options.gridSpec;
    FailureOr<ParsedGrid> pinned = parseGrid(options.gridSpec, func);
    if (succeeded(pinned) && rows > 0) {
      int64_t pinnedDp = 1;
      for (auto [name, size] : llvm::zip(pinned->names, pinned->sizes))
        if (name == "dp")
          pinnedDp *= size;
      int64_t batchDp = std::gcd<int64_t>(rows, pinnedDp);
      if (batchDp != pinnedDp)
        fallback.grid =
            "dp=" + std::to_string(batchDp) + ",tp=" + std::to_string(devices / batchDp);
    }
  }
  fallback.pins = options.pins;
  fallback.zero = stateBytes > cluster.memoryCapacity / 2 ? 3 : 0;
  return fallback;
}

FailureOr<SearchDecision> mlir::cleave::runShardingSearch(ModuleOp module, func::FuncOp func,
                                                          const Cluster &cluster,
                                                          const SearchOptions &options) {
  if (!parsePrecision(options.precision))
    return module.emitError() << "precision '" << options.precision
                              << "' is not a training precision: use fp32 or bf16",
           failure();
  SmallVector<ParsedGrid> grids;
  if (!options.gridSpec.empty()) {
    FailureOr<ParsedGrid> pinnedGrid = parseGrid(options.gridSpec, module);
    if (failed(pinnedGrid))
      return failure();
    int64_t product = pinnedGrid->devices();
    if (product != options.devices)
      return module.emitError() << "the grid " << options.gridSpec << " has " << product
                                << " devices, not " << options.devices,
             failure();
    grids.push_back(*pinnedGrid);
  } else {
    grids = candidateGrids(options.devices, cluster);
  }
  // Pins by parameter name (their layouts are read per grid below).
  FailureOr<llvm::StringMap<std::string>> pins = parsePins(options.pins, module);
  if (failed(pins))
    return failure();
  llvm::StringMap<unsigned> paramArguments;
  for (BlockArgument argument : func.getArguments())
    if (ParamAttr param = getParamAttr(func, argument.getArgNumber()))
      paramArguments[param.getName()] = argument.getArgNumber();
  for (const auto &pin : *pins)
    if (!paramArguments.count(pin.getKey()))
      return module.emitError() << "--shard " << pin.getKey() << ": no parameter has that name",
             failure();

  struct Trial {
    ParsedGrid grid;
    GridSearchOptions options;
    GridSearchResult result;
  };
  std::vector<Trial> trials;
  std::optional<SearchPlan> best;
  bool anyTooLarge = false;
  std::string reasons;
  {
    // A grid without a plan is not an error as long as another has one.
    ScopedDiagnosticHandler quiet(module.getContext(), [&](Diagnostic &diagnostic) {
      reasons += "\n  " + diagnostic.str();
      return success();
    });
    // A grid the pins do not fit (an axis it lacks, a size that does not
    // divide) is not a candidate; the reason is kept for the error.
    for (const ParsedGrid &grid : grids) {
      FailureOr<DenseMap<unsigned, SmallVector<AxisList, 4>>> pinned =
          pinsOnGrid(func, grid, *pins, paramArguments);
      if (failed(pinned))
        continue;
      Trial trial;
      trial.grid = grid;
      trial.options.timeLimit = options.timeLimit;
      trial.options.maxDistinctOps = options.maxOps;
      trial.options.precision = options.precision;
      trial.options.sequenceParallel = options.sequenceParallel;
      trial.options.pinned = std::move(*pinned);
      trials.push_back(std::move(trial));
    }
    // The trials read the function side by side: order its ops now, not
    // lazily from several threads.
    Block &body = func.getBody().front();
    if (!body.isOpOrderValid())
      body.recomputeOpOrder();
    std::optional<std::vector<int8_t>> oneAxisPlan;
    auto runTrial = [&](size_t index, bool leastMemory) {
      Trial &trial = trials[index];
      trial.options.leastMemory = leastMemory;
      trial.options.oneAxisPlan = oneAxisPlan;
      trial.result = searchGrid(func, trial.grid, cluster, trial.options);
      if (trial.grid.sizes.size() == 1)
        oneAxisPlan = trial.result.oneAxisPlan;
      LDBG() << "grid " << gridName(trial.grid) << (leastMemory ? " (least memory)" : "") << ": "
             << (succeeded(trial.result.plan) ? trial.result.plan->seconds : -1.0) << " s predicted"
             << (trial.result.tooLarge ? ", too large" : "")
             << (succeeded(trial.result.plan) ? "" : ", no plan");
    };
    // The one-axis grid first: its plan is where the others start. They are
    // independent of each other and run side by side.
    if (!trials.empty()) {
      runTrial(0, false);
      if (!(trials[0].result.tooLarge && trials[0].result.distinctOps > options.maxOps))
        // Most tensor-parallel first: those take the most steps.
        mlir::parallelFor(module.getContext(), 1, trials.size(),
                          [&](size_t index) { runTrial(trials.size() - index, false); });
    }
    double bestSeconds = std::numeric_limits<double>::infinity();
    for (Trial &trial : trials) {
      anyTooLarge |= trial.result.tooLarge;
      // Grids come from one axis to more: a later one must gain.
      if (succeeded(trial.result.plan) &&
          trial.result.plan->seconds < bestSeconds * (1 - kMinSearchGain)) {
        bestSeconds = trial.result.plan->seconds;
        best = std::move(*trial.result.plan);
      }
    }
    if (!best && !anyTooLarge && !trials.empty()) {
      // No plan fits: the one that needs the least memory, so that the
      // report and cleavec can say by how much it misses and what helps.
      LDBG() << "no grid has a plan that fits: least memory instead";
      double leastBytes = std::numeric_limits<double>::infinity();
      for (size_t index = 0; index < trials.size(); ++index) {
        runTrial(index, true);
        FailureOr<SearchPlan> &plan = trials[index].result.plan;
        if (succeeded(plan) && plan->bytes < leastBytes * (1 - kMinSearchGain)) {
          leastBytes = plan->bytes;
          best = std::move(*plan);
        }
      }
    }
  }
  SearchDecision decision;
  if (best) {
    LDBG() << "chosen grid " << gridName(best->grid) << ": " << best->seconds << " s predicted";
    decision.plan = std::move(best);
    return decision;
  }
  if (anyTooLarge) {
    decision.fallback = fallbackPlan(func, cluster, options);
    LDBG() << "beyond the exact search: fallback grid " << decision.fallback->grid << ", ZeRO "
           << decision.fallback->zero;
    return decision;
  }
  return module.emitError() << "no plan for " << options.devices << " devices on cluster '"
                            << options.clusterName << "':" << reasons,
         failure();
}
