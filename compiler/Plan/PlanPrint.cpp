//===- PlanPrint.cpp - a plan report as tables for people -----------------===//
#include "compiler/Plan/PlanReport.h"

#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/FormatVariadic.h"

#include <algorithm>
#include <cmath>

using namespace mlir;
using namespace mlir::cleave;

std::string mlir::cleave::formatBytes(int64_t bytes) {
  double value = static_cast<double>(bytes);
  if (std::abs(value) >= 1024.0 * 1024 * 1024)
    return llvm::formatv("{0:F2} GiB", value / (1024.0 * 1024 * 1024)).str();
  if (std::abs(value) >= 1024.0 * 1024)
    return llvm::formatv("{0:F2} MiB", value / (1024.0 * 1024)).str();
  if (std::abs(value) >= 1024.0)
    return llvm::formatv("{0:F1} KiB", value / 1024.0).str();
  return std::to_string(bytes) + " B";
}

std::string mlir::cleave::formatSeconds(double seconds) {
  double magnitude = std::abs(seconds);
  if (magnitude >= 1)
    return llvm::formatv("{0:F3} s", seconds).str();
  if (magnitude >= 1e-3)
    return llvm::formatv("{0:F3} ms", seconds * 1e3).str();
  if (magnitude >= 1e-6 || magnitude == 0)
    return llvm::formatv("{0:F1} us", seconds * 1e6).str();
  return llvm::formatv("{0:F3} us", seconds * 1e6).str();
}

static std::string shapeText(const std::vector<int64_t> &shape) {
  std::string text = "[";
  for (auto [index, size] : llvm::enumerate(shape))
    text += (index ? ", " : "") + std::to_string(size);
  return text + "]";
}

/// Columns padded to their widest cell; the first row is the header.
static void printColumns(const std::vector<std::vector<std::string>> &rows, llvm::raw_ostream &os,
                         llvm::ArrayRef<bool> rightAligned = {}) {
  std::vector<size_t> widths;
  for (const auto &row : rows)
    for (auto [index, cell] : llvm::enumerate(row)) {
      if (widths.size() <= index)
        widths.push_back(0);
      widths[index] = std::max(widths[index], cell.size());
    }
  for (const auto &row : rows) {
    std::string line = " ";
    for (auto [index, cell] : llvm::enumerate(row)) {
      bool right = index < rightAligned.size() && rightAligned[index];
      std::string pad(widths[index] - cell.size(), ' ');
      line += "  " + (right ? pad + cell : cell + (index + 1 < row.size() ? pad : ""));
    }
    os << line << "\n";
  }
}

static int64_t sumBytes(const std::vector<PlanTensor> &tensors) {
  int64_t total = 0;
  for (const PlanTensor &tensor : tensors)
    total += tensor.bytesPerDevice;
  return total;
}

static void printHeading(llvm::StringRef title, llvm::raw_ostream &os) {
  os << "\n" << title << "\n";
}

static std::string planName(const PlanReport &report) {
  return report.grid + (report.zero ? " zero=" + std::to_string(report.zero) : "");
}

static std::string percent(double fraction) {
  return llvm::formatv("{0:F1}%", 100 * fraction).str();
}

template <typename T, typename Format>
static std::string orUnknown(const std::optional<T> &value, Format format) {
  return value ? format(*value) : "?";
}

static std::string listText(const std::vector<int64_t> &values) {
  std::string text;
  for (auto [index, value] : llvm::enumerate(values))
    text += (index ? ", " : "") + std::to_string(value);
  return text;
}

