//===- cleave-plan.cpp - what a sharding plan costs -----------------------===//
//
//   cleave-plan model.onnx|step.mlir --devices 8 --cluster h100-sxm-8x1 [--grid dp=2,tp=4]
//       [--zero 0|2|3] [--shard NAME=SPEC] [--format table|json|dot|html]
//       [--compare "dp=8" | --compare "dp=2,tp=4 zero=3"]
//
// Builds the train step, shards it as cleavec would and prints the plan:
// tensors with their layouts, collectives, memory and step time per device
// (compiler/Plan/PlanReport.h). A plan that does not fit in memory is
// printed, then reported as an error.
//
//===----------------------------------------------------------------------===//
#include "compiler/ConfigureStep.h"
#include "compiler/Plan/PlanReport.h"
#include "compiler/Registration.h"
#include "passes/Analysis/Sharding/TensorSharding.h"
#include "tools/common/CompileOptions.h"

#include "mlir/Dialect/Shard/IR/ShardOps.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/Parser/Parser.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/raw_ostream.h"

#include <CLI/CLI.hpp>

#include <iostream>

using namespace mlir;

static int fail(const std::string &message) {
  std::cerr << "cleave-plan: error: " << message << "\n";
  return 1;
}

namespace {
struct Planner {
  cleave::CompileOptions compile;
  cleave::ImportOptions import;
  cleave::PlanOptions options;
  MLIRContext context;

  /// Imports the model afresh, builds its train step and plans it with
  /// `shard`; `module` keeps the partitioned step (for the dot picture).
  /// With `search`, the configuration search runs first (--devices N) and
  /// the plan carries out what it chose.
  llvm::Expected<cleave::PlanReport> plan(cleave::ShardOptions shard, OwningOpRef<ModuleOp> &module,
                                          bool search = false) {
    std::optional<cleave::ConfigSearchResult> configuration;
    int64_t devices = cleave::getPlanDevices(shard);
    bool fromMlir = llvm::StringRef(compile.modelPath).ends_with(".mlir");
    if (fromMlir) {
      if (llvm::Error error = parseTrainStep(module))
        return std::move(error);
      // A step already partitioned (an unrolled pipeline) runs on its grid.
      if (!cleave::wantsSharding(shard) && !module->getOps<shard::GridOp>().empty())
        if (FailureOr<cleave::GridInfo> grid = cleave::getGrid(*module); succeeded(grid))
          devices = grid->devices();
    } else {
      auto imported = cleave::importOnnxFile(compile.modelPath, import, context);
      if (!imported)
        return imported.takeError();
      module = std::move(*imported);
    }
    cleave::TrainOptions train = compile.train;
    if (search) {
      cleave::ShardOptions onCluster = shard;
      onCluster.cluster = compile.clusterName;
      llvm::Expected<std::optional<cleave::ConfigSearchResult>> searched =
          cleave::configureTrainStep(*module, train, onCluster, compile.precision);
      if (!searched)
        return searched.takeError();
      configuration = std::move(*searched);
      shard = onCluster;
    }
    train.settings.phaseTags = cleave::wantsPipeline(shard);
    if (!fromMlir)
      if (llvm::Error error = cleave::buildTrainStep(*module, train))
        return std::move(error);
    llvm::Expected<cleave::Cluster> cluster =
        cleave::loadCluster(compile.clusterName, devices > 0 ? devices : 1);
    if (!cluster)
      return cluster.takeError();
    // The search prices its candidates on the same cluster.
    cleave::ShardOptions onCluster = shard;
    onCluster.cluster = compile.clusterName;
    llvm::Expected<cleave::PlanReport> report =
        cleave::planTrainStep(*module, onCluster, *cluster, options);
    if (report && configuration)
      report->configuration = describe(*configuration);
    return report;
  }

