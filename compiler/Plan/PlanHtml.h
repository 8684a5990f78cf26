//===- PlanHtml.h - pieces of the plan's HTML page ------------------------===//
//
// Shared by PlanHtml.cpp (the page, grid, memory, collectives) and
// PlanHtmlTimeline.cpp (the Gantt chart). Every text the page shows goes
// through escape(): tensor, node and axis names come from the ONNX file.
//
//===----------------------------------------------------------------------===//
#ifndef CLEAVE_COMPILER_PLAN_PLANHTML_H
#define CLEAVE_COMPILER_PLAN_PLANHTML_H

#include "compiler/Plan/PlanReport.h"

#include <string>

namespace mlir::cleave::html {

/// `text` with &, <, >, " and ' as entities.
std::string escape(llvm::StringRef text);

/// An SVG coordinate: fixed, one decimal.
std::string coordinate(double value);

/// Milliseconds for the time axes: "0.25", "1.5e-03" for tiny ones.
std::string milliseconds(double seconds);

/// Legend entries: a swatch in each class's colour (c-<name>) and its label.
void printLegend(llvm::ArrayRef<std::pair<const char *, const char *>> entries,
                 llvm::raw_ostream &os);

/// The pipeline's Gantt chart or, without a pipeline, one bar per step
/// (compute, then exposed communication): a <section> with id `id`. The
/// time axis spans at least `minSpan` seconds (the longer step of two plans
/// compared side by side, so that both are drawn to one scale).
void printTimelineSection(const PlanReport &report, llvm::StringRef id, double minSpan,
                          llvm::raw_ostream &os);

} // namespace mlir::cleave::html

#endif // CLEAVE_COMPILER_PLAN_PLANHTML_H
