//===- CommOverlap.h - how much communication a schedule hides ------------===//
//
// A step is a sequence of compute steps on one stream and collectives on
// one communication channel beside it. Each collective is posted just
// before compute step `post` begins and must be finished before compute
// step `wait` begins (`wait` = the number of steps: before the step ends,
// where the optimizer or the return needs it). The channel runs one
// collective at a time, in posting order (the runtime's requests complete
// in start order): a collective starts at the later of its posting and the
// end of the one before it. A blocking collective has post = wait.
//
// Walking the steps in order: post what is due, stall the compute until
// every collective waited for here has finished, then run the step. The
// step ends when the compute and every collective have; what it takes
// beyond its compute is the exposed communication, each stall counted
// against the collective waited for.
//
//===----------------------------------------------------------------------===//
#ifndef CLEAVE_PASSES_ANALYSIS_COST_COMMOVERLAP_H
#define CLEAVE_PASSES_ANALYSIS_COST_COMMOVERLAP_H

#include "llvm/ADT/ArrayRef.h"

#include <cstdint>
#include <vector>

namespace mlir::cleave {

struct ScheduledCollective {
  double seconds = 0;
  /// Posted before compute step `post`, waited for before step `wait`
  /// (post <= wait <= number of steps).
  int64_t post = 0;
  int64_t wait = 0;
};

struct OverlapResult {
  /// Compute plus exposed communication.
  double stepSeconds = 0;
  double computeSeconds = 0;
  double exposedSeconds = 0;
  /// Per collective, in the order given: the stall its wait caused.
  std::vector<double> exposedEach;
};

/// Runs the schedule above. Out-of-range post/wait indices are clamped to
/// [0, number of steps] and a wait before its post to the post.
OverlapResult simulateOverlap(llvm::ArrayRef<double> computeSteps,
                              llvm::ArrayRef<ScheduledCollective> collectives);

/// `commSeconds` of gradient collectives in `pieces` equal buckets, posted
/// as `computeSeconds` of backward produces them (piece i after 1/pieces of
/// it each) and waited for at its end: what stays exposed. The planner's
/// price of an overlapped dp gradient synchronisation.
double exposedBehindBackward(double commSeconds, double computeSeconds, int64_t pieces);

/// `commSeconds` of parameter gathers, one per each of `pieces` equal
/// layers of `computeSeconds`, each prefetched one layer ahead (gather i
/// posted when layer i - 1 begins): what stays exposed. ZeRO-3's.
double exposedPrefetched(double commSeconds, double computeSeconds, int64_t pieces);

} // namespace mlir::cleave

#endif // CLEAVE_PASSES_ANALYSIS_COST_COMMOVERLAP_H
