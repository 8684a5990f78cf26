//===- CompileOptions.cpp - the options cleavec and cleave-plan share -----===//
#include "tools/common/CompileOptions.h"

#include "passes/Analysis/Cluster/Cluster.h"

#include "llvm/Support/raw_ostream.h"

#include <optional>

using namespace mlir;
using namespace mlir::cleave;

// The CHECK column of passes/TrainOptions.def, as CLI11 validators.
#define CLEAVE_ANY std::nullopt
#define CLEAVE_ONE_OF(...) CLI::IsMember(std::vector<std::string>{__VA_ARGS__})
#define CLEAVE_RANGE(LOW, HIGH) CLI::Range(LOW, HIGH)

/// One flag of passes/TrainOptions.def.
template <typename T>
static void addTableOption(CLI::App &app, const char *flag, T &value, const char *help,
                           const std::optional<CLI::Validator> &check, bool showDefault) {
  CLI::Option *option = app.add_option(flag, value, help);
  if (check)
    option->check(*check);
  if (showDefault)
    option->capture_default_str();
}

void mlir::cleave::addCompileOptions(CLI::App &app, CompileOptions &options,
                                     llvm::function_ref<void(OptionSlot)> addOwn) {
  app.add_option("model", options.modelPath, "ONNX model (.onnx, or textual .onnxtext)");
  addOwn(OptionSlot::afterModel);
  app.add_option("--input-shape", options.inputShapes,
                 "Static shape for a data input, name=d0,d1,... (repeatable)");
  app.add_option("--batch-size", options.batchSize,
                 "Fills a dynamic first dimension of every input")
      ->check(CLI::PositiveNumber);
  app.add_flag("--no-weights", options.noWeights,
               "Import even if external-data weight files are missing (shapes only, for planning)");
  app.add_option("--freeze", options.freeze,
                 "Train nothing in parameters matching this glob (e.g. 'rope.*'): no gradient, no "
                 "optimizer state, still checkpointed and exported; repeatable. The model's "
                 "metadata_props 'cleave.frozen' list is honoured too");
  addOwn(OptionSlot::afterImport);
  app.add_option("--target", options.target, "cpu or cuda (default: cuda when a GPU is visible)")
      ->check(CLI::IsMember({"cpu", "cuda"}));

#define CLEAVE_LOSS_OPTION(FIELD, TYPE, FLAG, CLI_FLAG, DEFAULT, HELP, CHECK, SHOW_DEFAULT)        \
  addTableOption(app, CLI_FLAG, options.train.FIELD, HELP, CHECK, SHOW_DEFAULT);
#include "passes/TrainOptions.def"
  addOwn(OptionSlot::afterLoss);
#define CLEAVE_OPTIMIZER_OPTION(FIELD, TYPE, FLAG, CLI_FLAG, DEFAULT, HELP, CHECK, SHOW_DEFAULT)   \
  addTableOption(app, CLI_FLAG, options.train.settings.FIELD, HELP, CHECK, SHOW_DEFAULT);
#define CLEAVE_EXECUTABLE_OPTION(FIELD, TYPE, CLI_FLAG, DEFAULT, HELP, CHECK)                      \
  addTableOption(app, CLI_FLAG, options.train.settings.FIELD, HELP, CHECK, false);
#include "passes/TrainOptions.def"

  app.add_option("--precision", options.precision,
                 "fp32, or bf16: matrix products and convolutions take bfloat16 operands and "
                 "sum in fp32; weights, gradients, optimizer and all other ops stay fp32. Plans "
                 "(--devices, cleave-plan) are priced as a bf16 mixed-precision run")
      ->check(CLI::IsMember({"fp32", "bf16"}));
  ShardOptions &shard = options.shard;
  app.add_option("--devices", shard.devices,
                 "Ranks to train on (mpirun -np N); alone, N-way data parallelism")
      ->check(CLI::PositiveNumber);
  app.add_option("--grid", shard.grid, "Device grid of named axes, e.g. dp=2,tp=2");
  app.add_option("--zero", shard.zero,
                 "ZeRO level over the dp axis: 0, 1 (optimizer state), 2 (gradients too: "
                 "reduce-scattered) or 3 (parameters too); with --devices, applied over the "
                 "searched plan's dp axis")
      ->check(CLI::IsMember({0, 1, 2, 3}))
      ->each([&shard](const std::string &) { shard.zeroPinned = true; });
  app.add_option("--shard", shard.pins,
                 "Pin a parameter's sharding, NAME=SPEC with one grid axis, a*b or - per "
                 "dimension (e.g. fc1.weight=tp,-); repeatable");
  app.add_option("--cluster", options.clusterName,
                 "Cluster profile (name or JSON file) the plan is priced and checked against "
                 "(default: cpu for the CPU target, h100-sxm-8xN for CUDA)");
  app.add_option("--plan", shard.plan,
                 "auto: with --devices, search the grid and every op's sharding by predicted "
                 "step time, keeping what --grid and --shard pin and applying --zero over its "
                 "dp axis (without --devices, --grid, --shard and --zero are the plan, "
                 "completed by propagation); dp: "
                 "plain data parallelism")
      ->check(CLI::IsMember({"auto", "dp"}))
      ->capture_default_str();
  app.add_option("--bucket-mb", options.bucketMiB,
                 "Merge gradient all-reduces into messages of up to this many MiB (0: one "
                 "message per gradient)")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  app.add_flag_callback(
      "--no-overlap", [&shard] { shard.overlapCommunication = false; },
      "Compile the blocking schedule: every collective waits where it starts (default: "
      "gradient buckets start as soon as their last gradient exists and are waited for "
      "where the optimizer reads them; ZeRO-3 parameter gathers one layer ahead)");
  app.add_option("--micro-batches", shard.microBatches,
                 "Run each (data-parallel rank's) batch as M equal micro-batches with one "
                 "optimizer update per step (gradient accumulation; pipelines fill with them)")
      ->check(CLI::PositiveNumber)
      ->capture_default_str()
      ->each([&shard](const std::string &) { shard.microBatchesPinned = true; });
  // constant and cosine were this flag's values before it named the
  // pipeline schedule: finish() hands them to --lr-schedule.
  app.add_option("--schedule", shard.schedule,
                 "Pipeline schedule with --grid pp=S: gpipe, 1f1b or interleaved")
      ->check(CLI::IsMember({"gpipe", "1f1b", "interleaved", "constant", "cosine"}))
      ->capture_default_str()
      ->each([&shard](const std::string &value) {
        shard.schedulePinned = value != "constant" && value != "cosine";
      });
  app.add_option("--virtual-stages", shard.virtualStages,
                 "Chunks per pipeline stage (Megatron's interleaved 1F1B; needs --schedule "
                 "interleaved)")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  app.add_option("--pipeline-cuts", shard.pipelineCuts,
                 "ONNX node names that end a pipeline chunk, NODE[,NODE...] (default: a split "
                 "balanced by the cost model)")
      ->delimiter(',');
  app.add_option("--recompute", shard.recompute,
                 "Recompute activations in the backward instead of keeping them: none, "
                 "selective (attention's softmax and dropout, from Q, K, V) or full (every "
                 "layer from its input)")
      ->check(CLI::IsMember({"none", "selective", "full"}));
  app.add_option("--sequence-parallel", shard.sequenceParallel,
                 "Megatron-SP: norms and elementwise ops between tensor-parallel blocks run on "
                 "1/tp of the rows (reduce_scatter, all_gather instead of all_reduce): auto "
                 "(the search decides; a pinned plan keeps them whole), on, off")
      ->check(CLI::IsMember({"auto", "on", "off"}))
      ->capture_default_str();
}

llvm::Expected<ImportOptions> CompileOptions::getImportOptions() const {
  ImportOptions import;
  import.requireWeights = !noWeights;
  import.freeze = freeze;
  if (batchSize > 0)
    import.batchSize = batchSize;
  for (const std::string &shape : inputShapes)
    if (llvm::Error error = parseInputShape(shape, import))
      return std::move(error);
  return import;
}

void CompileOptions::finish(bool cudaTarget) {
  if (clusterName.empty())
    clusterName = getDefaultClusterName(cudaTarget).str();
  shard.cluster = clusterName;
  shard.precision = precision;
  shard.bucketBytes = static_cast<int64_t>(bucketMiB * 1024 * 1024);
  if (shard.schedule == "constant" || shard.schedule == "cosine") {
    llvm::errs() << "note: --schedule " << shard.schedule
                 << " is the learning-rate schedule: use --lr-schedule " << shard.schedule
                 << " (--schedule now names the pipeline schedule)\n";
    train.settings.schedule = shard.schedule;
    shard.schedule = "1f1b";
  }
  train.settings.phaseTags = wantsPipeline(shard);
}
