//===- Seed.cpp - a device grid and the shardings of the arguments --------===//
#include "passes/Analysis/Sharding/GridSpec.h"
#include "passes/Analysis/Sharding/ShardingAttrs.h"
#include "passes/Passes.h"
#include "passes/Sharding/Zero.h"
#include "passes/TrainStepAttrs.h"

#include "mlir/IR/Builders.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/ADT/StringSet.h"
#include "llvm/Support/DebugLog.h"

#define DEBUG_TYPE "cleave-seed-sharding"

namespace mlir::cleave {
#define GEN_PASS_DEF_CLEAVESEEDSHARDING
#include "passes/Passes.h.inc"
} // namespace mlir::cleave

using namespace mlir;
using namespace mlir::cleave;

namespace {

struct SeedShardingPass : public mlir::cleave::impl::CleaveSeedShardingBase<SeedShardingPass> {
  using CleaveSeedShardingBase::CleaveSeedShardingBase;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    MLIRContext *context = module.getContext();
    auto func = module.lookupSymbol<func::FuncOp>(function);
    if (!func || func.isExternal()) {
      module.emitError() << "cleave-seed-sharding: no function @" << function;
      return signalPassFailure();
    }
    std::string gridText = gridSpec, pinText = pins;
    int64_t zeroLevel = zero;
    if (fromSearch) {
      // The search's fallback, or nothing: the search planned.
      auto fallback = module->getAttrOfType<DictionaryAttr>(CleaveDialect::kShardFallbackAttrName);
      if (!fallback) {
        LDBG() << "no cleave.shard_fallback: the search planned";
        return;
      }
      gridText = fallback.getAs<StringAttr>("grid").str();
      pinText = fallback.getAs<StringAttr>("shard").str();
      zeroLevel = fallback.getAs<IntegerAttr>("zero").getInt();
    }
    LDBG() << "grid " << gridText << ", ZeRO " << zeroLevel << ", pins '" << pinText << "'";
    FailureOr<ParsedGrid> grid = parseGrid(gridText, module);
    if (failed(grid))
      return signalPassFailure();
    if (!isZeroLevel(zeroLevel)) {
      module.emitError() << "ZeRO level " << zeroLevel << " is not one of 0, 1, 2, 3";
      return signalPassFailure();
    }
    for (auto existing : llvm::make_early_inc_range(module.getOps<shard::GridOp>()))
      existing.erase();
    OpBuilder builder(context);
    builder.setInsertionPointToStart(module.getBody());
    auto gridOp = shard::GridOp::create(builder, module.getLoc(), "grid", grid->sizes);
    setAxisNames(gridOp, grid->names);

    auto dpIt = llvm::find(grid->names, "dp");
    int16_t dp = dpIt == grid->names.end() ? -1 : static_cast<int16_t>(dpIt - grid->names.begin());
    if (zeroLevel != 0 && dp < 0) {
      module.emitError("ZeRO shards over the data-parallel axis: name one grid axis dp");
      return signalPassFailure();
    }

    // Pins by parameter name.
    FailureOr<llvm::StringMap<std::string>> parsedPins = parsePins(pinText, module);
    if (failed(parsedPins))
      return signalPassFailure();
    llvm::StringMap<std::string> pinned = std::move(*parsedPins);

    llvm::StringMap<SmallVector<AxisList, 4>> paramShardings;
    unsigned count = func.getNumArguments();
    SmallVector<SmallVector<AxisList, 4>> argShardings(count);
    llvm::StringSet<> used;
    auto argType = [&](unsigned i) { return cast<RankedTensorType>(func.getArgumentTypes()[i]); };

    for (unsigned i = 0; i < count; ++i) {
      RankedTensorType type = argType(i);
      SmallVector<AxisList, 4> dims(type.getRank());
      if (ParamAttr param = getParamAttr(func, i)) {
        StringRef name = param.getName();
        if (auto it = pinned.find(name); it != pinned.end()) {
          FailureOr<SmallVector<AxisList, 4>> spec =
              parseSpec(it->second, *grid, type.getRank(), name, module);
          if (failed(spec))
            return signalPassFailure();
          dims = *spec;
          used.insert(name);
        }
        paramShardings[name] = dims;
      } else if (func.getArgAttr(i, CleaveDialect::kInputAttrName)) {
        if (dp >= 0 && type.getRank() > 0) {
          if (type.getDimSize(0) % grid->sizes[dp]) {
            func.emitError()
                << "the batch (" << type.getDimSize(0) << " rows of input '"
                << cast<StringAttr>(func.getArgAttr(i, CleaveDialect::kInputAttrName)).getValue()
                << "') cannot be split " << grid->sizes[dp]
                << " ways over dp: choose a batch size that dp divides";
            return signalPassFailure();
          }
          dims[0].push_back(dp);
        }
      }
      argShardings[i] = dims;
    }
    for (const auto &pin : pinned)
      if (!used.contains(pin.getKey())) {
        module.emitError() << "--shard " << pin.getKey() << ": no parameter has that name";
        return signalPassFailure();
      }
    // Optimizer state follows its parameter ("w.exp_avg" belongs to "w").
    for (unsigned i = 0; i < count; ++i) {
      auto state = func.getArgAttrOfType<StringAttr>(i, CleaveDialect::kOptStateAttrName);
      if (!state)
        continue;
      StringRef owner = state.getValue().rsplit('.').first;
      RankedTensorType type = argType(i);
      SmallVector<AxisList, 4> dims(type.getRank());
      if (auto it = paramShardings.find(owner);
          it != paramShardings.end() && it->second.size() == dims.size())
        dims = it->second;
      argShardings[i] = dims;
    }
    // Scalars are always replicated and get no attribute (an empty axis
    // array does not survive a print and parse round trip).
    for (unsigned i = 0; i < count; ++i)
      if (!argShardings[i].empty())
        setArgSharding(func, i, argShardings[i]);
    for (unsigned r = 0; r < func.getNumResults(); ++r) {
      int64_t updated = getUpdatedArgument(func, r);
      auto type = cast<RankedTensorType>(func.getResultTypes()[r]);
      SmallVector<AxisList, 4> dims(type.getRank());
      if (updated >= 0)
        dims = argShardings[updated];
      if (!dims.empty())
        setResultSharding(func, r, dims);
    }
    // ZeRO on top of the pins (Zero.h).
    addZeroArgumentSplits(func, grid->sizes, dp, zeroLevel);
    if (zeroLevel == 1)
      markReduceWholeAfterLoss(func);
  }
};

} // namespace
