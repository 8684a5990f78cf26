//===- Configuration.h - one point of the 3-D search, and its text --------===//
//
// A configuration is everything the planner decides about a training step
// beyond the per-op layouts: pipeline stages, the stage's dp x tp
// sub-grid, micro-batches, schedule, recomputation, ZeRO level and
// sequence parallelism (docs/planner.md). Its spec text is what the tools
// print and what `cleave-plan --compare` reads:
//
//   pp=2,dp=2,tp=2 micro-batches=8 schedule=1f1b recompute=selective zero=1
//
//===----------------------------------------------------------------------===//
#ifndef CLEAVE_PASSES_PLANNER_CONFIGURATION_H
#define CLEAVE_PASSES_PLANNER_CONFIGURATION_H

#include "llvm/ADT/StringRef.h"
#include "llvm/Support/Error.h"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "passes/Recompute/Recompute.h"

namespace mlir::cleave {

struct Configuration {
  int64_t pp = 1, dp = 1, tp = 1, microBatches = 1, virtualStages = 1;
  std::string schedule = "1f1b";
  RecomputeMode recompute = RecomputeMode::none;
  int zero = 0;
  bool sequenceParallel = false;
  /// Never searched: the user's --precision.
  std::string precision = "fp32";
  /// ONNX nodes ending each chunk (pinned by --pipeline-cuts); empty: the
  /// split balances them.
  std::vector<std::string> cuts;

  int64_t devices() const { return pp * dp * tp; }
  /// The grid as the tools' --grid takes it: "pp=2,dp=2,tp=2", axes of
  /// size 1 left out ("dp=1" for a single device).
  std::string grid() const;
};

/// The spec text: the grid first, then every decision that differs from
/// the default (micro-batches=1, schedule=1f1b, virtual-stages=1,
/// recompute=none, zero=0, sequence-parallel=off), in that order.
std::string formatConfiguration(const Configuration &config);

/// Reads the spec text: a grid of pp, dp and tp ("dp=8", "pp=8,tp=8"),
/// then tokens NAME=VALUE separated by spaces (micro-batches, schedule,
/// virtual-stages, recompute, zero, sequence-parallel, precision). Absent
/// tokens take their defaults, so a spec is one fixed configuration. The
/// error names the token and what it accepts.
llvm::Expected<Configuration> parseConfiguration(llvm::StringRef spec);

} // namespace mlir::cleave

#endif // CLEAVE_PASSES_PLANNER_CONFIGURATION_H