/// Each stage's actions in order, as the timeline simulates them, with
/// its busy and idle time; long programs are cut short (the JSON timeline
/// and the HTML page have every action).
static void printScheduleOrder(const PlanPipeline &pipeline, llvm::raw_ostream &os) {
  if (pipeline.stageOrder.empty()) {
    if (!pipeline.timelineNote.empty())
      os << "  (no simulated schedule: " << pipeline.timelineNote << ")\n";
    return;
  }
  constexpr size_t kShown = 24;
  os << "  schedule, per stage in order (F forward, B backward, W weight pass of "
        "chunk.micro-batch), simulated over "
     << formatSeconds(pipeline.timelineSeconds) << ":\n";
  for (auto [p, order] : llvm::enumerate(pipeline.stageOrder)) {
    std::string text;
    for (size_t index = 0; index < std::min(order.size(), kShown); ++index)
      text += (index ? " " : "") + order[index];
    if (order.size() > kShown)
      text += " ... (" + std::to_string(order.size() - kShown) + " more)";
    double busy = p < pipeline.stageBusy.size() ? pipeline.stageBusy[p] : 0.0;
    os << "   stage " << p << ": " << text << "; busy " << formatSeconds(busy) << ", idle "
       << formatSeconds(std::max(0.0, pipeline.timelineSeconds - busy)) << "\n";
  }
  if (std::optional<std::string> mismatch = timelineMismatch(pipeline))
    os << "  (" << *mismatch << ")\n";
}

