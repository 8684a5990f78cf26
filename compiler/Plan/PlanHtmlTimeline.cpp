//===- PlanHtmlTimeline.cpp - the step as a Gantt chart -------------------===//
//
// One row per rank stage: its forward, backward (and weight) passes per
// micro-batch and its update in the top band, the idle gaps (the bubble)
// hatched behind them, and two thin lanes below for what it sends and
// receives across the cuts (transfers do not occupy the stage: they are
// posted ahead, as the split's simulation assumes). Without a pipeline the
// step is one row: compute, then the exposed communication.
//
//===----------------------------------------------------------------------===//
#include "compiler/Plan/PlanHtml.h"

#include "llvm/Support/FormatVariadic.h"

#include <algorithm>
#include <cmath>

using namespace mlir;
using namespace mlir::cleave;
using namespace mlir::cleave::html;

namespace {
constexpr double kLeft = 96, kPlotWidth = 960, kRight = 24, kTop = 8;
constexpr double kBand = 24, kLane = 7, kRowGap = 10;
constexpr double kRowHeight = kBand + 2 * kLane + kRowGap;

/// A tick step of 1, 2 or 5 times a power of ten giving about 8 ticks.
double tickStep(double span) {
  if (span <= 0)
    return 1;
  double raw = span / 8, magnitude = std::pow(10.0, std::floor(std::log10(raw)));
  for (double factor : {1.0, 2.0, 5.0})
    if (raw <= factor * magnitude)
      return factor * magnitude;
  return 10 * magnitude;
}

struct Chart {
  double span;
  llvm::raw_ostream &os;

  double x(double seconds) const { return kLeft + kPlotWidth * seconds / span; }
  double width(double start, double end) const {
    return std::max(1.5, kPlotWidth * (end - start) / span);
  }

  /// A bar with its data for tests and its tooltip.
  void bar(llvm::StringRef kind, int64_t stage, int64_t microBatch, int64_t chunk, double start,
           double end, double y, double height, llvm::StringRef title, llvm::StringRef label) {
    os << "<rect class=\"bar c-" << kind << "\" data-kind=\"" << kind << "\" data-stage=\"" << stage
       << "\"";
    if (microBatch >= 0)
      os << " data-micro-batch=\"" << microBatch << "\"";
    if (chunk >= 0)
      os << " data-chunk=\"" << chunk << "\"";
    os << " x=\"" << coordinate(x(start)) << "\" y=\"" << coordinate(y) << "\" width=\""
       << coordinate(width(start, end)) << "\" height=\"" << coordinate(height) << "\"><title>"
       << escape(title) << "</title></rect>\n";
    // A label where it fits (about 7 px per character).
    if (!label.empty() && width(start, end) >= 7.0 * label.size() + 4)
      os << "<text class=\"bar-label\" x=\"" << coordinate(x(start) + width(start, end) / 2)
         << "\" y=\"" << coordinate(y + height / 2 + 4) << "\">" << escape(label) << "</text>\n";
  }

