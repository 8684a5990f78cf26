//===- SearchDescent.cpp - plan one grid: exact on one axis, else descent -===//
//
// On one axis the 0-1 program (SearchIlp.h) is solved exactly. On several,
// the joint program grows with the product of the axes' choices, past what
// CBC solves in seconds: start from the best plan that treats the grid as
// one axis (every axis splits the same factor), then improve one axis at a
// time with the others held. Each step is exact over its axis and starts
// from the plan it must beat, so the predicted time never rises (block
// coordinate descent).
//
//===----------------------------------------------------------------------===//
#include "passes/Sharding/SearchDriver.h"
#include "passes/Sharding/SearchIlp.h"
#include "passes/Sharding/SearchSequenceParallel.h"

#include "llvm/Support/DebugLog.h"

#define DEBUG_TYPE "cleave-search-sharding"

using namespace mlir;
using namespace mlir::cleave;

/// Rounds of the descent over all axes, at most.
static constexpr int kMaxDescentRounds = 4;

/// The one-axis plan on `problem`'s grid: every axis where that plan's one
/// axis was, the same split over the same devices; empty where a class has
/// no such candidate.
static std::vector<int> fromOneAxisPlan(const SearchProblem &problem,
                                        ArrayRef<int8_t> oneAxisPlan) {
  size_t classCount = problem.getClasses().size();
  if (oneAxisPlan.size() != classCount)
    return {};
  std::vector<int> chosen(classCount, -1);
  for (size_t k = 0; k < classCount; ++k) {
    int8_t target = oneAxisPlan[k];
    int candidates = problem.numCandidates(k);
    if (candidates == 1)
      chosen[k] = 0;
    for (int c = 0; c < candidates && chosen[k] < 0; ++c)
      if (llvm::all_of(problem.axisTargets(k, c), [&](int8_t t) { return t == target; }))
        chosen[k] = c;
  }
  if (llvm::is_contained(chosen, -1))
    return {};
  return chosen;
}

/// Improves `chosen` one axis at a time; returns its predicted seconds.
static FailureOr<double> descend(const SearchProblem &problem, std::vector<int> &chosen,
                                 FailureOr<double> objective, double timeLimit, bool &tooLarge,
                                 const std::function<bool(int, int)> &admitted) {
  // Each improving step leaves the plan optimal along its axis; once every
  // other axis has been tried without gain, it is optimal along all.
  int axisCount = problem.getGrid().shape.size();
  int stale = 0;
  bool improvedOnce = false;
  for (int step = 0; succeeded(objective) && step < kMaxDescentRounds * axisCount; ++step) {
    int free = axisCount - 1 - step % axisCount;
    std::vector<int> current = chosen;
    IlpSearchResult next = solveSearchIlp(
        problem,
        [&](int groupClass, int c) {
          if (!admitted(groupClass, c))
            return false;
          const SmallVector<int8_t> &targets = problem.axisTargets(groupClass, c);
          const SmallVector<int8_t> &held = problem.axisTargets(groupClass, current[groupClass]);
          for (int axis = 0; axis < axisCount; ++axis)
            if (axis != free && targets[axis] != held[axis])
              return false;
          return true;
        },
        current, timeLimit);
    tooLarge |= next.tooLarge;
    LDBG() << "descent step " << step << ", axis " << free
           << " free: " << (succeeded(next.seconds) ? *next.seconds : -1.0)
           << " s (-1: no plan) against " << *objective << " s";
    if (succeeded(next.seconds) && *next.seconds < *objective * (1 - kMinSearchGain)) {
      objective = next.seconds;
      chosen = std::move(next.chosen);
      improvedOnce = true;
      stale = 0;
    } else if (++stale >= (improvedOnce ? axisCount - 1 : axisCount)) {
      break;
    }
  }
  return objective;
}

GridSearchResult mlir::cleave::searchGrid(func::FuncOp func, const ParsedGrid &shape,
                                          const Cluster &cluster,
                                          const GridSearchOptions &options) {
  GridSearchResult result;
  GridInfo grid;
  grid.shape.assign(shape.sizes.begin(), shape.sizes.end());
  grid.names.assign(shape.names.begin(), shape.names.end());
  SearchProblem problem(func, grid, cluster, options.pinned);
  // runShardingSearch checked the name.
  problem.setPrecision(parsePrecision(options.precision).value_or(Precision::fp32));
  LogicalResult built = problem.build(options.maxDistinctOps);
  result.distinctOps = problem.getDistinctOps();
  if (failed(built)) {
    result.tooLarge = true;
    return result;
  }
  auto noteTooLarge = [&](const IlpSearchResult &solved) { result.tooLarge |= solved.tooLarge; };
  std::function<bool(int, int)> admitted =
      sequenceParallelFilter(problem, options.sequenceParallel);

  std::vector<int> chosen;
  FailureOr<double> objective = failure();
  if (options.leastMemory) {
    chosen = problem.getLeastMemoryPlan();
    objective = problem.evaluate(chosen);
  } else if (grid.shape.size() == 1) {
    IlpSearchResult solved = solveSearchIlp(problem, admitted, {}, options.timeLimit);
    noteTooLarge(solved);
    objective = solved.seconds;
    chosen = std::move(solved.chosen);
    if (succeeded(objective)) {
      result.oneAxisPlan.emplace();
      for (size_t k = 0; k < problem.getClasses().size(); ++k)
        result.oneAxisPlan->push_back(problem.axisTargets(k, chosen[k]).front());
    }
  } else {
    if (options.oneAxisPlan)
      chosen = fromOneAxisPlan(problem, *options.oneAxisPlan);
    for (size_t k = 0; k < chosen.size(); ++k)
      if (!admitted(k, chosen[k])) {
        chosen.clear(); // sequence-parallel=on|off rules that start out
        break;
      }
    if (!chosen.empty()) {
      objective = problem.evaluate(chosen);
      LDBG() << "descent starts from the one-axis plan: " << *objective << " s";
    } else {
      IlpSearchResult solved = solveSearchIlp(
          problem,
          [&](int groupClass, int c) {
            return admitted(groupClass, c) && llvm::all_equal(problem.axisTargets(groupClass, c));
          },
          {}, options.timeLimit);
      noteTooLarge(solved);
      objective = solved.seconds;
      chosen = std::move(solved.chosen);
    }
    objective = descend(problem, chosen, objective, options.timeLimit, result.tooLarge, admitted);
  }
  if (failed(objective))
    return result;
  LLVM_DEBUG(problem.traceChoice(chosen));
  SearchPlan plan = problem.planOf(chosen);
  plan.seconds = *objective;
  if (options.leastMemory)
    plan.bytes = problem.getLeastMemoryBytes();
  result.plan = std::move(plan);
  return result;
}
