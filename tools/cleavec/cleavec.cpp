//===- cleavec.cpp - the Cleave compiler driver ---------------------------===//
//
//   cleavec model.onnx --emit=summary|mlir            what the importer made
//   cleavec model.onnx --loss cross_entropy --labels y --optimizer adamw \
//           --lr 3e-4 [--target cpu|cuda] -o train     a training executable
//   ... --emit=train-mlir | --emit=cpp                 the stages in between
//   ... --devices N [--grid ..] --emit=plan            the sharding plan and its cost
//
//===----------------------------------------------------------------------===//
#include "compiler/Codegen/Codegen.h"
#include "compiler/Driver.h"
#include "compiler/Importer/Importer.h"
#include "compiler/ModelSummary.h"
#include "compiler/Plan/PlanReport.h"
#include "compiler/Registration.h"
#include "compiler/ShardStep.h"

#include "mlir/IR/MLIRContext.h"
#include "mlir/Support/FileUtilities.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/ToolOutputFile.h"
#include "llvm/Support/raw_ostream.h"

#include <CLI/CLI.hpp>

#include <iostream>

using namespace mlir;

static int fail(const std::string &message) {
  std::cerr << "cleavec: error: " << message << "\n";
  return 1;
}

/// A visible NVIDIA GPU makes CUDA the default target.
static bool gpuVisible() { return llvm::sys::fs::exists("/dev/nvidia0"); }