  void axis(double y) {
    os << "<g class=\"axis\">\n<line x1=\"" << coordinate(kLeft) << "\" y1=\"" << coordinate(y)
       << "\" x2=\"" << coordinate(kLeft + kPlotWidth) << "\" y2=\"" << coordinate(y) << "\"/>\n";
    double step = tickStep(span);
    for (int tick = 0; tick * step <= span * (1 + 1e-9); ++tick) {
      double at = x(tick * step);
      os << "<line x1=\"" << coordinate(at) << "\" y1=\"" << coordinate(y) << "\" x2=\""
         << coordinate(at) << "\" y2=\"" << coordinate(y + 5) << "\"/><text x=\"" << coordinate(at)
         << "\" y=\"" << coordinate(y + 18) << "\">" << milliseconds(tick * step) << "</text>\n";
    }
    os << "<text class=\"axis-title\" x=\"" << coordinate(kLeft + kPlotWidth / 2) << "\" y=\""
       << coordinate(y + 36) << "\">time (ms)</text>\n</g>\n";
  }
};

std::string actionTitle(const PlanTimelineEntry &entry) {
  std::string what = entry.kind == "update" ? "optimizer update"
                     : entry.kind == "send" ? "send from chunk " + std::to_string(entry.chunk)
                     : entry.kind == "recv"
                         ? "receive from chunk " + std::to_string(entry.chunk)
                         : entry.kind + " of chunk " + std::to_string(entry.chunk);
  if (entry.microBatch >= 0)
    what += ", micro-batch " + std::to_string(entry.microBatch);
  return "stage " + std::to_string(entry.stage) + ": " + what + ", " + formatSeconds(entry.start) +
         " to " + formatSeconds(entry.end) + " (" + formatSeconds(entry.end - entry.start) + ")";
}

void printPipelineChart(const PlanReport &report, double minSpan, llvm::raw_ostream &os) {
  const PlanPipeline &pipeline = *report.pipeline;
  int64_t stages = static_cast<int64_t>(pipeline.stageOrder.size());
  bool chunks = pipeline.virtualStages.value_or(1) > 1;
  double pipelineEnd = pipeline.timelineSeconds;
  for (const PlanTimelineEntry &entry : pipeline.timeline)
    pipelineEnd = std::max(pipelineEnd, entry.end);
  // The rest of the step: communication outside the pipeline (dp and tp
  // collectives of the stages' programs), exposed after it.
  double exposed = report.exposedSeconds;
  double span = std::max({pipelineEnd + exposed, minSpan, 1e-12});
  double plotHeight = stages * kRowHeight + (exposed > 0 ? kRowHeight : 0);
  double height = kTop + plotHeight + 44;
  os << "<svg class=\"gantt\" viewBox=\"0 0 " << coordinate(kLeft + kPlotWidth + kRight) << " "
     << coordinate(height) << "\" width=\"100%\" role=\"img\" aria-label=\"pipeline timeline\">\n";
  Chart chart{span, os};
  for (int64_t p = 0; p < stages; ++p) {
    double y = kTop + p * kRowHeight;
    os << "<g class=\"stage-row\" data-stage=\"" << p << "\">\n<text class=\"row-label\" x=\"4\" "
       << "y=\"" << coordinate(y + kBand / 2 + 4) << "\">stage " << p << "</text>\n";
    // The bubble: the gaps of the stage's compute within the pipeline's
    // span, hatched.
    std::vector<std::pair<double, double>> busy;
    for (const PlanTimelineEntry &entry : pipeline.timeline)
      if (entry.stage == p && entry.kind != "send" && entry.kind != "recv" &&
          entry.kind != "update")
        busy.push_back({entry.start, entry.end});
    std::sort(busy.begin(), busy.end());
    double cursor = 0;
    auto idle = [&](double start, double end) {
      if (end - start <= span * 1e-9)
        return;
      os << "<rect class=\"idle\" data-stage=\"" << p << "\" x=\"" << coordinate(chart.x(start))
         << "\" y=\"" << coordinate(y) << "\" width=\"" << coordinate(chart.width(start, end))
         << "\" height=\"" << coordinate(kBand) << "\"><title>stage " << p << " idle "
         << escape(formatSeconds(end - start)) << "</title></rect>\n";
    };
    for (auto [start, end] : busy) {
      idle(cursor, start);
      cursor = std::max(cursor, end);
    }
    idle(cursor, pipeline.timelineSeconds);
    for (const PlanTimelineEntry &entry : pipeline.timeline) {
      if (entry.stage != p)
        continue;
      bool send = entry.kind == "send", recv = entry.kind == "recv";
      double top = send ? y + kBand + 1 : recv ? y + kBand + kLane + 1 : y;
      double barHeight = send || recv ? kLane - 2 : kBand;
      std::string label;
      if (!send && !recv && entry.microBatch >= 0)
        label = chunks ? std::to_string(entry.chunk) + "." + std::to_string(entry.microBatch)
                       : std::to_string(entry.microBatch);
      chart.bar(entry.kind, p, entry.microBatch, entry.chunk, entry.start, entry.end, top,
                barHeight, actionTitle(entry), label);
    }
    os << "</g>\n";
  }
  if (exposed > 0) {
    double y = kTop + stages * kRowHeight;
    os << "<g class=\"stage-row\" data-stage=\"all\">\n<text class=\"row-label\" x=\"4\" y=\""
       << coordinate(y + kBand / 2 + 4) << "\">collectives</text>\n";
    chart.bar("communication", -1, -1, -1, pipelineEnd, pipelineEnd + exposed, y, kBand,
              "exposed communication of the stages' programs (dp/tp collectives): " +
                  formatSeconds(exposed),
              "");
    os << "</g>\n";
  }
  chart.axis(kTop + plotHeight);
  os << "</svg>\n";
}

/// What each chunk runs (the ONNX nodes its forward spans) and costs.
void printChunks(const PlanPipeline &pipeline, llvm::raw_ostream &os) {
  os << "<table class=\"chunks\"><tr><th class=\"num\">chunk</th><th class=\"num\">stage</th>"
        "<th>ONNX nodes</th><th class=\"num\">forward</th><th class=\"num\">backward</th>"
        "<th class=\"num\">sent to the next chunk</th></tr>\n";
  for (const PlanChunk &chunk : pipeline.chunks) {
    auto orUnknown = [](const std::optional<double> &seconds) {
      return seconds ? formatSeconds(*seconds) : std::string("?");
    };
    size_t index = static_cast<size_t>(chunk.chunk);
    std::string sent = index < pipeline.cutBytes.size()     ? formatBytes(pipeline.cutBytes[index])
                       : index + 1 < pipeline.chunks.size() ? "?"
                                                            : "-";
    os << "<tr><td class=\"num\">" << chunk.chunk << "</td><td class=\"num\">" << chunk.stage
       << "</td><td>" << escape(chunk.firstNode.empty() ? "?" : chunk.firstNode) << " .. "
       << escape(chunk.lastNode.empty() ? "?" : chunk.lastNode) << "</td><td class=\"num\">"
       << escape(orUnknown(chunk.forwardSeconds)) << "</td><td class=\"num\">"
       << escape(orUnknown(chunk.backwardSeconds)) << "</td><td class=\"num\">" << escape(sent)
       << "</td></tr>\n";
  }
  os << "</table>\n";
}

void printStepChart(const PlanReport &report, double minSpan, llvm::raw_ostream &os) {
  double compute = report.computeSeconds, exposed = report.exposedSeconds;
  double span = std::max({compute + exposed, minSpan, 1e-12});
  double height = kTop + kRowHeight + 44;
  os << "<svg class=\"gantt\" viewBox=\"0 0 " << coordinate(kLeft + kPlotWidth + kRight) << " "
     << coordinate(height) << "\" width=\"100%\" role=\"img\" aria-label=\"step timeline\">\n";
  Chart chart{span, os};
  os << "<g class=\"stage-row\" data-stage=\"0\">\n<text class=\"row-label\" x=\"4\" y=\""
     << coordinate(kTop + kBand / 2 + 4) << "\">each device</text>\n";
  chart.bar("compute", 0, -1, -1, 0, compute, kTop, kBand, "compute " + formatSeconds(compute),
            "compute");
  if (exposed > 0)
    chart.bar("communication", 0, -1, -1, compute, compute + exposed, kTop, kBand,
              "exposed communication " + formatSeconds(exposed), "communication");
  os << "</g>\n";
  chart.axis(kTop + kRowHeight);
  os << "</svg>\n";
}
} // namespace

