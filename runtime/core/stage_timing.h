//===- stage_timing.h - each pipeline stage's busy time, for the metrics ---===//
//
// In a pipeline program a stage idles while it waits for its neighbours'
// activations or gradients (the bubble). Every rank adds up the time of its
// step function and the seconds its receives waited in it (Distribution::
// take_receive_wait_seconds); on report steps (progress_due) one small
// all_gather brings each rank's mean busy time per step to every rank, and
// rank 0 prints and records each stage's, the mean over its ranks.
//
//===----------------------------------------------------------------------===//
#ifndef CLEAVE_RT_CORE_STAGE_TIMING_H
#define CLEAVE_RT_CORE_STAGE_TIMING_H

#include "cleave/rt/distribution.h"

#include <cstdint>
#include <vector>

namespace cleave::rt {

class StageTiming {
public:
  /// Inactive (every call a no-op) unless the grid has a "pp" axis.
  explicit StageTiming(Distribution *distribution);
  bool active() const { return stages_ > 0; }

  /// After each step, on every rank: the step function's wall time.
  void add_step(double step_ms);
  /// Collective, on report steps: per stage, the mean over its ranks of
  /// the busy ms per step since the previous report; then starts a new
  /// window. Empty when inactive.
  std::vector<double> report();

private:
  Distribution *distribution_;
  int pp_axis_ = -1, stages_ = 0;
  double window_ms_ = 0, window_wait_ms_ = 0;
  int64_t window_steps_ = 0;
};

} // namespace cleave::rt

#endif // CLEAVE_RT_CORE_STAGE_TIMING_H
