//===- PlanHtml.cpp - a plan report as one page with pictures -------------===//
//
// `cleave-plan --format html`: the same facts as the table, drawn. One file,
// nothing fetched (inline CSS and SVG, no script), so that it opens from a
// CI artifact or a mail. Colours mean one thing everywhere: a phase
// (forward, backward, ...) or a part of memory, each named in a legend.
//
//===----------------------------------------------------------------------===//
#include "compiler/Plan/PlanHtml.h"

#include "llvm/Support/FormatVariadic.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

using namespace mlir;
using namespace mlir::cleave;
using namespace mlir::cleave::html;

std::string mlir::cleave::html::escape(llvm::StringRef text) {
  std::string result;
  result.reserve(text.size());
  for (char c : text) {
    switch (c) {
    case '&':
      result += "&amp;";
      break;
    case '<':
      result += "&lt;";
      break;
    case '>':
      result += "&gt;";
      break;
    case '"':
      result += "&quot;";
      break;
    case '\'':
      result += "&#39;";
      break;
    default:
      result += c;
    }
  }
  return result;
}

std::string mlir::cleave::html::coordinate(double value) {
  return llvm::formatv("{0:F1}", value).str();
}

std::string mlir::cleave::html::milliseconds(double seconds) {
  char text[32];
  std::snprintf(text, sizeof(text), "%.4g", seconds * 1e3);
  return text;
}

void mlir::cleave::html::printLegend(llvm::ArrayRef<std::pair<const char *, const char *>> entries,
                                     llvm::raw_ostream &os) {
  os << "<div class=\"legend\">";
  for (auto [name, label] : entries)
    os << "<span class=\"key\"><span class=\"swatch c-" << name << "\"></span>" << escape(label)
       << "</span>";
  os << "</div>\n";
}

