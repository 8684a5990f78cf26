//===- cleave-plan.cpp - what a sharding plan costs -----------------------===//
//
//   cleave-plan model.onnx|step.mlir --devices 8 --cluster h100-sxm-8x1 [--grid dp=2,tp=4]
//       [--zero 0|2|3] [--shard NAME=SPEC] [--format table|json|dot]
//       [--compare "dp=8" | --compare "dp=2,tp=4 zero=3"]
//
// Builds the train step, shards it as cleavec would and prints the plan:
// tensors with their layouts, collectives, memory and step time per device
// (compiler/Plan/PlanReport.h). A plan that does not fit in memory is
// printed, then reported as an error.
//
//===----------------------------------------------------------------------===//
#include "compiler/Plan/PlanReport.h"
#include "compiler/Registration.h"
#include "passes/Analysis/Sharding/TensorSharding.h"
#include "tools/common/CompileOptions.h"

#include "mlir/Dialect/Shard/IR/ShardOps.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/Parser/Parser.h"
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
  llvm::Expected<cleave::PlanReport> plan(const cleave::ShardOptions &shard,
                                          OwningOpRef<ModuleOp> &module) {
    int64_t devices = cleave::getPlanDevices(shard);
    if (llvm::StringRef(compile.modelPath).ends_with(".mlir")) {
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
      if (llvm::Error error = cleave::buildTrainStep(*module, compile.train))
        return std::move(error);
    }
    llvm::Expected<cleave::Cluster> cluster =
        cleave::loadCluster(compile.clusterName, devices > 0 ? devices : 1);
    if (!cluster)
      return cluster.takeError();
    // The search prices its candidates on the same cluster.
    cleave::ShardOptions onCluster = shard;
    onCluster.cluster = compile.clusterName;
    return cleave::planTrainStep(*module, onCluster, *cluster, options);
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
  app.add_option("--format", format, "table, json or dot")
      ->check(CLI::IsMember({"table", "json", "dot"}));
  app.add_option("--compare", compare,
                 "An alternative plan to compare with: a grid and optionally zero=N, e.g. "
                 "dp=8 or \"dp=2,tp=4 zero=3\"");
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
  if (compile.precision == "bf16")
    planner.options.compute.matmulType = cleave::DType::bf16;
  planner.options.keepOpShardings = format == "dot";
  cleave::loadAllDialects(planner.context);

  OwningOpRef<ModuleOp> module;
  llvm::Expected<cleave::PlanReport> report = planner.plan(shard, module);
  if (!report)
    return fail(llvm::toString(report.takeError()));

  std::optional<cleave::PlanReport> alternative;
  if (!compare.empty()) {
    llvm::Expected<cleave::ShardOptions> spec = cleave::parsePlanSpec(compare);
    if (!spec)
      return fail(llvm::toString(spec.takeError()));
    spec->bucketBytes = shard.bucketBytes;
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
