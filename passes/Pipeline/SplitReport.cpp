//===- SplitReport.cpp - the chosen pipeline split, for people ------------===//
#include "passes/Pipeline/SplitReport.h"

#include "dialects/Cleave/IR/CleaveDialect.h"
#include "dialects/Cleave/IR/NodeName.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "llvm/Support/Format.h"

#include <map>
#include <vector>

using namespace mlir;
using namespace mlir::cleave;

namespace {

/// The cleave.pipeline dictionary, read leniently: a missing or mistyped
/// entry reads as empty or 0, so that the report never fails.
struct PipelineDict {
  DictionaryAttr dict;

  int64_t integer(llvm::StringRef key) const {
    auto attr = dict.getAs<IntegerAttr>(key);
    return attr ? attr.getInt() : 0;
  }
  double real(llvm::StringRef key) const {
    auto attr = dict.getAs<FloatAttr>(key);
    return attr ? attr.getValueAsDouble() : 0.0;
  }
  std::string string(llvm::StringRef key) const {
    auto attr = dict.getAs<StringAttr>(key);
    return attr ? attr.str() : "";
  }
  ArrayAttr array(llvm::StringRef key) const { return dict.getAs<ArrayAttr>(key); }
  int64_t integerAt(llvm::StringRef key, size_t index) const {
    ArrayAttr values = array(key);
    auto attr = values && index < values.size() ? dyn_cast<IntegerAttr>(values[index]) : nullptr;
    return attr ? attr.getInt() : 0;
  }
  double realAt(llvm::StringRef key, size_t index) const {
    ArrayAttr values = array(key);
    auto attr = values && index < values.size() ? dyn_cast<FloatAttr>(values[index]) : nullptr;
    return attr ? attr.getValueAsDouble() : 0.0;
  }
  std::string stringAt(llvm::StringRef key, size_t index) const {
    ArrayAttr values = array(key);
    auto attr = values && index < values.size() ? dyn_cast<StringAttr>(values[index]) : nullptr;
    return attr ? attr.str() : "";
  }
};

std::string formatBytes(int64_t bytes) {
  const char *units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  double value = bytes;
  int unit = 0;
  while (value >= 1024 && unit < 4) {
    value /= 1024;
    ++unit;
  }
  std::string text;
  llvm::raw_string_ostream os(text);
  if (unit == 0)
    os << bytes << " B";
  else
    os << llvm::format("%.1f %s", value, units[unit]);
  return text;
}

std::string formatSeconds(double seconds) {
  std::string text;
  llvm::raw_string_ostream os(text);
  if (seconds >= 1)
    os << llvm::format("%.3f s", seconds);
  else if (seconds >= 1e-3)
    os << llvm::format("%.3f ms", seconds * 1e3);
  else
    os << llvm::format("%.3f us", seconds * 1e6);
  return text;
}

/// How a forward op is named to people: its ONNX node, else its op name
/// and fwd_id (as the cut names of IR without locations).
std::string nameOf(Operation *op) {
  std::string node = nodeNameOf(op);
  if (!node.empty())
    return node;
  auto id = op->getAttrOfType<IntegerAttr>(CleaveDialect::kForwardIdAttrName);
  return op->getName().getStringRef().str() + "#" + std::to_string(id ? id.getInt() : 0);
}

/// The first and last forward op of each chunk, and how many there are.
struct ChunkSpan {
  Operation *first = nullptr;
  Operation *last = nullptr;
  int64_t ops = 0;
};

std::map<int64_t, ChunkSpan> collectSpans(ModuleOp module) {
  // The train step as split; after cleave-pipeline-unroll its stage
  // functions, whose cloned ops keep the tags.
  std::vector<func::FuncOp> functions;
  if (auto step = module.lookupSymbol<func::FuncOp>("train_step"))
    functions.push_back(step);
  else
    for (auto function : module.getOps<func::FuncOp>())
      if (function.getSymName().starts_with("train_step_stage"))
        functions.push_back(function);
  std::map<int64_t, ChunkSpan> spans;
  for (func::FuncOp function : functions)
    function.walk([&](Operation *op) {
      auto phase = op->getAttrOfType<StringAttr>(CleaveDialect::kPhaseAttrName);
      auto chunk = op->getAttrOfType<IntegerAttr>(CleaveDialect::kStageAttrName);
      if (!phase || !chunk || phase.getValue() != "forward")
        return;
      ChunkSpan &span = spans[chunk.getInt()];
      if (!span.first)
        span.first = op;
      span.last = op;
      ++span.ops;
    });
  return spans;
}

} // namespace

