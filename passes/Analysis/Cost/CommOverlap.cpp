//===- CommOverlap.cpp - how much communication a schedule hides ----------===//
#include "passes/Analysis/Cost/CommOverlap.h"

#include <algorithm>
#include <numeric>

using namespace mlir;
using namespace mlir::cleave;

OverlapResult cleave::simulateOverlap(llvm::ArrayRef<double> computeSteps,
                                      llvm::ArrayRef<ScheduledCollective> collectives) {
  const int64_t steps = static_cast<int64_t>(computeSteps.size());
  struct Entry {
    int64_t post, wait;
    size_t index;
  };
  std::vector<Entry> entries;
  for (auto [index, collective] : llvm::enumerate(collectives)) {
    int64_t post = std::clamp<int64_t>(collective.post, 0, steps);
    int64_t wait = std::clamp<int64_t>(collective.wait, post, steps);
    entries.push_back({post, wait, index});
  }
  // Posting order: by step, then as given (program order).
  std::vector<Entry> byPost = entries;
  std::stable_sort(byPost.begin(), byPost.end(),
                   [](const Entry &a, const Entry &b) { return a.post < b.post; });
  std::vector<Entry> byWait = entries;
  std::stable_sort(byWait.begin(), byWait.end(),
                   [](const Entry &a, const Entry &b) { return a.wait < b.wait; });

  OverlapResult result;
  result.exposedEach.assign(collectives.size(), 0.0);
  std::vector<double> finish(collectives.size(), 0.0);
  double clock = 0, channel = 0;
  size_t nextPost = 0, nextWait = 0;
  for (int64_t step = 0; step <= steps; ++step) {
    for (; nextPost < byPost.size() && byPost[nextPost].post == step; ++nextPost) {
      const Entry &entry = byPost[nextPost];
      channel = std::max(channel, clock) + collectives[entry.index].seconds;
      finish[entry.index] = channel;
    }
    for (; nextWait < byWait.size() && byWait[nextWait].wait == step; ++nextWait) {
      const Entry &entry = byWait[nextWait];
      if (finish[entry.index] > clock) {
        result.exposedEach[entry.index] = finish[entry.index] - clock;
        clock = finish[entry.index];
      }
    }
    if (step < steps)
      clock += computeSteps[step];
  }
  result.computeSeconds = std::accumulate(computeSteps.begin(), computeSteps.end(), 0.0);
  result.stepSeconds = clock;
  result.exposedSeconds = std::max(0.0, clock - result.computeSeconds);
  return result;
}

double cleave::exposedBehindBackward(double commSeconds, double computeSeconds, int64_t pieces) {
  if (commSeconds <= 0)
    return 0;
  pieces = std::max<int64_t>(1, pieces);
  std::vector<double> steps(pieces, computeSeconds / static_cast<double>(pieces));
  std::vector<ScheduledCollective> collectives;
  for (int64_t i = 0; i < pieces; ++i)
    collectives.push_back({commSeconds / static_cast<double>(pieces), i + 1, pieces});
  return simulateOverlap(steps, collectives).exposedSeconds;
}

double cleave::exposedPrefetched(double commSeconds, double computeSeconds, int64_t pieces) {
  if (commSeconds <= 0)
    return 0;
  pieces = std::max<int64_t>(1, pieces);
  std::vector<double> steps(pieces, computeSeconds / static_cast<double>(pieces));
  std::vector<ScheduledCollective> collectives;
  for (int64_t i = 0; i < pieces; ++i)
    collectives.push_back(
        {commSeconds / static_cast<double>(pieces), std::max<int64_t>(0, i - 1), i});
  return simulateOverlap(steps, collectives).exposedSeconds;
}
