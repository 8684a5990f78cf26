//===- SearchSequenceParallel.cpp - Megatron-SP as a constraint of the search
#include "passes/Sharding/SearchSequenceParallel.h"

#include "dialects/Cleave/IR/CleaveOps.h"

using namespace mlir;
using namespace mlir::cleave;

int mlir::cleave::findTensorParallelAxis(const GridInfo &grid) {
  for (auto [axis, name] : llvm::enumerate(grid.names))
    if (name == "tp" && grid.shape[axis] > 1)
      return static_cast<int>(axis);
  return -1;
}

bool mlir::cleave::splitsNormRows(const SearchProblem &problem, int groupClass, int c, int tpAxis) {
  if (tpAxis < 0)
    return false;
  const Group &group = problem.getGroups()[problem.getClasses()[groupClass].representative];
  if (group.ops.empty() || !isa<LayerNormOp, LayerNormGradOp>(group.ops.front()))
    return false;
  // A norm's factors other than its rows are whole, so any split is a row
  // split.
  for (const AxisList &axes : problem.candidate(groupClass, c).factorAxes.front())
    if (llvm::is_contained(axes, static_cast<int16_t>(tpAxis)))
      return true;
  return false;
}

std::function<bool(int, int)> mlir::cleave::sequenceParallelFilter(const SearchProblem &problem,
                                                                   llvm::StringRef mode) {
  int tpAxis = findTensorParallelAxis(problem.getGrid());
  if (mode == "auto" || tpAxis < 0)
    return [](int, int) { return true; };
  bool required = mode == "on";
  // Per class: whether some candidate splits a norm's rows over tp (under
  // "on", a class without one is left free: its rows do not divide).
  std::vector<bool> canSplit(problem.getClasses().size());
  for (size_t k = 0; k < canSplit.size(); ++k)
    for (int c = 0; c < problem.numCandidates(k) && !canSplit[k]; ++c)
      canSplit[k] = splitsNormRows(problem, k, c, tpAxis);
  return [&problem, tpAxis, required, canSplit](int k, int c) {
    if (!required && problem.candidate(k, c).scattersPartials)
      return false;
    if (!canSplit[k])
      return true;
    return splitsNormRows(problem, k, c, tpAxis) == required;
  };
}
