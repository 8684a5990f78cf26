//===- cleavec.cpp - the Cleave compiler ----------------------------------===//
//
//   cleavec model.onnx --emit=summary|mlir            what the importer made
//   cleavec model.onnx --loss cross_entropy --labels y --optimizer adamw \
//           --lr 3e-4 [--target cpu|cuda] -o train     a training executable
//   ... --emit=train-mlir | --emit=cpp                 the stages in between
//   ... --devices N [--grid ..] --emit=plan            the sharding plan and its cost
//
// main() runs the stages in order (import, train step, shard, generate,
// build or write), each stopping at the --emit that asks for its result.
//
//===----------------------------------------------------------------------===//
#include "compiler/BuildExecutable.h"
#include "compiler/Codegen/Codegen.h"
#include "compiler/ConfigureStep.h"
#include "compiler/ModelSummary.h"
#include "compiler/Plan/PlanReport.h"
#include "compiler/Registration.h"
#include "passes/Pipeline/SplitReport.h"
#include "tools/common/CompileOptions.h"

#include "mlir/IR/MLIRContext.h"
#include "mlir/Support/FileUtilities.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/ToolOutputFile.h"
#include "llvm/Support/raw_ostream.h"

#include <CLI/CLI.hpp>

#include <iostream>

using namespace mlir;
using namespace mlir::cleave;

namespace {

/// The command line, and what main() derives from it before the stages.
struct Invocation {
  CompileOptions compile;
  std::string emit;
  std::string outputPath = "-";
  bool listOps = false;
  bool noEval = false;