/// The pipeline's stages, chunks and cuts (cleave-pipeline-split's
/// figures, read back from the module).
static void printPipeline(const PlanReport &report, llvm::raw_ostream &os) {
  const PlanPipeline &pipeline = *report.pipeline;
  auto count = [](const std::optional<int64_t> &value) {
    return value ? std::to_string(*value) : std::string("?");
  };
  printHeading("Pipeline: " + count(pipeline.stages) +
                   (pipeline.stages == 1 ? " stage, schedule " : " stages, schedule ") +
                   (pipeline.schedule.empty() ? "?" : pipeline.schedule) + ", " +
                   count(pipeline.microBatches) +
                   (pipeline.microBatches == 1 ? " micro-batch, " : " micro-batches, ") +
                   count(pipeline.virtualStages) + " virtual stage(s) per stage",
               os);
  // The bubble as the split predicts it (from the stages' times) beside the
  // textbook one (equal stages).
  os << "  bubble " << orUnknown(pipeline.bubble, percent) << " predicted";
  if (std::optional<double> formula = pipeline.formulaBubble()) {
    int64_t s = *pipeline.stages, m = *pipeline.microBatches,
            v = pipeline.virtualStages.value_or(1);
    os << "; formula " << (v > 1 ? "(S-1)/(V(M+S-1))" : "(S-1)/(M+S-1)") << " = " << s - 1 << "/"
       << (v > 1 ? "(" + std::to_string(v) + "*" + std::to_string(m + s - 1) + ")"
                 : std::to_string(m + s - 1))
       << " = " << percent(*formula);
  }
  os << "\n";
  os << "  step " << orUnknown(pipeline.predictedStepSeconds, formatSeconds)
     << " predicted (the stages' compute with the bubble)\n";

  std::vector<std::vector<std::string>> rows = {
      {"chunk", "stage", "ONNX nodes", "forward", "backward", "parameters", "activations"}};
  for (const PlanChunk &chunk : pipeline.chunks) {
    std::string nodes = chunk.firstNode.empty() && chunk.lastNode.empty()
                            ? "?"
                            : (chunk.firstNode.empty() ? "?" : chunk.firstNode) + " .. " +
                                  (chunk.lastNode.empty() ? "?" : chunk.lastNode);
    rows.push_back({std::to_string(chunk.chunk), std::to_string(chunk.stage), nodes,
                    orUnknown(chunk.forwardSeconds, formatSeconds),
                    orUnknown(chunk.backwardSeconds, formatSeconds),
                    orUnknown(chunk.parameterBytes, formatBytes),
                    orUnknown(chunk.activationBytes, formatBytes)});
  }
  os << "  per chunk and micro-batch, on one device of its stage:\n";
  printColumns(rows, os, {true, true, false, true, true, true, true});

  int64_t capacity = report.cluster.memoryCapacity;
  rows = {{"stage", "chunks", "busy", "weights", "gradients", "optimizer state",
           "activations in flight", "memory", "of capacity"}};
  for (const PlanStage &stage : pipeline.stageList) {
    std::string inFlight = orUnknown(stage.activationBytes, formatBytes);
    if (stage.activationBytes && stage.inFlight)
      inFlight += " (" + std::to_string(*stage.inFlight) + " micro-batch" +
                  (*stage.inFlight == 1 ? "" : "es") + ")";
    bool over = stage.memoryBytes && *stage.memoryBytes > capacity;
    rows.push_back(
        {std::to_string(stage.stage), listText(stage.chunks),
         orUnknown(stage.seconds, formatSeconds), orUnknown(stage.weightBytes, formatBytes),
         orUnknown(stage.gradientBytes, formatBytes), orUnknown(stage.optimizerBytes, formatBytes),
         inFlight, orUnknown(stage.memoryBytes, formatBytes),
         !stage.memoryBytes || !capacity
             ? "?"
             : percent(static_cast<double>(*stage.memoryBytes) / capacity) +
                   (over ? " DOES NOT FIT" : " fits")});
  }
  os << "  per stage and step, on one of its devices (capacity " << formatBytes(capacity) << "):\n";
  printColumns(rows, os, {true, false, true, true, true, true, true, true, false});

  if (!report.stagePrograms.empty()) {
    // What the unrolled per-stage functions cost as planned (the memory
    // planner's workspace), beside the split's predictions above.
    rows = {{"stage", "compute", "communication", "parameters", "optimizer state", "batch inputs",
             "workspace", "memory", "of capacity"}};
    for (const PlanStageProgram &program : report.stagePrograms) {
      int64_t total = program.memory.total();
      rows.push_back(
          {std::to_string(program.stage), formatSeconds(program.computeSeconds),
           formatSeconds(program.communicationSeconds), formatBytes(program.memory.parameters),
           formatBytes(program.memory.optimizerState), formatBytes(program.memory.inputs),
           formatBytes(program.memory.workspace), formatBytes(total),
           capacity ? percent(static_cast<double>(total) / capacity) +
                          (total > capacity ? " DOES NOT FIT" : " fits")
                    : "?"});
    }
    os << "  per stage, its unrolled program as planned (one device, one step):\n";
    printColumns(rows, os, {true, true, true, true, true, true, true, true, false});
  }

  size_t cuts = std::max(pipeline.cuts.size(), pipeline.cutBytes.size());
  if (cuts) {
    rows = {{"cut", "after", "bytes per micro-batch"}};
    for (size_t index = 0; index < cuts; ++index)
      rows.push_back(
          {std::to_string(index), index < pipeline.cuts.size() ? pipeline.cuts[index] : "?",
           index < pipeline.cutBytes.size() ? formatBytes(pipeline.cutBytes[index]) : "?"});
    os << "  activations crossing each cut (and their gradients back):\n";
    printColumns(rows, os, {true, false, true});
  }
  for (const PlanSharedParameter &shared : pipeline.sharedParameters)
    os << "  shared parameter " << shared.name << ": read by chunks " << listText(shared.chunks)
       << (shared.chunks.empty()
               ? std::string()
               : "; chunk " + std::to_string(shared.chunks.front()) +
                     " owns it (sums the others' gradients, updates it, sends it back)")
       << "\n";
  printScheduleOrder(pipeline, os);
  if (!pipeline.missingKeys.empty())
    os << "  (cleave.pipeline lacks " << llvm::join(pipeline.missingKeys, ", ")
       << ": shown as ?)\n";
}

