//===- cleave-plan.cpp - what a sharding plan costs -----------------------===//
//
//   cleave-plan model.onnx --devices 8 --cluster h100-sxm-8x1 [--grid dp=2,tp=4]
//       [--zero 0|2|3] [--shard NAME=SPEC] [--format table|json|dot]
//       [--compare "dp=8" | --compare "dp=2,tp=4 zero=3"]
//
// Builds the train step, shards it as cleavec would and prints the plan:
// tensors with their layouts, collectives, memory and step time per device
// (compiler/Plan/PlanReport.h). A plan that does not fit in memory is
// printed, then reported as an error.
//
//===----------------------------------------------------------------------===//
#include "compiler/Driver.h"
#include "compiler/Importer/Importer.h"
#include "compiler/Plan/PlanReport.h"
#include "compiler/Registration.h"
#include "compiler/ShardStep.h"
#include "passes/Analysis/Cluster/Cluster.h"

#include "mlir/IR/MLIRContext.h"
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
  std::string modelPath;
  cleave::ImportOptions import;
  cleave::TrainOptions train;
  std::string clusterName;
  cleave::PlanOptions options;
  MLIRContext context;

  /// Imports the model afresh, builds its train step and plans it with
  /// `shard`; `module` keeps the partitioned step (for the dot picture).
  llvm::Expected<cleave::PlanReport> plan(const cleave::ShardOptions &shard,
                                          OwningOpRef<ModuleOp> &module) {
    int64_t devices = cleave::getPlanDevices(shard);
    auto imported = cleave::importOnnxFile(modelPath, import, context);
    if (!imported)
      return imported.takeError();
    module = std::move(*imported);
    if (llvm::Error error = cleave::buildTrainStep(*module, train))
      return std::move(error);
    llvm::Expected<cleave::Cluster> cluster =
        cleave::loadCluster(clusterName, devices > 0 ? devices : 1);
    if (!cluster)
      return cluster.takeError();
    // The search prices its candidates on the same cluster.
    cleave::ShardOptions onCluster = shard;
    onCluster.cluster = clusterName;
    return cleave::planTrainStep(*module, onCluster, *cluster, options);
  }
};
} // namespace

int main(int argc, char **argv) {
  CLI::App app{"cleave-plan: how a training step is split over devices, and what it costs"};
  Planner planner;
  std::vector<std::string> inputShapes;
  int64_t batchSize = 0;
  bool noWeights = false;
  std::string format = "table", compare, target = "cuda", precision = "fp32";
  cleave::ShardOptions shard;
  app.add_option("model", planner.modelPath, "ONNX model (.onnx, or textual .onnxtext)")
      ->required();
  app.add_option("--devices", shard.devices,
                 "Devices to plan for (the search plans them; see --plan)")
      ->check(CLI::PositiveNumber);
  app.add_option("--cluster", planner.clusterName,
                 "Cluster profile name (cpu, h100-sxm-8x<N>, a100-8x<N>, ...-8xN) or JSON file "
                 "(default: the --target's, h100-sxm-8xN for cuda)");
  app.add_option("--target", target, "cpu or cuda: picks the default cluster")
      ->check(CLI::IsMember({"cpu", "cuda"}));
  app.add_option("--grid", shard.grid, "Device grid of named axes, e.g. dp=2,tp=2");
  app.add_option("--zero", shard.zero, "ZeRO level over the dp axis: 0, 2 or 3")
      ->check(CLI::IsMember({0, 2, 3}));
  app.add_option("--shard", shard.pins, "Pin a parameter's sharding, NAME=SPEC; repeatable");
  app.add_option("--plan", shard.plan,
                 "auto: with --devices, the search picks the grid and every sharding, keeping "
                 "what --grid and --shard pin (without --devices they are the plan, completed "
                 "by propagation; so is --zero); dp: plain data parallelism")
      ->check(CLI::IsMember({"auto", "dp"}))
      ->capture_default_str();
  double bucketMiB = 25;
  app.add_option("--bucket-mb", bucketMiB,
                 "Merge gradient all-reduces into messages of up to this many MiB (0: one per "
                 "gradient)")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  app.add_option("--format", format, "table, json or dot")
      ->check(CLI::IsMember({"table", "json", "dot"}));
  app.add_option("--compare", compare,
                 "An alternative plan to compare with: a grid and optionally zero=N, e.g. "
                 "dp=8 or \"dp=2,tp=4 zero=3\"");
  app.add_option("--top", planner.options.topActivations, "Activations to list (default 10)")
      ->check(CLI::NonNegativeNumber);
  app.add_option("--loss", planner.train.loss, "cross_entropy, mse, or model")
      ->check(CLI::IsMember({"cross_entropy", "mse", "model"}));
  app.add_option("--labels", planner.train.labels, "Name of the labels input the loss adds");
  app.add_option("--output-name", planner.train.output, "Model output the loss reads");
  app.add_option("--optimizer", planner.train.settings.optimizer, "sgd or adamw")
      ->check(CLI::IsMember({"sgd", "adamw"}));
  app.add_option("--momentum", planner.train.settings.momentum, "SGD momentum");
  app.add_option("--precision", precision, "fp32 or bf16 (matrix products on bf16 units)")
      ->check(CLI::IsMember({"fp32", "bf16"}));
  app.add_option("--input-shape", inputShapes, "Static shape for a data input, name=d0,d1,...");
  app.add_option("--batch-size", batchSize, "Fills a dynamic first dimension of every input")
      ->check(CLI::PositiveNumber);
  app.add_flag("--no-weights", noWeights,
               "Accepted for compatibility: planning reads shapes only, never the weights");
  app.add_option("--freeze", planner.import.freeze,
                 "Parameters (glob) that train nothing: no gradient, no optimizer state; "
                 "repeatable (as cleavec --freeze)");
  CLI11_PARSE(app, argc, argv);
  shard.bucketBytes = static_cast<int64_t>(bucketMiB * 1024 * 1024);

  // Planning reads shapes only: a model whose weight files were never
  // written (or are elsewhere) plans as well as one that has them.
  (void)noWeights;
  planner.import.requireWeights = false;
  if (batchSize > 0)
    planner.import.batchSize = batchSize;
  for (const std::string &shape : inputShapes)
    if (llvm::Error error = cleave::parseInputShape(shape, planner.import))
      return fail(llvm::toString(std::move(error)));
  if (planner.clusterName.empty())
    planner.clusterName = cleave::getDefaultClusterName(target == "cuda").str();
  if (precision == "bf16")
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