  codegen::Target target = codegen::Target::cpu;
  /// --emit=exe or lib: the host compiler runs.
  bool binary() const { return emit == "exe" || emit == "lib"; }
  /// The emitted stage needs the train step.
  bool training() const { return emit == "train-mlir" || emit == "cpp" || binary() || planOnly(); }
  bool planOnly() const { return emit == "plan"; }
  bool sharded() const { return wantsSharding(compile.shard); }
  /// Micro-batches or pipeline stages: the shard stage unrolls the step.
  bool pipelined() const { return wantsPipeline(compile.shard); }
};

llvm::Error makeError(const std::string &message) {
  return llvm::createStringError(llvm::inconvertibleErrorCode(), message);
}

/// A visible NVIDIA GPU makes CUDA the default target.
bool gpuVisible() { return llvm::sys::fs::exists("/dev/nvidia0"); }

/// Writes `print`'s output to -o (stdout for '-').
llvm::Error writeOutput(const Invocation &invocation,
                        llvm::function_ref<void(llvm::raw_ostream &)> print) {
  std::string errorMessage;
  auto output = openOutputFile(invocation.outputPath, &errorMessage);
  if (!output)
    return makeError(errorMessage);
  print(output->os());
  output->keep();
  return llvm::Error::success();
}

/// 1. The model as the cleave dialect's @forward.
llvm::Expected<OwningOpRef<ModuleOp>> importModel(const Invocation &invocation,
                                                  MLIRContext &context) {
  llvm::Expected<ImportOptions> options = invocation.compile.getImportOptions();
  if (!options)
    return options.takeError();
  return importOnnxFile(invocation.compile.modelPath, *options, context);
}

/// 3. Shards the train step when asked to, and prices the plan on its
/// cluster so that a plan that cannot fit in a device's memory stops here
/// rather than at run time. Prints the plan for --emit=plan.
llvm::Error shardTrainStepStage(ModuleOp module, const Invocation &invocation) {
  const CompileOptions &compile = invocation.compile;
  llvm::Expected<Cluster> cluster =
      loadCluster(compile.clusterName, std::max<int64_t>(1, getPlanDevices(compile.shard)));
  if (!cluster)
    return cluster.takeError();
  PlanOptions planOptions;
  if (compile.precision == "bf16") {
    planOptions.precision = Precision::bf16;
    planOptions.compute = getComputeOptions(Precision::bf16);
  }
  planOptions.overlap = compile.shard.overlapCommunication;
  llvm::Expected<PlanReport> plan = planTrainStep(module, compile.shard, *cluster, planOptions);
  if (!plan)
    return plan.takeError();
  if (invocation.planOnly())
    if (llvm::Error error =
            writeOutput(invocation, [&](llvm::raw_ostream &os) { printPlanTable(*plan, os); }))
      return error;
  if (llvm::Error error = checkPlanFits(*plan))
    return error;
  // The plan prices a bf16 run; the program built here keeps fp32 buffers.
  if (plan->executableBytes && *plan->executableBytes > plan->cluster.memoryCapacity &&
      !invocation.planOnly())
    return llvm::createStringError(
        llvm::inconvertibleErrorCode(),
        "the plan " + plan->grid + " fits as a bf16 mixed-precision run, but the program " +
            "cleavec builds keeps fp32 activations, gradients and parameters (--precision bf16 " +
            "rounds only the operands of products): it needs " +
            formatBytes(*plan->executableBytes) + " per device, the profile " + plan->cluster.name +
            " has " + formatBytes(plan->cluster.memoryCapacity));
  return llvm::Error::success();
}

/// 4. The train step as C++ or CUDA C++ source.
llvm::Expected<std::string> generateSource(ModuleOp module, const Invocation &invocation) {
  const CompileOptions &compile = invocation.compile;
  codegen::CodegenOptions options;
  options.emitMain = invocation.emit != "lib";
  options.target = invocation.target;
  options.precision =
      compile.precision == "bf16" ? codegen::Precision::bf16 : codegen::Precision::fp32;
  options.train = compile.train.settings;
  if (compile.train.eval)
    options.evalFunction = kEvalFunction.str();
  llvm::SmallString<256> absolute(compile.modelPath);
  llvm::sys::fs::make_absolute(absolute);
  options.modelPath = std::string(absolute);
  std::string source;
  llvm::raw_string_ostream os(source);
  std::string diagnostics;
  codegen::CodegenReport report;
  {
    ScopedDiagnosticHandler handler(module.getContext(), [&](Diagnostic &diagnostic) {
      llvm::raw_string_ostream message(diagnostics);
      message << diagnostic.getLocation() << ": " << diagnostic << "\n";
      return success();
    });
    if (failed(codegen::emitTrainStep(module, options, os, &report)))
      return makeError("code generation failed:\n" + diagnostics);
  }
  // The memory plan's result, so that a user sees what reuse bought.
  auto mib = [](int64_t bytes) { return llvm::formatv("{0:F2} MiB", bytes / 1048576.0).str(); };
  std::cerr << "cleavec: train step: " << report.fusedLoops << " fused loops (" << report.fusedOps
            << " elementwise ops), " << report.libraryCalls << " kernel calls; workspace peak "
            << mib(report.workspaceBytes) << " (" << mib(report.naiveBytes)
            << " without buffer reuse)\n";
  return source;
}

/// 5. The executable (or shared library) from the source, linked with the
/// runtime and, for a device grid, the communicators.
llvm::Error buildBinary(const std::string &source, const Invocation &invocation) {
  Toolchain toolchain = getBuiltInToolchain();
  if (invocation.sharded() && invocation.target == codegen::Target::cuda) {
    if (toolchain.cudaCommLinkFlags.empty())
      return makeError("this cleavec was built without MPI or without the CUDA communicators, so "
                       "it cannot link a multi-rank CUDA program; install libopenmpi-dev and the "
                       "CUDA toolkit and rebuild");
    toolchain.cudaLinkFlags = toolchain.cudaCommLinkFlags + " " + toolchain.cudaLinkFlags;
  } else if (invocation.sharded()) {
    if (toolchain.commLinkFlags.empty())
      return makeError("this cleavec was built without MPI, so it cannot link a multi-rank "
                       "program; install libopenmpi-dev and rebuild");
    toolchain.cpuLinkFlags = toolchain.commLinkFlags + " " + toolchain.cpuLinkFlags;
  }
  return compileExecutable(source, invocation.target, invocation.outputPath, toolchain,
                           invocation.emit == "lib");
}

/// Runs the stages up to the one --emit names.
llvm::Error compile(Invocation &invocation) {
  MLIRContext context;
  loadAllDialects(context);
  auto module = importModel(invocation, context);
  if (!module)
    return module.takeError();

  // With --devices N the configuration search picks stages, sub-grid,
  // micro-batches, schedule and ZeRO first (the given flags pin it); the
  // flow below carries that configuration out.
  if (invocation.training()) {
    CompileOptions &compile = invocation.compile;
    llvm::Expected<std::optional<ConfigSearchResult>> configuration =
        configureTrainStep(**module, compile.train, compile.shard, compile.precision);
    if (!configuration)
      return configuration.takeError();
    if (*configuration)
      std::cerr << describeConfigurationChoice(**configuration) << "\n";
    if (compile.train.eval && getPipelineStages(compile.shard) > 1) {
      std::cerr << "cleavec: note: the evaluation function is not supported with pipeline "
                   "stages yet: the program has none (--eval-data is unavailable)\n";
      compile.train.eval = false;
    }
  }
  if (invocation.training())
    if (llvm::Error error = buildTrainStep(**module, invocation.compile.train))
      return error;

  if ((invocation.sharded() || invocation.pipelined()) && !invocation.training())
    return makeError(
        "--devices, --grid, --zero, --shard, --micro-batches and --recompute apply to the train "
        "step: use --emit=train-mlir, cpp, exe, lib or plan");
  if (invocation.sharded() || invocation.pipelined() || invocation.planOnly()) {
    if (llvm::Error error = shardTrainStepStage(**module, invocation))
      return error;
    if (invocation.planOnly())
      return llvm::Error::success();
    // The stages the split chose, what each holds and is predicted to take.
    if (getPipelineStages(invocation.compile.shard) > 1)
      printPipelineSplit(**module, llvm::errs());
  }

  if (invocation.emit == "cpp" || invocation.binary()) {
    llvm::Expected<std::string> source = generateSource(**module, invocation);
    if (!source)
      return source.takeError();
    if (invocation.binary())
      return buildBinary(*source, invocation);
    return writeOutput(invocation, [&](llvm::raw_ostream &os) { os << *source; });
  }
  return writeOutput(invocation, [&](llvm::raw_ostream &os) {
    if (invocation.emit == "mlir" || invocation.emit == "train-mlir")
      (*module)->print(os);
    else
      printModelSummary(**module, os);
  });
}

} // namespace