/// The configuration search's choice and its best alternatives.
static void printConfiguration(const PlanConfiguration &config, llvm::raw_ostream &os) {
  os << "Configuration " << config.spec << " (chosen by the "
     << (config.chosenBy == "pins" ? "pins" : "search") << "; predicted step "
     << formatSeconds(config.predictedStepSeconds) << ", "
     << formatBytes(static_cast<int64_t>(config.memoryBytes)) << " per device on the largest stage"
     << (config.fits ? "" : ", does not fit") << ")\n";
  if (config.chosenBy != "search")
    return;
  os << "  searched " << config.configurationsPriced << " configurations in "
     << llvm::formatv("{0:F2}", config.searchSeconds) << " s; the best others:\n";
  for (const PlanConfiguration::Alternative &other : config.alternatives)
    os << "    " << other.spec << ": step " << formatSeconds(other.stepSeconds) << ", "
       << formatBytes(static_cast<int64_t>(other.memoryBytes)) << " per device"
       << (other.fits ? "" : ", does not fit") << "\n";
}

void mlir::cleave::printPlanTable(const PlanReport &report, llvm::raw_ostream &os) {
  if (report.configuration)
    printConfiguration(*report.configuration, os);
  if (!report.notUnrolled.empty())
    os << "Note: " << report.notUnrolled << "\n";
  // The axis names are labels (the search calls its first axis dp even
  // when it splits weights there): say what each one does.
  os << "Plan " << planName(report) << " on " << report.devices() << " device(s)";
  for (auto [index, role] : llvm::enumerate(report.axisRoles))
    os << (index ? "; " : ": ") << report.axisNames[index] << "=" << report.gridShape[index] << " "
       << role;
  os << "\n";
  os << "Cluster ";
  printCluster(report.cluster, os);
  os << "\n";
  if (!report.precisionNote.empty())
    os << "Precision " << report.precision << ": " << report.precisionNote << "\n";
  for (const std::string &axis : report.idleAxes)
    os << "Note: nothing is split over grid axis '" << axis
       << "': its devices repeat each other's work (pin shardings with --shard to use it)\n";

  // Parameters, each with its optimizer state ("NAME.exp_avg", ...).
  printHeading(llvm::formatv("Parameters: {0} tensors, {1} per device; optimizer state {2} per "
                             "device",
                             report.parameters.size(), formatBytes(sumBytes(report.parameters)),
                             formatBytes(sumBytes(report.optimizerState)))
                   .str(),
               os);
  std::vector<bool> matched(report.optimizerState.size(), false);
  std::vector<std::vector<std::string>> rows = {
      {"name", "shape", "type", "sharding", "per device", "state sharding", "state per device"}};
  for (const PlanTensor &parameter : report.parameters) {
    std::string stateSharding = "-";
    int64_t stateBytes = 0;
    for (auto [index, state] : llvm::enumerate(report.optimizerState))
      if (!matched[index] && llvm::StringRef(state.name).starts_with(parameter.name + ".")) {
        matched[index] = true;
        stateBytes += state.bytesPerDevice;
        stateSharding = state.sharding;
      }
    rows.push_back({parameter.name, shapeText(parameter.globalShape), parameter.elementType,
                    parameter.sharding, formatBytes(parameter.bytesPerDevice), stateSharding,
                    stateBytes ? formatBytes(stateBytes) : "-"});
  }
  printColumns(rows, os, {false, false, false, false, true, false, true});
  std::vector<std::vector<std::string>> orphans = {
      {"optimizer state", "shape", "sharding", "per device"}};
  for (auto [index, state] : llvm::enumerate(report.optimizerState))
    if (!matched[index])
      orphans.push_back({state.name, shapeText(state.globalShape), state.sharding,
                         formatBytes(state.bytesPerDevice)});
  if (orphans.size() > 1)
    printColumns(orphans, os, {false, false, false, true});

  printHeading("Batch inputs", os);
  rows = {{"name", "shape", "type", "sharding", "per device"}};
  for (const PlanTensor &input : report.inputs)
    rows.push_back({input.name, shapeText(input.globalShape), input.elementType, input.sharding,
                    formatBytes(input.bytesPerDevice)});
  printColumns(rows, os, {false, false, false, false, true});

  printHeading(
      llvm::formatv("Largest activations (top {0} by bytes per device)", report.activations.size())
          .str(),
      os);
  rows = {{"op", "shape", "type", "sharding", "per device"}};
  for (const PlanTensor &tensor : report.activations)
    rows.push_back({tensor.name, shapeText(tensor.globalShape), tensor.elementType, tensor.sharding,
                    formatBytes(tensor.bytesPerDevice)});
  printColumns(rows, os, {false, false, false, false, true});

  int64_t collectiveCount = 0;
  for (const PlanCollective &collective : report.collectives)
    collectiveCount += collective.count;
  printHeading(llvm::formatv("Collectives: {0} in the step, {1}", collectiveCount,
                             formatSeconds(report.communicationSeconds))
                   .str(),
               os);
  if (report.collectives.empty()) {
    os << "  (none)\n";
  } else {
    rows = {{"kind", "axes", "bytes/device", "algorithm", "time each", "count", "total", "exposed",
             "schedule"}};
    for (const PlanCollective &c : report.collectives)
      rows.push_back({c.kind, c.axes, formatBytes(c.bytes), c.algorithm, formatSeconds(c.seconds),
                      std::to_string(c.count), formatSeconds(c.seconds * c.count),
                      formatSeconds(c.exposedSeconds), c.schedule});
    printColumns(rows, os, {false, false, true, false, true, true, true, true, false});
  }

  printHeading(llvm::formatv("Compute per device: {0}", formatSeconds(report.computeSeconds)).str(),
               os);
  rows = {{"op", "count", "time", "share"}};
  for (const PlanOpTime &op : report.compute)
    rows.push_back(
        {op.op, std::to_string(op.count), formatSeconds(op.seconds),
         llvm::formatv("{0:F1}%",
                       report.computeSeconds > 0 ? 100 * op.seconds / report.computeSeconds : 0.0)
             .str()});
  printColumns(rows, os, {false, true, true, true});
  if (!report.slowestOps.empty()) {
    os << "  slowest ops:\n";
    rows = {{"op", "time"}};
    for (const PlanOpTime &op : report.slowestOps)
      rows.push_back({op.op, formatSeconds(op.seconds)});
    printColumns(rows, os, {false, true});
  }

  if (report.pipeline)
    printPipeline(report, os);

  const PlanMemory &memory = report.memory;
  printHeading("Memory per device", os);
  rows = {
      {"parameters", formatBytes(memory.parameters)},
      {"optimizer state", formatBytes(memory.optimizerState)},
      {"batch inputs", formatBytes(memory.inputs)},
      {"gradients and activations (workspace peak)", formatBytes(memory.workspace)},
      {"  of which gradients (estimated)", formatBytes(memoryParts(memory).gradients)},
      {"  of which activations the backward reads", formatBytes(memoryParts(memory).activations)},
      {"total", formatBytes(memory.total())},
      {"capacity", formatBytes(report.cluster.memoryCapacity)}};
  printColumns(rows, os, {false, true});
  if (!memory.workspaceNote.empty())
    os << "  (workspace: an upper bound, every intermediate live at once; " << memory.workspaceNote
       << ")\n";
  int64_t over =
      report.pipeline ? report.pipeline->firstStageOver(report.cluster.memoryCapacity) : -1;
  bool stageMemory =
      report.pipeline && llvm::any_of(report.pipeline->stageList, [](const PlanStage &stage) {
        return stage.memoryBytes.has_value();
      });
  bool programOver = report.programIsOneStage() && memory.total() > report.cluster.memoryCapacity;
  if (stageMemory && programOver && over < 0)
    // The split's estimate fits, the stage's planned program does not.
    os << "  DOES NOT FIT (the largest stage's program, "
       << llvm::formatv("{0:F1}", 100.0 * memory.total() / report.cluster.memoryCapacity)
       << "% of the device)\n";
  else if (stageMemory)
    // A device holds its stage only: the check is per stage (Pipeline above).
    os << "  " << (over < 0 ? "every stage fits" : "DOES NOT FIT: stage " + std::to_string(over))
       << " (per stage, see Pipeline)\n";
  else
    os << "  " << (report.fits() ? "fits" : "DOES NOT FIT") << " ("
       << llvm::formatv("{0:F1}", report.cluster.memoryCapacity
                                      ? 100.0 * memory.total() / report.cluster.memoryCapacity
                                      : 0.0)
       << "% of the device)\n";

  printHeading("Step time (predicted)", os);
  if (report.pipeline && report.pipeline->predictedStepSeconds)
    rows = {{"pipeline (the stages' compute with the bubble)",
             formatSeconds(*report.pipeline->predictedStepSeconds)}};
  else
    rows = {{"compute", formatSeconds(report.computeSeconds)}};
  rows.push_back({"communication", formatSeconds(report.communicationSeconds)});
  rows.push_back({"exposed communication", formatSeconds(report.exposedSeconds)});
  rows.push_back({"total", formatSeconds(report.stepSeconds())});
  printColumns(rows, os, {false, true});
  if (report.launchSeconds > 0)
    os << "  (compute includes " << formatSeconds(report.launchSeconds)
       << " of launch floor: " << report.kernels << " kernels of at least "
       << formatSeconds(report.cluster.kernelLaunch) << " each)\n";
  if (report.overlapModelled)
    os << "  (overlap modelled: gradient collectives run behind the rest of the backward, ZeRO-3 "
          "gathers one layer ahead, the rest blocks; exposed is what the schedule cannot hide)\n";
  else
    os << "  (the blocking schedule, --no-overlap: all communication is exposed)\n";
}

