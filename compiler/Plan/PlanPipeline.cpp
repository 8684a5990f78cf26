//===- PlanPipeline.cpp - a pipeline's split, as the plan shows it --------===//
//
// cleave-pipeline-split leaves its figures on the module (cleave.pipeline)
// and its chunk on every op (cleave.stage). The plan reads them back rather
// than recomputing them, so that the plan and cleavec's split report say
// the same thing. A module written by hand or by an older split may lack
// keys: what is there is shown, what is not is named.
//
//===----------------------------------------------------------------------===//
#include "compiler/Plan/PlanReport.h"
#include "dialects/Cleave/IR/CleaveOps.h"
#include "dialects/Cleave/IR/NodeName.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "llvm/ADT/StringExtras.h"

#include <algorithm>
#include <map>

using namespace mlir;
using namespace mlir::cleave;

std::optional<double> PlanPipeline::formulaBubble() const {
  if (!stages || !microBatches || *stages < 1 || *microBatches < 1)
    return std::nullopt;
  double s = static_cast<double>(*stages), m = static_cast<double>(*microBatches);
  double v = virtualStages && *virtualStages > 1 ? static_cast<double>(*virtualStages) : 1.0;
  return (s - 1) / (m + s - 1) / v;
}

int64_t PlanPipeline::firstStageOver(int64_t capacity) const {
  for (const PlanStage &stage : stageList)
    if (stage.memoryBytes && *stage.memoryBytes > capacity)
      return stage.stage;
  return -1;
}

namespace {
/// Typed reads of the dictionary; a key that is absent or of another type
/// is recorded once in `missing`.
struct DictionaryReader {
  DictionaryAttr dictionary;
  std::vector<std::string> &missing;

  Attribute get(llvm::StringRef key, bool required) {
    Attribute value = dictionary.get(key);
    if (!value && required)
      missing.push_back(key.str());
    return value;
  }
  void malformed(llvm::StringRef key, bool required) {
    if (required)
      missing.push_back(key.str());
  }
  static std::optional<int64_t> integer(Attribute value) {
    if (auto attr = dyn_cast_or_null<IntegerAttr>(value))
      return attr.getValue().getSExtValue();
    return std::nullopt;
  }
  static std::optional<double> real(Attribute value) {
    if (auto attr = dyn_cast_or_null<FloatAttr>(value))
      return attr.getValueAsDouble();
    if (auto attr = dyn_cast_or_null<IntegerAttr>(value))
      return static_cast<double>(attr.getValue().getSExtValue());
    return std::nullopt;
  }

  std::optional<int64_t> getInteger(llvm::StringRef key, bool required = true) {
    Attribute value = get(key, required);
    std::optional<int64_t> result = integer(value);
    if (value && !result)
      malformed(key, required);
    return result;
  }
  std::optional<double> getReal(llvm::StringRef key, bool required = true) {
    Attribute value = get(key, required);
    std::optional<double> result = real(value);
    if (value && !result)
      malformed(key, required);
    return result;
  }
  std::optional<std::string> getString(llvm::StringRef key, bool required = true) {
    Attribute value = get(key, required);
    if (auto text = dyn_cast_or_null<StringAttr>(value))
      return text.str();
    if (value)
      malformed(key, required);
    return std::nullopt;
  }
  /// An array whose every element `convert` reads; empty when it is not one.
  template <typename T, typename Convert>
  std::optional<std::vector<T>> getArray(llvm::StringRef key, Convert convert,
                                         bool required = true) {
    Attribute value = get(key, required);
    if (!value)
      return std::nullopt;
    auto array = dyn_cast<ArrayAttr>(value);
    std::vector<T> result;
    for (Attribute element : array ? array.getValue() : ArrayRef<Attribute>()) {
      std::optional<T> item = convert(element);
      if (!item) {
        array = nullptr;
        break;
      }
      result.push_back(*item);
    }
    if (!array) {
      malformed(key, required);
      return std::nullopt;
    }
    return result;
  }
  std::optional<std::vector<int64_t>> getIntegers(llvm::StringRef key, bool required = true) {
    return getArray<int64_t>(key, integer, required);
  }
  std::optional<std::vector<double>> getReals(llvm::StringRef key, bool required = true) {
    return getArray<double>(key, real, required);
  }
};

template <typename T>
std::optional<T> at(const std::optional<std::vector<T>> &values, int64_t index) {
  if (values && index >= 0 && index < static_cast<int64_t>(values->size()))
    return (*values)[index];
  return std::nullopt;
}

/// The ONNX nodes each chunk's forward spans, read from the ops of the
/// train step (or of its per-stage functions once unrolled).
struct ChunkSpan {
  int64_t firstOrder = 0, lastOrder = -1;
  std::string firstNode, lastNode;
};

std::map<int64_t, ChunkSpan> readChunkSpans(ModuleOp module, int64_t &largestChunk) {
  std::map<int64_t, ChunkSpan> spans;
  largestChunk = -1;
  for (auto function : module.getOps<func::FuncOp>()) {
    llvm::StringRef name = function.getSymName();
    if (name != "train_step" && !name.starts_with(kStageFunctionPrefix))
      continue;
    int64_t position = 0;
    function.walk([&](Operation *op) {
      ++position;
      auto chunk = op->getAttrOfType<IntegerAttr>(CleaveDialect::kStageAttrName);
      if (!chunk)
        return;
      largestChunk = std::max(largestChunk, chunk.getInt());
      auto phase = op->getAttrOfType<StringAttr>(CleaveDialect::kPhaseAttrName);
      auto forwardId = op->getAttrOfType<IntegerAttr>(CleaveDialect::kForwardIdAttrName);
      if (phase ? phase.getValue() != "forward" : !forwardId)
        return;
      std::string node = nodeNameOf(op);
      if (node.empty())
        return;
      // The forward's order is its fwd_id; without one, program order.
      int64_t order = forwardId ? forwardId.getInt() : position;
      auto [it, inserted] = spans.try_emplace(chunk.getInt());
      ChunkSpan &span = it->second;
      if (inserted || order < span.firstOrder) {
        span.firstOrder = order;
        span.firstNode = node;
      }
      if (inserted || order > span.lastOrder) {
        span.lastOrder = order;
        span.lastNode = node;
      }
    });
  }
  return spans;
}
} // namespace