void mlir::cleave::printPipelineSplit(ModuleOp module, llvm::raw_ostream &os) {
  auto dict = module->getAttrOfType<DictionaryAttr>(CleaveDialect::kPipelineAttrName);
  if (!dict)
    return;
  PipelineDict pipeline{dict};
  int64_t stages = std::max<int64_t>(pipeline.integer("stages"), 1);
  int64_t virtualStages = std::max<int64_t>(pipeline.integer("virtual_stages"), 1);
  int64_t chunks = stages * virtualStages;
  int64_t microBatches = pipeline.integer("micro_batches");
  os << "pipeline: " << stages << " stage" << (stages == 1 ? "" : "s");
  if (virtualStages > 1)
    os << " x " << virtualStages << " virtual stages";
  os << ", " << microBatches << " micro-batch" << (microBatches == 1 ? "" : "es") << ", schedule "
     << pipeline.string("schedule");
  if (int64_t layers = pipeline.integer("layers"))
    os << "; the model has " << layers << " layer" << (layers == 1 ? "" : "s");
  os << "\n";

  std::map<int64_t, ChunkSpan> spans = collectSpans(module);
  for (int64_t p = 0; p < stages; ++p) {
    os << "  stage " << p << ": memory " << formatBytes(pipeline.integerAt("stage_memory_bytes", p))
       << " (weights " << formatBytes(pipeline.integerAt("stage_weight_bytes", p)) << ", gradients "
       << formatBytes(pipeline.integerAt("stage_gradient_bytes", p)) << ", optimizer state "
       << formatBytes(pipeline.integerAt("stage_optimizer_bytes", p)) << ", activations "
       << formatBytes(pipeline.integerAt("stage_activation_bytes", p)) << " for "
       << pipeline.integerAt("stage_in_flight", p) << " micro-batch"
       << (pipeline.integerAt("stage_in_flight", p) == 1 ? "" : "es") << " in flight), busy "
       << formatSeconds(pipeline.realAt("stage_seconds", p)) << " per step\n";
    for (int64_t c = p; c < chunks; c += stages) {
      os << "    chunk " << c << ": ";
      auto it = spans.find(c);
      if (it == spans.end() || !it->second.first)
        os << "no forward ops";
      else
        os << nameOf(it->second.first) << " .. " << nameOf(it->second.last) << " ("
           << it->second.ops << " forward op" << (it->second.ops == 1 ? "" : "s") << ")";
      os << "; forward " << formatSeconds(pipeline.realAt("chunk_forward_seconds", c))
         << ", backward " << formatSeconds(pipeline.realAt("chunk_backward_seconds", c))
         << " per micro-batch; parameters "
         << formatBytes(pipeline.integerAt("chunk_parameter_bytes", c)) << ", stash "
         << formatBytes(pipeline.integerAt("chunk_activation_bytes", c)) << " per micro-batch\n";
    }
  }
  for (int64_t k = 0; k + 1 < chunks; ++k)
    os << "  cut " << k << " after " << pipeline.stringAt("cuts", k) << " (chunk " << k << " -> "
       << k + 1 << "): " << formatBytes(pipeline.integerAt("cut_bytes", k)) << " per micro-batch\n";
  if (ArrayAttr shared = pipeline.array("shared_parameters"))
    for (Attribute entry : shared) {
      PipelineDict parameter{dyn_cast<DictionaryAttr>(entry)};
      if (!parameter.dict)
        continue;
      os << "  shared parameter " << parameter.string("name") << ": read by chunks ";
      ArrayAttr users = parameter.array("chunks");
      for (size_t i = 0; users && i < users.size(); ++i)
        os << (i ? ", " : "") << parameter.integerAt("chunks", i);
      os << " (owner " << parameter.integerAt("chunks", 0)
         << ": it sums the others' gradients, updates, and sends the new value back)\n";
    }
  os << "  predicted step " << formatSeconds(pipeline.real("predicted_step_seconds")) << ", bubble "
     << llvm::format("%.1f%%", 100 * pipeline.real("bubble")) << "\n";
}
