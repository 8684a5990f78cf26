//===- CompileOptions.h - the options cleavec and cleave-plan share -------===//
//
// Both tools import a model, build its train step and shard it: the flags
// for those steps are declared here once, the loss and optimizer ones
// generated from passes/TrainOptions.def. Each tool adds its own (cleavec's
// --emit, cleave-plan's --format, ...) around them.
//
//===----------------------------------------------------------------------===//
#ifndef CLEAVE_TOOLS_COMMON_COMPILEOPTIONS_H
#define CLEAVE_TOOLS_COMMON_COMPILEOPTIONS_H

#include "compiler/Importer/Importer.h"
#include "compiler/ShardStep.h"
#include "compiler/TrainStep.h"

#include "llvm/ADT/STLFunctionalExtras.h"
#include "llvm/Support/Error.h"

#include <CLI/CLI.hpp>

#include <string>
#include <vector>

namespace mlir::cleave {

struct CompileOptions {
  std::string modelPath;
  std::vector<std::string> inputShapes;
  int64_t batchSize = 0;
  bool noWeights = false;
  std::vector<std::string> freeze;
  /// "cpu", "cuda", or empty: the tool's default.
  std::string target;
  TrainOptions train;
  std::string precision = "fp32";
  /// The sharding; `shard.cluster` and `shard.bucketBytes` are filled by
  /// finish() from `clusterName` and `bucketMiB`.
  ShardOptions shard;
  /// Empty: the target's default profile.
  std::string clusterName;
  double bucketMiB = 25;

  /// The importer's options; fails on a malformed --input-shape.
  llvm::Expected<ImportOptions> getImportOptions() const;
  /// Completes the derived fields once the command line is parsed and the
  /// target is known.
  void finish(bool cudaTarget);
};

/// Where a tool's own options go among the shared ones (their order is
/// the order of --help).
enum class OptionSlot {
  afterModel,  // cleavec: --emit, -o
  afterImport, // cleavec: --list-ops
  afterLoss,   // cleavec: --no-eval
};

/// Adds the shared options to `app`, in cleavec's --help order, calling
/// `addOwn` at each OptionSlot so that a tool puts its own options there.
void addCompileOptions(
    CLI::App &app, CompileOptions &options,
    llvm::function_ref<void(OptionSlot)> addOwn = [](OptionSlot) {});

} // namespace mlir::cleave

#endif // CLEAVE_TOOLS_COMMON_COMPILEOPTIONS_H
