//===- stage_timing.cpp - each pipeline stage's busy time ------------------===//
#include "stage_timing.h"

#include <algorithm>

namespace cleave::rt {

StageTiming::StageTiming(Distribution *distribution) : distribution_(distribution) {
  if (!distribution)
    return;
  const GridShape &grid = distribution->grid();
  for (size_t i = 0; i < grid.names.size(); ++i)
    if (grid.names[i] == "pp") {
      pp_axis_ = static_cast<int>(i);
      stages_ = grid.sizes[i];
    }
}

void StageTiming::add_step(double step_ms) {
  if (!active())
    return;
  window_ms_ += step_ms;
  window_wait_ms_ += distribution_->take_receive_wait_seconds() * 1000.0;
  ++window_steps_;
}

std::vector<double> StageTiming::report() {
  if (!active())
    return {};
  // The wait is part of the measured step; clamp against clock skew
  // between the two measurements all the same.
  double busy = window_steps_ > 0 ? std::max(0.0, window_ms_ - window_wait_ms_) /
                                        static_cast<double>(window_steps_)
                                  : 0.0;
  std::vector<double> ranks = distribution_->all_gather(busy);
  std::vector<double> sum(static_cast<size_t>(stages_), 0.0);
  std::vector<int> count(static_cast<size_t>(stages_), 0);
  const GridShape &grid = distribution_->grid();
  for (int r = 0; r < static_cast<int>(ranks.size()); ++r) {
    auto stage = static_cast<size_t>(grid.coordinates(r)[static_cast<size_t>(pp_axis_)]);
    sum[stage] += ranks[static_cast<size_t>(r)];
    ++count[stage];
  }
  for (size_t s = 0; s < sum.size(); ++s)
    sum[s] /= std::max(count[s], 1);
  window_ms_ = window_wait_ms_ = 0;
  window_steps_ = 0;
  return sum;
}

} // namespace cleave::rt