void mlir::cleave::html::printTimelineSection(const PlanReport &report, llvm::StringRef id,
                                              double minSpan, llvm::raw_ostream &os) {
  os << "<section class=\"timeline\" id=\"" << escape(id) << "\">\n<h2>Timeline</h2>\n";
  const std::optional<PlanPipeline> &pipeline = report.pipeline;
  if (pipeline && !pipeline->timeline.empty()) {
    int64_t stages = static_cast<int64_t>(pipeline->stageOrder.size());
    double busy = 0;
    for (double seconds : pipeline->stageBusy)
      busy += seconds;
    double idle = stages && pipeline->timelineSeconds > 0
                      ? 1 - busy / (stages * pipeline->timelineSeconds)
                      : 0;
    os << "<p>" << stages << " stage(s), schedule " << escape(pipeline->schedule) << ", "
       << pipeline->microBatches.value_or(0) << " micro-batch(es), "
       << pipeline->virtualStages.value_or(1)
       << " virtual stage(s) per stage: the split's simulated step, "
       << escape(formatSeconds(pipeline->timelineSeconds)) << " until the last backward; bubble "
       << llvm::formatv("{0:F1}", 100 * idle) << "% (hatched)";
    if (std::optional<double> formula = pipeline->formulaBubble())
      os << ", formula " << llvm::formatv("{0:F1}", 100 * *formula) << "%";
    os << ". Bars are labelled with their micro-batch"
       << (pipeline->virtualStages.value_or(1) > 1 ? " (chunk.micro-batch)" : "")
       << "; the thin lanes under each stage are what it sends (upper) and receives (lower).</p>\n";
    if (std::optional<std::string> mismatch = timelineMismatch(*pipeline))
      os << "<p class=\"note\">Note: " << escape(*mismatch) << ".</p>\n";
    // The legend names what the chart shows.
    std::vector<std::pair<const char *, const char *>> legend;
    for (auto entry : {std::pair{"forward", "forward"}, std::pair{"backward", "backward"},
                       std::pair{"weight", "weight pass (ZB-H1)"}, std::pair{"send", "send"},
                       std::pair{"recv", "receive"}, std::pair{"update", "optimizer update"}})
      if (llvm::any_of(pipeline->timeline,
                       [&](const PlanTimelineEntry &bar) { return bar.kind == entry.first; }))
        legend.push_back(entry);
    if (report.exposedSeconds > 0)
      legend.push_back({"communication", "exposed communication"});
    legend.push_back({"idle", "idle (bubble)"});
    printLegend(legend, os);
    printPipelineChart(report, minSpan, os);
    printChunks(*pipeline, os);
  } else {
    if (pipeline)
      os << "<p>No simulated schedule: " << escape(pipeline->timelineNote) << ".</p>\n";
    os << "<p>One step on each device: compute " << escape(formatSeconds(report.computeSeconds))
       << ", then the exposed communication " << escape(formatSeconds(report.exposedSeconds))
       << (report.overlapModelled
               ? " (overlap modelled: of " + formatSeconds(report.communicationSeconds) +
                     " of communication, what gradient collectives behind the backward and "
                     "ZeRO-3 gathers one layer ahead cannot hide)"
               : std::string(" (the blocking schedule: all communication is exposed)"))
       << ".</p>\n";
    printLegend({{"compute", "compute"}, {"communication", "exposed communication"}}, os);
    printStepChart(report, minSpan, os);
  }
  os << "</section>\n";
}