int main(int argc, char **argv) {
  CLI::App app{"cleavec: compile an ONNX model into a training program"};
  Invocation invocation;
  addCompileOptions(app, invocation.compile, [&](OptionSlot slot) {
    switch (slot) {
    case OptionSlot::afterModel:
      app.add_option("--emit", invocation.emit,
                     "What to produce: summary, mlir (imported IR), train-mlir (the train step), "
                     "cpp (generated source), exe (default with -o FILE), lib (a shared library "
                     "exporting cleave_model_info and cleave_train_step) or plan (the sharding "
                     "plan and its predicted cost, as cleave-plan prints it)")
          ->check(CLI::IsMember({"summary", "mlir", "train-mlir", "cpp", "exe", "lib", "plan"}));
      app.add_option("-o,--output", invocation.outputPath, "Output file ('-' for stdout)");
      break;
    case OptionSlot::afterImport:
      app.add_flag("--list-ops", invocation.listOps, "Print the supported ONNX op types and exit");
      break;
    case OptionSlot::afterLoss:
      app.add_flag("--no-eval", invocation.noEval,
                   "Leave out the evaluation function (the loss in eval semantics that the "
                   "executable's --eval-data reports)");
      break;
    }
  });
  CLI11_PARSE(app, argc, argv);

  if (invocation.listOps) {
    for (const std::string &op : getSupportedOnnxOps())
      std::cout << op << "\n";
    return 0;
  }
  if (invocation.compile.modelPath.empty()) {
    std::cerr << "cleavec: error: no model given\n" << app.help();
    return 2;
  }
  if (invocation.emit.empty())
    invocation.emit = invocation.outputPath != "-" ? "exe" : "summary";
  if (invocation.binary() && invocation.outputPath == "-") {
    std::cerr << "cleavec: error: --emit=" << invocation.emit << " needs -o FILE\n";
    return 1;
  }
  const std::string &target = invocation.compile.target;
  invocation.target = (target.empty() ? gpuVisible() : target == "cuda") ? codegen::Target::cuda
                                                                         : codegen::Target::cpu;
  invocation.compile.finish(invocation.target == codegen::Target::cuda);
  // Programs carry the evaluation function; the IR and plan views show the
  // train step alone.
  invocation.compile.train.eval =
      !invocation.noEval && (invocation.emit == "cpp" || invocation.binary());
  if (invocation.compile.train.eval && getPipelineStages(invocation.compile.shard) > 1) {
    std::cerr << "cleavec: note: the evaluation function is not supported with pipeline stages "
                 "yet: the program has none (--eval-data is unavailable)\n";
    invocation.compile.train.eval = false;
  }

  if (llvm::Error error = compile(invocation)) {
    std::cerr << "cleavec: error: " << llvm::toString(std::move(error)) << "\n";
    return 1;
  }
  return 0;
}