void mlir::cleave::readPlanPipeline(ModuleOp module, PlanReport &report) {
  report.pipeline.reset();
  auto dictionary = module->getAttrOfType<DictionaryAttr>(CleaveDialect::kPipelineAttrName);
  // Stage functions without the split's figures: still a pipeline, every
  // figure unknown.
  if (!dictionary && report.stagePrograms.empty())
    return;
  if (!dictionary)
    dictionary = DictionaryAttr::get(module.getContext());
  PlanPipeline pipeline;
  DictionaryReader read{dictionary, pipeline.missingKeys};
  pipeline.stages = read.getInteger("stages");
  pipeline.virtualStages = read.getInteger("virtual_stages");
  pipeline.microBatches = read.getInteger("micro_batches");
  pipeline.schedule = read.getString("schedule").value_or("");
  auto cuts = read.getArray<std::string>("cuts", [](Attribute value) -> std::optional<std::string> {
    if (auto text = dyn_cast<StringAttr>(value))
      return text.str();
    return std::nullopt;
  });
  auto forward = read.getReals("chunk_forward_seconds");
  auto backward = read.getReals("chunk_backward_seconds");
  auto parameters = read.getIntegers("chunk_parameter_bytes");
  auto activations = read.getIntegers("chunk_activation_bytes");
  auto cutBytes = read.getIntegers("cut_bytes");
  auto stageMemory = read.getIntegers("stage_memory_bytes");
  auto stageSeconds = read.getReals("stage_seconds");
  pipeline.predictedStepSeconds = read.getReal("predicted_step_seconds");
  pipeline.bubble = read.getReal("bubble");
  Attribute shared = read.get("shared_parameters", /*required=*/true);
  // The parts of each stage's memory: beyond the contract, shown when the
  // split writes them.
  auto weights = read.getIntegers("stage_weight_bytes", false);
  auto gradients = read.getIntegers("stage_gradient_bytes", false);
  auto optimizer = read.getIntegers("stage_optimizer_bytes", false);
  auto stash = read.getIntegers("stage_activation_bytes", false);
  auto inFlight = read.getIntegers("stage_in_flight", false);
  auto cutSeconds = read.getReals("p2p_seconds", false);

  if (cuts)
    pipeline.cuts = *cuts;
  if (cutBytes)
    pipeline.cutBytes = *cutBytes;
  if (cutSeconds)
    pipeline.cutSeconds = *cutSeconds;
  if (auto array = dyn_cast_or_null<ArrayAttr>(shared)) {
    for (Attribute element : array) {
      auto entry = dyn_cast<DictionaryAttr>(element);
      auto name = entry ? entry.getAs<StringAttr>("name") : StringAttr();
      if (!name) {
        pipeline.missingKeys.push_back("shared_parameters");
        pipeline.sharedParameters.clear();
        break;
      }
      PlanSharedParameter parameter{name.str(), {}};
      if (auto chunks = entry.getAs<ArrayAttr>("chunks"))
        for (Attribute chunk : chunks)
          if (std::optional<int64_t> value = DictionaryReader::integer(chunk))
            parameter.chunks.push_back(*value);
      pipeline.sharedParameters.push_back(std::move(parameter));
    }
  } else if (shared) {
    pipeline.missingKeys.push_back("shared_parameters");
  }

  // The shape of the pipeline, from whatever says it: the settings, else
  // the lengths of the per-stage and per-chunk lists, else the ops' tags.
  int64_t largestChunk = -1;
  std::map<int64_t, ChunkSpan> spans = readChunkSpans(module, largestChunk);
  int64_t virtualStages = pipeline.virtualStages.value_or(1);
  if (virtualStages < 1)
    virtualStages = 1;
  int64_t stages = pipeline.stages.value_or(0);
  if (stages < 1 && !report.stagePrograms.empty())
    stages = static_cast<int64_t>(report.stagePrograms.size());
  if (stages < 1)
    stages = stageSeconds  ? static_cast<int64_t>(stageSeconds->size())
             : stageMemory ? static_cast<int64_t>(stageMemory->size())
             : forward     ? static_cast<int64_t>(forward->size()) / virtualStages
             : cuts        ? static_cast<int64_t>(cuts->size() + 1) / virtualStages
                           : (largestChunk + 1) / virtualStages;
  if (stages < 1)
    stages = 1;
  int64_t chunks = stages * virtualStages;

  for (int64_t c = 0; c < chunks; ++c) {
    PlanChunk chunk;
    chunk.chunk = c;
    chunk.stage = c % stages;
    if (auto span = spans.find(c); span != spans.end()) {
      chunk.firstNode = span->second.firstNode;
      chunk.lastNode = span->second.lastNode;
    }
    // A chunk ends at its cut whatever its ops are named.
    if (cuts && c < static_cast<int64_t>(cuts->size()))
      chunk.lastNode = (*cuts)[c];
    chunk.forwardSeconds = at(forward, c);
    chunk.backwardSeconds = at(backward, c);
    chunk.parameterBytes = at(parameters, c);
    chunk.activationBytes = at(activations, c);
    pipeline.chunks.push_back(std::move(chunk));
  }
  for (int64_t p = 0; p < stages; ++p) {
    PlanStage stage;
    stage.stage = p;
    for (int64_t c = p; c < chunks; c += stages)
      stage.chunks.push_back(c);
    stage.seconds = at(stageSeconds, p);
    stage.memoryBytes = at(stageMemory, p);
    stage.weightBytes = at(weights, p);
    stage.gradientBytes = at(gradients, p);
    stage.optimizerBytes = at(optimizer, p);
    stage.activationBytes = at(stash, p);
    stage.inFlight = at(inFlight, p);
    pipeline.stageList.push_back(std::move(stage));
  }
  report.pipeline = std::move(pipeline);
  buildPlanTimeline(report);
}