static std::string percentText(double chosen, double alternative) {
  if (chosen == 0)
    return alternative == 0 ? "+0.0%" : "n/a";
  double percent = 100.0 * (alternative - chosen) / chosen;
  return (percent >= 0 ? "+" : "") + llvm::formatv("{0:F1}%", percent).str();
}

void mlir::cleave::printPlanComparison(const PlanReport &chosen, const PlanReport &alternative,
                                       llvm::raw_ostream &os) {
  os << "\nComparison: " << planName(chosen) << " (chosen) vs " << planName(alternative)
     << " (alternative)\n";
  auto timeRow = [](llvm::StringRef what, double a, double b) {
    return std::vector<std::string>{what.str(), formatSeconds(a), formatSeconds(b),
                                    (b >= a ? "+" : "-") + formatSeconds(std::abs(b - a)),
                                    percentText(a, b)};
  };
  auto byteRow = [](llvm::StringRef what, int64_t a, int64_t b) {
    return std::vector<std::string>{what.str(), formatBytes(a), formatBytes(b),
                                    (b >= a ? "+" : "-") + formatBytes(std::abs(b - a)),
                                    percentText(static_cast<double>(a), static_cast<double>(b))};
  };
  std::vector<std::vector<std::string>> rows = {
      {"", planName(chosen), planName(alternative), "difference", "relative"},
      timeRow("step time", chosen.stepSeconds(), alternative.stepSeconds()),
      timeRow("  compute", chosen.computeSeconds, alternative.computeSeconds),
      timeRow("  exposed communication", chosen.exposedSeconds, alternative.exposedSeconds),
      byteRow("memory per device", chosen.memory.total(), alternative.memory.total()),
      {"fits", chosen.fits() ? "yes" : "no", alternative.fits() ? "yes" : "no", "", ""}};
  printColumns(rows, os, {false, true, true, true, true});
  double a = chosen.stepSeconds(), b = alternative.stepSeconds();
  os << "  " << planName(alternative) << " is predicted "
     << (b < a   ? "faster by " + formatSeconds(a - b) + " per step"
         : b > a ? "slower by " + formatSeconds(b - a) + " per step"
                 : "as fast")
     << "\n";
}