  /// The search's result as the report carries it.
  static cleave::PlanConfiguration describe(const cleave::ConfigSearchResult &result) {
    const cleave::Configuration &config = result.best.config;
    cleave::PlanConfiguration plan;
    plan.spec = cleave::formatConfiguration(config);
    plan.pp = config.pp;
    plan.dp = config.dp;
    plan.tp = config.tp;
    plan.microBatches = config.microBatches;
    plan.virtualStages = config.virtualStages;
    plan.schedule = config.schedule;
    plan.recompute = cleave::recomputeModeName(config.recompute).str();
    plan.precision = config.precision;
    plan.zero = config.zero;
    plan.sequenceParallel = config.sequenceParallel;
    plan.chosenBy = result.allPinned ? "pins" : "search";
    plan.searchSeconds = result.seconds;
    plan.configurationsPriced = result.priced;
    plan.predictedStepSeconds = result.best.stepSeconds;
    plan.memoryBytes = result.best.memoryBytes;
    plan.fits = result.best.fits;
    for (const cleave::PricedConfiguration &other : llvm::drop_begin(result.considered))
      plan.alternatives.push_back({cleave::formatConfiguration(other.config), other.stepSeconds,
                                   other.memoryBytes, other.fits});
    return plan;
  }

  /// A module that already has its train step (`cleavec --emit=train-mlir`,
  /// or one written by hand, e.g. carrying a pipeline split): planned as it
  /// is, the loss and optimizer flags unused.
  llvm::Error parseTrainStep(OwningOpRef<ModuleOp> &module) {
    std::string diagnostics;
    ScopedDiagnosticHandler handler(&context, [&](Diagnostic &diagnostic) {
      diagnostics += diagnostic.str() + "\n";
      return success();
    });
    module = parseSourceFile<ModuleOp>(compile.modelPath, &context);
    if (!module)
      return llvm::createStringError(llvm::inconvertibleErrorCode(),
                                     "cannot read " + compile.modelPath + ": " + diagnostics);
    if (!module->lookupSymbol("train_step") &&
        !module->lookupSymbol((cleave::kStageFunctionPrefix + "0").str()))
      return llvm::createStringError(
          llvm::inconvertibleErrorCode(),
          compile.modelPath + " has no @train_step: give an ONNX model, or the output of cleavec "
                              "--emit=train-mlir");
    return llvm::Error::success();
  }
};
} // namespace