llvm::Error mlir::cleave::checkPipelineFits(const PlanReport &report) {
  const PlanPipeline &pipeline = *report.pipeline;
  int64_t capacity = report.cluster.memoryCapacity;
  int64_t index = pipeline.firstStageOver(capacity);
  if (index < 0)
    return llvm::Error::success();
  const PlanStage &stage = pipeline.stageList[index];
  std::string chunks;
  for (auto [i, chunk] : llvm::enumerate(stage.chunks))
    chunks += (i ? ", " : "") + std::to_string(chunk);
  int64_t stages = static_cast<int64_t>(pipeline.stageList.size());
  std::string message = "the pipeline's stage " + std::to_string(stage.stage) + " of " +
                        std::to_string(stages) + " (chunk" +
                        (stage.chunks.size() > 1 ? "s " : " ") + chunks + ") needs " +
                        formatBytes(*stage.memoryBytes) + " per device";

  struct Part {
    const char *name;
    std::optional<int64_t> bytes;
  };
  Part parts[] = {{"weights", stage.weightBytes},
                  {"gradients", stage.gradientBytes},
                  {"optimizer state", stage.optimizerBytes},
                  {"activations in flight", stage.activationBytes}};
  std::string list;
  const Part *largest = nullptr;
  for (const Part &part : parts) {
    if (!part.bytes)
      continue;
    list += (list.empty() ? "" : ", ") + std::string(part.name) + " " + formatBytes(*part.bytes);
    if (!largest || *part.bytes > *largest->bytes)
      largest = &part;
  }
  if (stage.activationBytes && stage.inFlight)
    list += " (" + std::to_string(*stage.inFlight) + " micro-batch" +
            (*stage.inFlight == 1 ? "" : "es") + ")";
  if (!list.empty())
    message += " (" + list + ")";
  message += ", the profile " + report.cluster.name + " has " + formatBytes(capacity);

  // Only what shrinks the largest part; without the parts, all of it.
  std::vector<std::string> remedies;
  llvm::StringRef part = largest ? llvm::StringRef(largest->name) : "";
  if (part.empty() || part == "activations in flight") {
    if (pipeline.schedule == "gpipe")
      remedies.push_back("--schedule 1f1b (holds at most one micro-batch per stage in flight "
                         "where gpipe holds all of them)");
    remedies.push_back("more --micro-batches (smaller ones stash fewer activations each)");
  }
  if (part.empty() || part != "activations in flight") {
    remedies.push_back("more pipeline stages (a larger pp in --grid)");
    if (report.zero < 3)
      remedies.push_back("a dp axis with --zero 3 (shards weights, gradients and optimizer "
                         "state)");
  }
  remedies.push_back("--pipeline-cuts that move layers off this stage");
  remedies.push_back("more tensor parallelism (a tp axis in --grid)");
  if (largest)
    message += ": the largest part is " + std::string(largest->name) + " (" +
               formatBytes(*largest->bytes) + ")";
  message += "; what would help: " + llvm::join(remedies, ", or ");
  return llvm::createStringError(llvm::inconvertibleErrorCode(), message);
}