namespace {
/// The colour of each class: phases, parts of memory, collective kinds.
constexpr std::pair<const char *, const char *> kColours[] = {{"forward", "#4e79a7"},
                                                              {"backward", "#f28e2b"},
                                                              {"weight", "#edc948"},
                                                              {"send", "#59a14f"},
                                                              {"recv", "#76b7b2"},
                                                              {"update", "#b07aa1"},
                                                              {"compute", "#4e79a7"},
                                                              {"communication", "#e15759"},
                                                              {"parameters", "#4e79a7"},
                                                              {"gradients", "#f28e2b"},
                                                              {"optimizer_state", "#59a14f"},
                                                              {"activations", "#e15759"},
                                                              {"workspace", "#9c755f"},
                                                              {"batch_inputs", "#bab0ac"},
                                                              {"all_reduce", "#e15759"},
                                                              {"reduce_scatter", "#ff9da7"},
                                                              {"all_gather", "#af7aa1"},
                                                              {"all_slice", "#76b7b2"},
                                                              {"all_to_all", "#edc948"},
                                                              {"other", "#79706e"}};

void printStyle(llvm::raw_ostream &os) {
  os << R"(<style>
body{font-family:system-ui,-apple-system,"Segoe UI",sans-serif;margin:24px;color:#222;background:#fff}
h1{font-size:1.4em}h2{font-size:1.15em;margin-top:1.6em}h3{font-size:1.05em}
section{margin-bottom:1.5em}
table{border-collapse:collapse;font-size:.9em;margin:.5em 0}
th,td{border-bottom:1px solid #ddd;padding:3px 8px;text-align:left}
td.num,th.num{text-align:right;font-variant-numeric:tabular-nums}
.legend{margin:.4em 0;font-size:.85em}
.key{margin-right:14px;white-space:nowrap}
.swatch{display:inline-block;width:12px;height:12px;margin-right:4px;vertical-align:-1px;border:1px solid #0003}
svg text{font-size:11px;fill:#222}
svg .bar-label{fill:#fff;text-anchor:middle;font-size:10px}
svg .axis line{stroke:#555}svg .axis text{text-anchor:middle}
svg .capacity{stroke:#c00;stroke-width:2;stroke-dasharray:6 3}
svg .device{stroke:#333;stroke-width:1}svg .node-0{fill:#e8eef6}svg .node-1{fill:#f6ede3}
svg .group{fill:none;stroke:#999;stroke-dasharray:4 2}
rect.idle{fill:url(#hatch)}.swatch.c-idle{background:repeating-linear-gradient(45deg,#ccc 0 2px,#fff 2px 5px)}
.columns{display:flex;gap:24px;align-items:flex-start}.columns>.plan{flex:1;min-width:0;overflow-x:auto}
.columns table{font-size:.8em}
.fits{color:#070}.over{color:#c00;font-weight:bold}
.note{color:#555;font-size:.9em}
)";
  for (auto [name, colour] : kColours)
    os << ".c-" << name << "{fill:" << colour << ";background:" << colour << "}\n";
  os << "</style>\n";
}

std::string planName(const PlanReport &report) {
  return report.grid + (report.zero ? " zero=" + std::to_string(report.zero) : "");
}

std::string percentOf(double part, double whole) {
  return whole > 0 ? llvm::formatv("{0:F1}%", 100 * part / whole).str() : std::string("?");
}

/// The device grid: one box per device, the last axis across, the one
/// before it down, the others as labelled groups; boxes shaded by node.
void printGrid(const PlanReport &report, llvm::StringRef id, llvm::raw_ostream &os) {
  os << "<section class=\"grid\" id=\"" << escape(id) << "\">\n<h2>Device grid</h2>\n";
  os << "<p>" << escape(planName(report)) << " on " << report.devices() << " device(s), cluster "
     << escape(report.cluster.name) << " (" << report.cluster.devicesPerNode
     << " device(s) per node).</p>\n";
  os << "<table class=\"axes\"><tr><th>axis</th><th class=\"num\">size</th><th>what it "
        "splits</th></tr>\n";
  for (auto [index, name] : llvm::enumerate(report.axisNames))
    os << "<tr><td>" << escape(name) << "</td><td class=\"num\">" << report.gridShape[index]
       << "</td><td>"
       << escape(index < report.axisRoles.size() ? report.axisRoles[index] : std::string("?"))
       << "</td></tr>\n";
  os << "</table>\n";
  for (const std::string &axis : report.idleAxes)
    os << "<p class=\"note\">Nothing is split over axis " << escape(axis)
       << ": its devices repeat each other's work.</p>\n";

  const std::vector<int64_t> &shape = report.gridShape;
  size_t rank = shape.size();
  int64_t columns = rank >= 1 ? shape[rank - 1] : 1;
  int64_t rows = rank >= 2 ? shape[rank - 2] : 1;
  int64_t groups = std::max<int64_t>(report.devices() / std::max<int64_t>(columns * rows, 1), 1);
  int64_t devices = std::max<int64_t>(report.devices(), 1);
  double box = devices > 256 ? 14 : 40, boxHeight = devices > 256 ? 10 : 28, gap = 4, pad = 10;
  double groupWidth = columns * (box + gap) - gap + 2 * pad;
  double groupHeight = rows * (boxHeight + gap) - gap + 2 * pad + 14;
  int64_t perLine = std::max<int64_t>(1, static_cast<int64_t>(1000 / (groupWidth + 12)));
  int64_t lines = (groups + perLine - 1) / perLine;
  double width = std::min<int64_t>(groups, perLine) * (groupWidth + 12) + 80;
  double height = lines * (groupHeight + 12) + 4;
  os << "<svg class=\"devices\" viewBox=\"0 0 " << coordinate(width) << " " << coordinate(height)
     << "\" width=\"" << coordinate(std::min(width, 1000.0)) << "\" role=\"img\" "
     << "aria-label=\"device grid\">\n";
  auto coordinates = [&](int64_t device) {
    std::string text;
    int64_t rest = device;
    std::vector<int64_t> index(rank, 0);
    for (size_t axis = rank; axis-- > 0;) {
      index[axis] = rest % shape[axis];
      rest /= shape[axis];
    }
    for (size_t axis = 0; axis < rank; ++axis)
      text += (axis ? ", " : "") + report.axisNames[axis] + "=" + std::to_string(index[axis]);
    return text;
  };
  for (int64_t group = 0; group < groups; ++group) {
    double gx = 4 + (group % perLine) * (groupWidth + 12),
           gy = 4 + (group / perLine) * (groupHeight + 12);
    std::string label;
    if (rank > 2) {
      std::string first = coordinates(group * columns * rows);
      // The group's coordinates: the outer axes of its first device.
      size_t cut = 0;
      for (size_t axis = 0; axis + 2 < rank; ++axis)
        cut = first.find(", ", cut) + 2;
      label = first.substr(0, cut >= 2 ? cut - 2 : 0);
    }
    os << "<g class=\"device-group\"><rect class=\"group\" x=\"" << coordinate(gx) << "\" y=\""
       << coordinate(gy) << "\" width=\"" << coordinate(groupWidth) << "\" height=\""
       << coordinate(groupHeight) << "\"/><text x=\"" << coordinate(gx + pad) << "\" y=\""
       << coordinate(gy + 12) << "\">" << escape(label) << "</text>\n";
    for (int64_t row = 0; row < rows; ++row)
      for (int64_t column = 0; column < columns; ++column) {
        int64_t device = (group * rows + row) * columns + column;
        int64_t node = report.cluster.devicesPerNode > 0 ? report.cluster.nodeOf(device) : 0;
        double x = gx + pad + column * (box + gap), y = gy + pad + 14 + row * (boxHeight + gap);
        os << "<rect class=\"device node-" << node % 2 << "\" data-device=\"" << device << "\" x=\""
           << coordinate(x) << "\" y=\"" << coordinate(y) << "\" width=\"" << coordinate(box)
           << "\" height=\"" << coordinate(boxHeight) << "\"><title>device " << device
           << (rank ? ": " : "") << escape(coordinates(device)) << "; node " << node
           << "</title></rect>";
        if (devices <= 256)
          os << "<text x=\"" << coordinate(x + box / 2 - 3 * std::to_string(device).size())
             << "\" y=\"" << coordinate(y + boxHeight / 2 + 4) << "\">" << device << "</text>";
        os << "\n";
      }
    os << "</g>\n";
  }
  os << "</svg>\n";
  if (rank >= 1)
    os << "<p class=\"note\">Across: " << escape(report.axisNames[rank - 1])
       << (rank >= 2 ? "; down: " + escape(report.axisNames[rank - 2]) : std::string())
       << (rank > 2 ? "; each dashed group: one index of the outer axes" : "")
       << "; shading alternates by node.</p>\n";
  os << "</section>\n";
}

/// One stacked bar of memory.
struct MemoryRow {
  std::string label;
  PlanMemoryParts parts;
};

std::vector<MemoryRow> memoryRows(const PlanReport &report) {
  std::vector<MemoryRow> rows;
  if (report.pipeline)
    for (const PlanStage &stage : report.pipeline->stageList)
      if (std::optional<PlanMemoryParts> parts = stageMemoryParts(report, stage))
        rows.push_back({"stage " + std::to_string(stage.stage), *parts});
  if (rows.empty() && !report.stagePrograms.empty())
    for (const PlanStageProgram &program : report.stagePrograms)
      rows.push_back({"stage " + std::to_string(program.stage), memoryParts(program.memory)});
  if (rows.empty())
    rows.push_back({"each device", memoryParts(report.memory)});
  return rows;
}

void printMemory(const PlanReport &report, llvm::StringRef id, int64_t minLargest,
                 llvm::raw_ostream &os) {
  os << "<section class=\"memory\" id=\"" << escape(id) << "\">\n<h2>Memory per device"
     << (report.pipeline ? " (per stage)" : "") << "</h2>\n";
  std::vector<MemoryRow> rows = memoryRows(report);
  int64_t capacity = report.cluster.memoryCapacity, largest = std::max<int64_t>(minLargest, 1);
  for (const MemoryRow &row : rows)
    largest = std::max(largest, row.parts.total());
  // Tiny plans on large devices: the capacity would make the bars
  // invisible, so it is shown off the scale.
  bool capacityShown = capacity > 0 && capacity <= 20 * largest;
  double scale = capacityShown ? std::max<double>(capacity, largest) * 1.05 : largest * 1.1;
  constexpr double left = 96, plot = 760, rowHeight = 30, barHeight = 20;
  double height = rows.size() * rowHeight + 30;
  struct Part {
    const char *name, *label;
    int64_t PlanMemoryParts::*field;
  };
  static const Part parts[] = {
      {"parameters", "parameters", &PlanMemoryParts::parameters},
      {"gradients", "gradients", &PlanMemoryParts::gradients},
      {"optimizer_state", "optimizer state", &PlanMemoryParts::optimizerState},
      {"activations", "activations", &PlanMemoryParts::activations},
      {"workspace", "workspace (rest)", &PlanMemoryParts::workspace},
      {"batch_inputs", "batch inputs", &PlanMemoryParts::inputs}};
  std::vector<std::pair<const char *, const char *>> legend;
  for (const Part &part : parts)
    legend.push_back({part.name, part.label});
  printLegend(legend, os);
  os << "<svg class=\"memory-chart\" viewBox=\"0 0 " << coordinate(left + plot + 150) << " "
     << coordinate(height) << "\" width=\"100%\" role=\"img\" aria-label=\"memory per device\">\n";
  for (auto [index, row] : llvm::enumerate(rows)) {
    double y = 6 + index * rowHeight, x = left;
    os << "<g class=\"memory-bar\" data-row=\"" << index << "\"><text x=\"4\" y=\""
       << coordinate(y + barHeight / 2 + 4) << "\">" << escape(row.label) << "</text>\n";
    for (const Part &part : parts) {
      int64_t bytes = row.parts.*part.field;
      if (bytes <= 0)
        continue;
      double width = plot * bytes / scale;
      os << "<rect class=\"mem c-" << part.name << "\" data-part=\"" << part.name << "\" x=\""
         << coordinate(x) << "\" y=\"" << coordinate(y) << "\" width=\""
         << coordinate(std::max(width, 0.5)) << "\" height=\"" << coordinate(barHeight)
         << "\"><title>" << escape(row.label) << ": " << part.label << " "
         << escape(formatBytes(bytes)) << "</title></rect>\n";
      x += width;
    }
    os << "<text x=\"" << coordinate(x + 6) << "\" y=\"" << coordinate(y + barHeight / 2 + 4)
       << "\">" << escape(formatBytes(row.parts.total())) << " ("
       << escape(percentOf(static_cast<double>(row.parts.total()), static_cast<double>(capacity)))
       << " of capacity)</text></g>\n";
  }
  double bottom = 6 + rows.size() * rowHeight;
  if (capacityShown) {
    double x = left + plot * capacity / scale;
    os << "<line class=\"capacity\" x1=\"" << coordinate(x) << "\" y1=\"2\" x2=\"" << coordinate(x)
       << "\" y2=\"" << coordinate(bottom) << "\"/><text x=\"" << coordinate(x - 4) << "\" y=\""
       << coordinate(bottom + 14) << "\" text-anchor=\"end\">capacity "
       << escape(formatBytes(capacity)) << "</text>\n";
  } else {
    os << "<text class=\"capacity-note\" x=\"" << coordinate(left) << "\" y=\""
       << coordinate(bottom + 14) << "\">capacity " << escape(formatBytes(capacity))
       << " is off this scale (far right)</text>\n";
  }
  os << "</svg>\n";
  os << "<table class=\"memory-parts\"><tr><th></th>";
  for (const Part &part : parts)
    os << "<th class=\"num\">" << part.label << "</th>";
  os << "<th class=\"num\">total</th><th>fits</th></tr>\n";
  for (const MemoryRow &row : rows) {
    os << "<tr><td>" << escape(row.label) << "</td>";
    for (const Part &part : parts)
      os << "<td class=\"num\">" << escape(formatBytes(row.parts.*part.field)) << "</td>";
    bool fits = row.parts.total() <= capacity;
    os << "<td class=\"num\">" << escape(formatBytes(row.parts.total())) << "</td><td class=\""
       << (fits ? "fits\">yes" : "over\">DOES NOT FIT") << "</td></tr>\n";
  }
  os << "</table>\n<p class=\"note\">Parameters, optimizer state and batch inputs are the "
        "tensors a device keeps between steps; gradients and activations (forward values the "
        "backward reads"
     << (report.pipeline ? ", here the micro-batches in flight" : "")
     << ") live in the workspace; workspace (rest) is the remainder of its peak: collective "
        "buffers, backward temporaries. "
     << (report.fits() ? "The plan fits." : "The plan DOES NOT FIT.") << "</p>\n";
  if (!report.memory.workspaceNote.empty())
    os << "<p class=\"note\">The workspace is an upper bound (every intermediate live at once): "
       << escape(report.memory.workspaceNote) << "</p>\n";
  os << "</section>\n";
}

void printCollectives(const PlanReport &report, llvm::StringRef id, llvm::raw_ostream &os) {
  os << "<section class=\"collectives\" id=\"" << escape(id)
     << "\">\n<h2>Largest collectives</h2>\n";
  if (report.collectives.empty()) {
    os << "<p>No collectives: nothing is communicated in the step.</p>\n</section>\n";
    return;
  }
  constexpr size_t kShown = 10;
  size_t shown = std::min(kShown, report.collectives.size());
  double largest = 0;
  for (size_t index = 0; index < shown; ++index)
    largest =
        std::max(largest, report.collectives[index].seconds * report.collectives[index].count);
  largest = std::max(largest, 1e-15);
  auto colourOf = [](llvm::StringRef kind) -> std::string {
    for (auto [name, colour] : kColours)
      if (kind == name)
        return kind.str();
    return "other";
  };
  os << "<p>" << shown << " of " << report.collectives.size()
     << " kinds, by total time per step (all communication: "
     << escape(formatSeconds(report.communicationSeconds)) << ").</p>\n";
  constexpr double left = 300, plot = 560, rowHeight = 24;
  os << "<svg class=\"collective-chart\" viewBox=\"0 0 " << coordinate(left + plot + 120) << " "
     << coordinate(shown * rowHeight + 8) << "\" width=\"100%\" role=\"img\" "
     << "aria-label=\"largest collectives\">\n";
  for (size_t index = 0; index < shown; ++index) {
    const PlanCollective &c = report.collectives[index];
    double total = c.seconds * c.count, y = 4 + index * rowHeight;
    std::string label =
        c.kind + " over " + c.axes + ", " + formatBytes(c.bytes) + " x " + std::to_string(c.count);
    os << "<g class=\"collective-bar\"><text x=\"4\" y=\"" << coordinate(y + 14) << "\">"
       << escape(label) << "</text><rect class=\"bar c-" << colourOf(c.kind) << "\" x=\""
       << coordinate(left) << "\" y=\"" << coordinate(y) << "\" width=\""
       << coordinate(std::max(0.5, plot * total / largest)) << "\" height=\"18\"><title>"
       << escape(label) << ": " << escape(formatSeconds(total)) << "</title></rect><text x=\""
       << coordinate(left + std::max(0.5, plot * total / largest) + 6) << "\" y=\""
       << coordinate(y + 14) << "\">" << escape(formatSeconds(total)) << "</text></g>\n";
  }
  os << "</svg>\n<table class=\"collective-table\"><tr><th>kind</th><th>axes</th><th "
        "class=\"num\">bytes/device</th><th>algorithm</th><th class=\"num\">time each</th><th "
        "class=\"num\">count</th><th class=\"num\">total</th><th class=\"num\">exposed</th>"
        "<th>schedule</th></tr>\n";
  for (size_t index = 0; index < shown; ++index) {
    const PlanCollective &c = report.collectives[index];
    os << "<tr><td>" << escape(c.kind) << "</td><td>" << escape(c.axes) << "</td><td class=\"num\">"
       << escape(formatBytes(c.bytes)) << "</td><td>" << escape(c.algorithm)
       << "</td><td class=\"num\">" << escape(formatSeconds(c.seconds)) << "</td><td class=\"num\">"
       << c.count << "</td><td class=\"num\">" << escape(formatSeconds(c.seconds * c.count))
       << "</td><td class=\"num\">" << escape(formatSeconds(c.exposedSeconds)) << "</td><td>"
       << escape(c.schedule) << "</td></tr>\n";
  }
  os << "</table>\n</section>\n";
}

/// The headline figures of one plan.
void printSummary(const PlanReport &report, llvm::raw_ostream &os) {
  os << "<table class=\"summary\">\n<tr><td>step time (predicted)</td><td class=\"num\">"
     << escape(formatSeconds(report.stepSeconds())) << "</td></tr>\n";
  if (report.pipeline && report.pipeline->predictedStepSeconds)
    os << "<tr><td>pipeline (the stages' compute with the bubble)</td><td class=\"num\">"
       << escape(formatSeconds(*report.pipeline->predictedStepSeconds)) << "</td></tr>\n";
  else
    os << "<tr><td>compute</td><td class=\"num\">" << escape(formatSeconds(report.computeSeconds))
       << "</td></tr>\n";
  os << "<tr><td>exposed communication</td><td class=\"num\">"
     << escape(formatSeconds(report.exposedSeconds)) << "</td></tr>\n<tr><td>memory per device"
     << (report.programIsOneStage() ? " (largest stage)" : "") << "</td><td class=\"num\">"
     << escape(formatBytes(report.memory.total())) << "</td></tr>\n<tr><td>fits</td><td class=\""
     << (report.fits() ? "fits\">yes" : "over\">no") << "</td></tr>\n</table>\n";
}

/// One plan's sections; `scale` (seconds, bytes): the least extent of its
/// time axis and memory bars, so that two plans compared share them.
void printPlan(const PlanReport &report, llvm::StringRef prefix, std::pair<double, int64_t> scale,
               llvm::raw_ostream &os) {
  printSummary(report, os);
  printGrid(report, (prefix + "grid").str(), os);
  printTimelineSection(report, (prefix + "timeline").str(), scale.first, os);
  printMemory(report, (prefix + "memory").str(), scale.second, os);
  printCollectives(report, (prefix + "collectives").str(), os);
}

std::string signedDifference(double a, double b, bool bytes) {
  double difference = b - a;
  std::string text = bytes ? formatBytes(static_cast<int64_t>(std::abs(difference)))
                           : formatSeconds(std::abs(difference));
  std::string relative =
      a != 0
          ? llvm::formatv(" ({0}{1:F1}%)", difference >= 0 ? "+" : "", 100 * difference / a).str()
          : "";
  return (difference >= 0 ? "+" : "-") + text + relative;
}

void printComparison(const PlanReport &chosen, const PlanReport &alternative,
                     llvm::raw_ostream &os) {
  os << "<section class=\"compare\" id=\"compare\">\n<h2>Comparison</h2>\n<table "
        "class=\"difference\"><tr><th></th><th class=\"num\">"
     << escape(planName(chosen)) << " (chosen)</th><th class=\"num\">"
     << escape(planName(alternative))
     << " (alternative)</th><th class=\"num\">difference</th></tr>\n";
  auto timeRow = [&](llvm::StringRef what, double a, double b) {
    os << "<tr><td>" << what << "</td><td class=\"num\">" << escape(formatSeconds(a))
       << "</td><td class=\"num\">" << escape(formatSeconds(b)) << "</td><td class=\"num\">"
       << escape(signedDifference(a, b, false)) << "</td></tr>\n";
  };
  timeRow("step time", chosen.stepSeconds(), alternative.stepSeconds());
  timeRow("compute", chosen.computeSeconds, alternative.computeSeconds);
  timeRow("exposed communication", chosen.exposedSeconds, alternative.exposedSeconds);
  int64_t a = chosen.memory.total(), b = alternative.memory.total();
  os << "<tr><td>memory per device</td><td class=\"num\">" << escape(formatBytes(a))
     << "</td><td class=\"num\">" << escape(formatBytes(b)) << "</td><td class=\"num\">"
     << escape(signedDifference(static_cast<double>(a), static_cast<double>(b), true))
     << "</td></tr>\n<tr><td>fits</td><td class=\"num\">" << (chosen.fits() ? "yes" : "no")
     << "</td><td class=\"num\">" << (alternative.fits() ? "yes" : "no") << "</td><td></td></tr>\n"
     << "</table>\n";
  double x = chosen.stepSeconds(), y = alternative.stepSeconds();
  os << "<p>" << escape(planName(alternative)) << " is predicted "
     << escape(y < x   ? "faster by " + formatSeconds(x - y) + " per step"
               : y > x ? "slower by " + formatSeconds(y - x) + " per step"
                       : "as fast")
     << ".</p>\n<div class=\"columns\">\n";
  // One scale for both columns: the longer step, the larger device.
  std::pair<double, int64_t> scale{std::max(x, y), 0};
  for (const PlanReport *report : {&chosen, &alternative}) {
    if (report->pipeline)
      for (const PlanTimelineEntry &entry : report->pipeline->timeline)
        scale.first = std::max(scale.first, entry.end + report->exposedSeconds);
    for (const MemoryRow &row : memoryRows(*report))
      scale.second = std::max(scale.second, row.parts.total());
  }
  for (auto [report, name] :
       {std::pair{&chosen, "chosen"}, std::pair{&alternative, "alternative"}}) {
    os << "<div class=\"plan\" id=\"" << name << "\">\n<h2>" << name << ": "
       << escape(planName(*report)) << "</h2>\n";
    printPlan(*report, (llvm::Twine(name) + "-").str(), scale, os);
    os << "</div>\n";
  }
  os << "</div>\n</section>\n";
}
} // namespace

void mlir::cleave::printPlanHtml(const PlanReport &report, const PlanReport *alternative,
                                 llvm::raw_ostream &os) {
  std::string title = "Cleave plan " + planName(report) +
                      (alternative ? " vs " + planName(*alternative) : std::string());
  os << "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>"
     << escape(title) << "</title>\n";
  printStyle(os);
  os << "</head>\n<body>\n";
  // The hatching of idle time, defined once for every chart on the page.
  os << "<svg width=\"0\" height=\"0\" style=\"position:absolute\" aria-hidden=\"true\"><defs>"
        "<pattern id=\"hatch\" patternUnits=\"userSpaceOnUse\" width=\"6\" height=\"6\" "
        "patternTransform=\"rotate(45)\"><rect width=\"6\" height=\"6\" fill=\"#fff\"/>"
        "<line x1=\"0\" y1=\"0\" x2=\"0\" y2=\"6\" stroke=\"#bbb\" stroke-width=\"3\"/>"
        "</pattern></defs></svg>\n";
  os << "<h1>" << escape(title) << "</h1>\n<p class=\"note\">" << report.devices()
     << " device(s) on " << escape(report.cluster.name)
     << "; figures are the cost model's predictions (cleave-plan, docs/sharding.md, \"Reading a "
        "plan\").</p>\n";
  if (alternative) {
    printComparison(report, *alternative, os);
  } else {
    os << "<div class=\"plan\" id=\"plan\">\n";
    printPlan(report, "", {0.0, 0}, os);
    os << "</div>\n";
  }
  os << "</body>\n</html>\n";
}