int main(int argc, char **argv) {
  CLI::App app{"cleave-plan: how a training step is split over devices, and what it costs"};
  Planner planner;
  cleave::CompileOptions &compile = planner.compile;
  std::string format = "table", compare;
  cleave::addCompileOptions(app, compile);
  app.get_option("model")->required()->description(
      "ONNX model (.onnx, or textual .onnxtext), or a module that has its "
      "@train_step (.mlir, e.g. from cleavec --emit=train-mlir)");
  // Where planning differs from compiling, say so.
  app.get_option("--devices")
      ->description("Devices to plan for (the search plans them; see --plan)");
  app.get_option("--target")->description("cpu or cuda: picks the default cluster (default: cuda)");
  app.get_option("--no-weights")
      ->description("Accepted for compatibility: planning reads shapes only, never the weights");
  app.add_option("--format", format,
                 "table, json, dot or html (one self-contained page: grid, timeline, memory, "
                 "collectives; both plans side by side with --compare)")
      ->check(CLI::IsMember({"table", "json", "dot", "html"}));
  app.add_option("--compare", compare,
                 "An alternative plan to compare with: a configuration, e.g. dp=8, "
                 "\"dp=2,tp=4 zero=3\" or \"pp=8,tp=8 micro-batches=128 recompute=full\" "
                 "(docs/planner.md)");
  app.add_option("--top", planner.options.topActivations, "Activations to list (default 10)")
      ->check(CLI::NonNegativeNumber);
  CLI11_PARSE(app, argc, argv);
  const cleave::ShardOptions &shard = compile.shard;

  // Planning reads shapes only: a model whose weight files were never
  // written (or are elsewhere) plans as well as one that has them.
  compile.noWeights = true;
  llvm::Expected<cleave::ImportOptions> import = compile.getImportOptions();
  if (!import)
    return fail(llvm::toString(import.takeError()));
  planner.import = std::move(*import);
  compile.finish(compile.target.empty() || compile.target == "cuda");
  if (compile.precision == "bf16") {
    planner.options.precision = cleave::Precision::bf16;
    planner.options.compute = cleave::getComputeOptions(cleave::Precision::bf16);
  }
  planner.options.keepOpShardings = format == "dot";
  // The model hides what the compiled program will hide (--no-overlap:
  // nothing).
  planner.options.overlap = compile.shard.overlapCommunication;
  cleave::loadAllDialects(planner.context);

  OwningOpRef<ModuleOp> module;
  llvm::Expected<cleave::PlanReport> report = planner.plan(shard, module, /*search=*/true);
  if (!report)
    return fail(llvm::toString(report.takeError()));

  std::optional<cleave::PlanReport> alternative;
  if (!compare.empty()) {
    // A grid with zero=N plans as it always did; a configuration spec
    // ("pp=8,tp=8 micro-batches=128 recompute=full") plans each stage's
    // sub-grid with the sharding search, as the configuration search would.
    llvm::Expected<cleave::ShardOptions> spec = cleave::parsePlanSpec(compare);
    llvm::Expected<cleave::Configuration> config = cleave::parseConfiguration(compare);
    bool beyondGrid =
        config && (config->pp > 1 || config->microBatches > 1 || config->virtualStages > 1 ||
                   config->schedule != "1f1b" || config->recompute != cleave::RecomputeMode::none);
    // Tokens beyond the grid and zero=N are a configuration's: its error.
    llvm::SmallVector<llvm::StringRef> tokens;
    llvm::SplitString(compare, tokens, " \t");
    bool configurationTokens = llvm::any_of(llvm::drop_begin(tokens), [](llvm::StringRef token) {
      return !token.starts_with("zero=");
    });
    if (configurationTokens && !config) {
      llvm::consumeError(spec.takeError());
      return fail("--compare: " + llvm::toString(config.takeError()));
    }
    if (beyondGrid || (!spec && config)) {
      if (!spec)
        llvm::consumeError(spec.takeError());
      cleave::ShardOptions fixed;
      fixed.devices = static_cast<int>(config->devices());
      fixed.plan = shard.plan;
      fixed.pins = shard.pins;
      fixed.pipelineCuts = shard.pipelineCuts;
      cleave::applyConfiguration(*config, fixed);
      spec = std::move(fixed);
    } else if (!config) {
      llvm::consumeError(config.takeError());
    }
    if (!spec)
      return fail(llvm::toString(spec.takeError()));
    spec->bucketBytes = shard.bucketBytes;
    spec->overlapCommunication = shard.overlapCommunication;
    spec->precision = shard.precision;
    OwningOpRef<ModuleOp> other;
    llvm::Expected<cleave::PlanReport> otherReport = planner.plan(*spec, other);
    if (!otherReport)
      return fail("--compare " + compare + ": " + llvm::toString(otherReport.takeError()));
    alternative = std::move(*otherReport);
  }

  llvm::raw_ostream &os = llvm::outs();
  if (format == "json") {
    os << llvm::formatv("{0:2}", alternative ? cleave::planComparisonToJSON(*report, *alternative)
                                             : cleave::planToJSON(*report))
       << "\n";
  } else if (format == "html") {
    cleave::printPlanHtml(*report, alternative ? &*alternative : nullptr, os);
  } else if (format == "dot") {
    cleave::printPlanDot(*module, *report, os);
  } else {
    cleave::printPlanTable(*report, os);
    if (alternative)
      cleave::printPlanComparison(*report, *alternative, os);
  }
  os.flush();
  if (llvm::Error error = cleave::checkPlanFits(*report))
    return fail(llvm::toString(std::move(error)));
  return 0;
}