int main(int argc, char **argv) {
  CLI::App app{"cleavec: compile an ONNX model into a training program"};
  std::string modelPath, emit, outputPath = "-", target;
  std::vector<std::string> inputShapes;
  int64_t batchSize = 0;
  bool noWeights = false, listOps = false;
  cleave::TrainOptions train;
  std::string precision = "fp32";
  app.add_option("model", modelPath, "ONNX model (.onnx, or textual .onnxtext)");
  app.add_option("--emit", emit,
                 "What to produce: summary, mlir (imported IR), train-mlir (the train step), cpp "
                 "(generated source), exe (default with -o FILE), lib (a shared library "
                 "exporting cleave_model_info and cleave_train_step) or plan (the sharding "
                 "plan and its predicted cost, as cleave-plan prints it)")
      ->check(CLI::IsMember({"summary", "mlir", "train-mlir", "cpp", "exe", "lib", "plan"}));
  app.add_option("-o,--output", outputPath, "Output file ('-' for stdout)");
  app.add_option("--input-shape", inputShapes,
                 "Static shape for a data input, name=d0,d1,... (repeatable)");
  app.add_option("--batch-size", batchSize, "Fills a dynamic first dimension of every input")
      ->check(CLI::PositiveNumber);
  app.add_flag("--no-weights", noWeights,
               "Import even if external-data weight files are missing (shapes only, for planning)");
  std::vector<std::string> freeze;
  app.add_option("--freeze", freeze,
                 "Train nothing in parameters matching this glob (e.g. 'rope.*'): no gradient, no "
                 "optimizer state, still checkpointed and exported; repeatable. The model's "
                 "metadata_props 'cleave.frozen' list is honoured too");
  app.add_flag("--list-ops", listOps, "Print the supported ONNX op types and exit");
  app.add_option("--target", target, "cpu or cuda (default: cuda when a GPU is visible)")
      ->check(CLI::IsMember({"cpu", "cuda"}));
  app.add_option("--loss", train.loss, "cross_entropy, mse, or model (a scalar model output)")
      ->check(CLI::IsMember({"cross_entropy", "mse", "model"}));
  app.add_option("--labels", train.labels, "Name of the labels input the loss adds");
  app.add_option("--output-name", train.output, "Model output the loss reads (default: first)");
  app.add_option("--ignore-index", train.ignoreIndex,
                 "cross_entropy: labels equal to this add no loss and no gradient, and the mean "
                 "is over the other rows (PyTorch's ignore_index)")
      ->capture_default_str();
  app.add_option("--label-smoothing", train.labelSmoothing,
                 "cross_entropy: PyTorch's label_smoothing, in [0, 1]")
      ->check(CLI::Range(0.0, 1.0))
      ->capture_default_str();
  bool noEval = false;
  app.add_flag("--no-eval", noEval,
               "Leave out the evaluation function (the loss in eval semantics that the "
               "executable's --eval-data reports)");
  app.add_option("--optimizer", train.settings.optimizer, "sgd or adamw")
      ->check(CLI::IsMember({"sgd", "adamw"}));
  app.add_option("--lr", train.settings.lr, "Learning rate (the executable's default)");
  app.add_option("--momentum", train.settings.momentum, "SGD momentum");
  app.add_option("--weight-decay", train.settings.weightDecay, "Weight decay");
  app.add_option("--beta1", train.settings.beta1, "AdamW beta1");
  app.add_option("--beta2", train.settings.beta2, "AdamW beta2");
  app.add_option("--eps", train.settings.eps, "AdamW epsilon");
  app.add_option("--clip-grad-norm", train.settings.clipGradNorm,
                 "Clip gradients to this global L2 norm (0: off)");
  app.add_option("--schedule", train.settings.schedule,
                 "Learning-rate schedule: constant or cosine")
      ->check(CLI::IsMember({"constant", "cosine"}));
  app.add_option("--warmup", train.settings.warmupSteps, "Linear warmup steps (cosine schedule)");
  app.add_option("--precision", precision,
                 "fp32, or bf16: matrix products and convolutions take bfloat16 operands and "
                 "sum in fp32; weights, gradients, optimizer and all other ops stay fp32")
      ->check(CLI::IsMember({"fp32", "bf16"}));
  cleave::ShardOptions shard;
  app.add_option("--devices", shard.devices,
                 "Ranks to train on (mpirun -np N); alone, N-way data parallelism")
      ->check(CLI::PositiveNumber);
  app.add_option("--grid", shard.grid, "Device grid of named axes, e.g. dp=2,tp=2");
  app.add_option("--zero", shard.zero,
                 "ZeRO level over the dp axis: 0, 2 (optimizer state) or "
                 "3 (parameters too)")
      ->check(CLI::IsMember({0, 2, 3}));
  app.add_option("--shard", shard.pins,
                 "Pin a parameter's sharding, NAME=SPEC with one grid axis, a*b or - per "
                 "dimension (e.g. fc1.weight=tp,-); repeatable");
  std::string clusterName;
  app.add_option("--cluster", clusterName,
                 "Cluster profile (name or JSON file) the plan is priced and checked against "
                 "(default: cpu for the CPU target, h100-sxm-8xN for CUDA)");
  app.add_option("--plan", shard.plan,
                 "auto: with --devices, search the grid and every op's sharding by predicted "
                 "step time, keeping what --grid and --shard pin (without --devices, --grid "
                 "and --shard are the plan, completed by propagation; so is --zero); dp: "
                 "plain data parallelism")
      ->check(CLI::IsMember({"auto", "dp"}))
      ->capture_default_str();
  double bucketMiB = 25;
  app.add_option("--bucket-mb", bucketMiB,
                 "Merge gradient all-reduces into messages of up to this many MiB (0: one "
                 "message per gradient)")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  CLI11_PARSE(app, argc, argv);
  shard.bucketBytes = static_cast<int64_t>(bucketMiB * 1024 * 1024);

  if (listOps) {
    for (const std::string &op : cleave::getSupportedOnnxOps())
      std::cout << op << "\n";
    return 0;
  }
  if (modelPath.empty()) {
    std::cerr << "cleavec: error: no model given\n" << app.help();
    return 2;
  }
  if (emit.empty())
    emit = outputPath != "-" ? "exe" : "summary";
  bool binary = emit == "exe" || emit == "lib";
  if (binary && outputPath == "-")
    return fail("--emit=" + emit + " needs -o FILE");
  cleave::codegen::Target codegenTarget = (target.empty() ? gpuVisible() : target == "cuda")
                                              ? cleave::codegen::Target::cuda
                                              : cleave::codegen::Target::cpu;

  shard.cluster =
      clusterName.empty()
          ? cleave::getDefaultClusterName(codegenTarget == cleave::codegen::Target::cuda).str()
          : clusterName;
  cleave::ImportOptions options;
  options.requireWeights = !noWeights;
  options.freeze = freeze;
  if (batchSize > 0)
    options.batchSize = batchSize;
  for (const std::string &shape : inputShapes)
    if (llvm::Error error = cleave::parseInputShape(shape, options))
      return fail(llvm::toString(std::move(error)));

  MLIRContext context;
  cleave::loadAllDialects(context);
  auto module = cleave::importOnnxFile(modelPath, options, context);
  if (!module)
    return fail(llvm::toString(module.takeError()));

  bool planOnly = emit == "plan";
  // Programs carry the evaluation function; the IR and plan views show the
  // train step alone.
  train.eval = !noEval && (emit == "cpp" || binary);
  bool training = emit == "train-mlir" || emit == "cpp" || binary || planOnly;
  if (training)
    if (llvm::Error error = cleave::buildTrainStep(**module, train))
      return fail(llvm::toString(std::move(error)));
  bool sharded = cleave::wantsSharding(shard);
  if (sharded && !training)
    return fail("--devices, --grid, --zero and --shard apply to the train step: use "
                "--emit=train-mlir, cpp, exe, lib or plan");
  if (sharded || planOnly) {
    // Every sharded build is priced on its cluster, so that a plan that
    // cannot fit in a device's memory stops here rather than at run time.
    bool cuda = codegenTarget == cleave::codegen::Target::cuda;
    llvm::Expected<cleave::Cluster> cluster =
        cleave::loadCluster(clusterName.empty() ? cleave::getDefaultClusterName(cuda) : clusterName,
                            std::max<int64_t>(1, cleave::getPlanDevices(shard)));
    if (!cluster)
      return fail(llvm::toString(cluster.takeError()));
    cleave::PlanOptions planOptions;
    if (precision == "bf16")
      planOptions.compute.matmulType = cleave::DType::bf16;
    llvm::Expected<cleave::PlanReport> plan =
        cleave::planTrainStep(**module, shard, *cluster, planOptions);
    if (!plan)
      return fail(llvm::toString(plan.takeError()));
    if (planOnly) {
      std::string errorMessage;
      auto output = openOutputFile(outputPath, &errorMessage);
      if (!output)
        return fail(errorMessage);
      cleave::printPlanTable(*plan, output->os());
      output->keep();
    }
    if (llvm::Error error = cleave::checkPlanFits(*plan))
      return fail(llvm::toString(std::move(error)));
    if (planOnly)
      return 0;
  }

  std::string source;
  cleave::codegen::CodegenReport report;
  if (emit == "cpp" || binary) {
    cleave::codegen::CodegenOptions codegenOptions;
    codegenOptions.emitMain = emit != "lib";
    codegenOptions.target = codegenTarget;
    codegenOptions.precision =
        precision == "bf16" ? cleave::codegen::Precision::bf16 : cleave::codegen::Precision::fp32;
    codegenOptions.train = train.settings;
    if (train.eval)
      codegenOptions.evalFunction = cleave::kEvalFunction.str();
    llvm::SmallString<256> absolute(modelPath);
    llvm::sys::fs::make_absolute(absolute);
    codegenOptions.modelPath = std::string(absolute);
    llvm::raw_string_ostream os(source);
    std::string diagnostics;
    {
      ScopedDiagnosticHandler handler(&context, [&](Diagnostic &diagnostic) {
        llvm::raw_string_ostream message(diagnostics);
        message << diagnostic.getLocation() << ": " << diagnostic << "\n";
        return success();
      });
      if (failed(cleave::codegen::emitTrainStep(**module, codegenOptions, os, &report)))
        return fail("code generation failed:\n" + diagnostics);
    }
    // The memory plan's result, so that a user sees what reuse bought.
    auto mib = [](int64_t bytes) { return llvm::formatv("{0:F2} MiB", bytes / 1048576.0).str(); };
    std::cerr << "cleavec: train step: " << report.fusedLoops << " fused loops (" << report.fusedOps
              << " elementwise ops), " << report.libraryCalls << " kernel calls; workspace peak "
              << mib(report.workspaceBytes) << " (" << mib(report.naiveBytes)
              << " without buffer reuse)\n";
  }
  if (binary) {
    cleave::Toolchain toolchain = cleave::getBuiltInToolchain();
    if (sharded && codegenTarget == cleave::codegen::Target::cuda) {
      if (toolchain.cudaCommLinkFlags.empty())
        return fail("this cleavec was built without MPI or without the CUDA communicators, so "
                    "it cannot link a multi-rank CUDA program; install libopenmpi-dev and the "
                    "CUDA toolkit and rebuild");
      toolchain.cudaLinkFlags = toolchain.cudaCommLinkFlags + " " + toolchain.cudaLinkFlags;
    } else if (sharded) {
      if (toolchain.commLinkFlags.empty())
        return fail("this cleavec was built without MPI, so it cannot link a multi-rank program; "
                    "install libopenmpi-dev and rebuild");
      toolchain.cpuLinkFlags = toolchain.commLinkFlags + " " + toolchain.cpuLinkFlags;
    }
    if (llvm::Error error =
            cleave::compileExecutable(source, codegenTarget, outputPath, toolchain, emit == "lib"))
      return fail(llvm::toString(std::move(error)));
    return 0;
  }

  std::string errorMessage;
  auto output = openOutputFile(outputPath, &errorMessage);
  if (!output)
    return fail(errorMessage);
  if (emit == "mlir" || emit == "train-mlir")
    (*module)->print(output->os());
  else if (emit == "cpp")
    output->os() << source;
  else
    cleave::printModelSummary(**module, output->os());
  output->keep();
  return 0;
}
