//===- SearchIlp.cpp - the search's choice as a 0-1 program ---------------===//
#include "passes/Sharding/SearchIlp.h"
#include "passes/Sharding/IlpSolver.h"

#include "llvm/Support/DebugLog.h"

#include <limits>

#define DEBUG_TYPE "cleave-search-sharding"

using namespace mlir;
using namespace mlir::cleave;

/// Programs larger than this are not solved (the search falls back).
static constexpr int kMaxColumns = 400000;
/// What all activation bytes together weigh in the objective, relative to
/// the least compute time: a tie-break only.
static constexpr double kActivationTieBreak = 1e-5;

IlpSearchResult mlir::cleave::solveSearchIlp(const SearchProblem &problem,
                                             llvm::function_ref<bool(int, int)> allowed,
                                             ArrayRef<int> start, double timeLimit) {
  IlpSearchResult result;
  std::vector<int> &chosen = result.chosen;
  size_t classCount = problem.getClasses().size();
  func::FuncOp func = problem.getFunction();
  int64_t memoryCapacity = problem.getCluster().memoryCapacity;
  double usableBytes = problem.usableBytes();
  // Columns only for the allowed candidates of each class.
  std::vector<SmallVector<int>> allowedOf(classCount);
  for (size_t k = 0; k < classCount; ++k)
    for (size_t c = 0; c < static_cast<size_t>(problem.numCandidates(k)); ++c)
      if (problem.numCandidates(k) == 1 || allowed(k, c)) // a pin is always allowed
        allowedOf[k].push_back(c);
  // Among plans of equal time, the one that keeps fewer activation bytes
  // for the backward (a norm on 1/tp of the rows under sequence
  // parallelism, say): each byte costs a time so small that all of them
  // together weigh 1e-5 of the least compute time, below any gain the
  // search acts on (kMinSearchGain).
  double leastSeconds = 0, mostActivationBytes = 0;
  for (size_t k = 0; k < classCount; ++k) {
    double seconds = std::numeric_limits<double>::infinity(), bytes = 0;
    for (int c : allowedOf[k]) {
      seconds = std::min(seconds, problem.baseCost(k, c));
      bytes = std::max(bytes, problem.activationBytes(k, c));
    }
    leastSeconds += allowedOf[k].empty() ? 0 : seconds;
    mostActivationBytes += bytes;
  }
  double secondsPerByte =
      mostActivationBytes > 0 ? kActivationTieBreak * leastSeconds / mostActivationBytes : 0;
  std::vector<std::vector<double>> costs(classCount);
  for (size_t k = 0; k < classCount; ++k)
    for (int c : allowedOf[k])
      costs[k].push_back(problem.baseCost(k, c) + secondsPerByte * problem.activationBytes(k, c));

  // Edges whose cost depends on one choice only (one side fixed, or one
  // allowed layout, or two groups of one class, which choose alike) go
  // into the objective; the rest are linearised below.
  struct Transport {
    const Edge *edge;
    SmallVector<int> fromLayouts, toLayouts; // distinct allowed layouts
  };
  std::vector<Transport> transports;
  for (const Edge &edge : problem.getEdges()) {
    if (!edge.anyCost)
      continue;
    int p = edge.producerClass, q = edge.consumerClass;
    if (p >= 0 && p == q) {
      for (auto [column, c] : llvm::enumerate(allowedOf[p]))
        costs[p][column] += edge.count * edge.cost[edge.fromOf[c]][edge.toOf[c]];
      continue;
    }
    SmallVector<int> fromLayouts, toLayouts;
    if (p >= 0)
      for (int c : allowedOf[p])
        if (!llvm::is_contained(fromLayouts, edge.fromOf[c]))
          fromLayouts.push_back(edge.fromOf[c]);
    if (q >= 0)
      for (int c : allowedOf[q])
        if (!llvm::is_contained(toLayouts, edge.toOf[c]))
          toLayouts.push_back(edge.toOf[c]);
    if (p < 0 || fromLayouts.size() == 1) {
      int from = p < 0 ? 0 : fromLayouts.front();
      if (q >= 0)
        for (auto [column, c] : llvm::enumerate(allowedOf[q]))
          costs[q][column] += edge.count * edge.cost[from][edge.toOf[c]];
      continue;
    }
    if (q < 0 || toLayouts.size() == 1) {
      int to = q < 0 ? 0 : toLayouts.front();
      for (auto [column, c] : llvm::enumerate(allowedOf[p]))
        costs[p][column] += edge.count * edge.cost[edge.fromOf[c]][to];
      continue;
    }
    transports.push_back({&edge, fromLayouts, toLayouts});
  }

  IlpProblem program;
  std::vector<int> firstColumn(classCount);
  std::vector<int> startColumns;
  for (size_t k = 0; k < classCount; ++k) {
    firstColumn[k] = program.numColumns();
    std::vector<int> columns;
    for (double seconds : costs[k])
      columns.push_back(program.addColumn(seconds, true));
    if (columns.empty()) {
      func.emitOpError("the sharding search has no allowed strategy for a group");
      return result;
    }
    program.addRow(columns, std::vector<double>(columns.size(), 1.0), 'E', 1.0);
    // The plan to beat, or the first allowed candidate (least split).
    int startCandidate = start.empty() || !llvm::is_contained(allowedOf[k], start[k])
                             ? allowedOf[k].front()
                             : start[k];
    startColumns.push_back(
        firstColumn[k] +
        static_cast<int>(llvm::find(allowedOf[k], startCandidate) - allowedOf[k].begin()));
  }
  for (const Transport &transport : transports) {
    // y[i][j] >= 0 with row sums = the producer's layout choice and column
    // sums = the consumer's requirement choice; with one-hot marginals y is
    // their product, so y . cost is exact.
    const Edge &edge = *transport.edge;
    int p = edge.producerClass, q = edge.consumerClass;
    SmallVector<SmallVector<int>> y(transport.fromLayouts.size());
    for (auto [i, from] : llvm::enumerate(transport.fromLayouts))
      for (int to : transport.toLayouts)
        y[i].push_back(program.addColumn(edge.count * edge.cost[from][to], false));
    for (auto [i, from] : llvm::enumerate(transport.fromLayouts)) {
      std::vector<int> columns(y[i].begin(), y[i].end());
      std::vector<double> coefficients(columns.size(), 1.0);
      for (auto [column, c] : llvm::enumerate(allowedOf[p]))
        if (edge.fromOf[c] == from) {
          columns.push_back(firstColumn[p] + column);
          coefficients.push_back(-1.0);
        }
      program.addRow(columns, coefficients, 'E', 0.0);
    }
    for (auto [j, to] : llvm::enumerate(transport.toLayouts)) {
      std::vector<int> columns;
      std::vector<double> coefficients;
      for (size_t i = 0; i < transport.fromLayouts.size(); ++i) {
        columns.push_back(y[i][j]);
        coefficients.push_back(1.0);
      }
      for (auto [column, c] : llvm::enumerate(allowedOf[q]))
        if (edge.toOf[c] == to) {
          columns.push_back(firstColumn[q] + column);
          coefficients.push_back(-1.0);
        }
      program.addRow(columns, coefficients, 'E', 0.0);
    }
  }

  // Memory: parameters, gradients, optimizer state and the activations kept
  // for the backward, per device, within the capacity.

  if (memoryCapacity > 0) {
    std::vector<int> columns;
    std::vector<double> coefficients;
    for (size_t k = 0; k < classCount; ++k)
      for (auto [column, c] : llvm::enumerate(allowedOf[k]))
        if (double bytes = problem.candidateBytes(k, c); bytes > 0) {
          columns.push_back(firstColumn[k] + column);
          coefficients.push_back(bytes / 1e9); // GB keeps CBC well scaled
        }
    program.addRow(columns, coefficients, 'L', usableBytes / 1e9);
  }

  if (program.numColumns() > kMaxColumns) {
    result.tooLarge = true;
    func.emitOpError() << "the sharding search's program has " << program.numColumns()
                       << " columns, more than its limit of " << kMaxColumns;
    return result;
  }
  program.setStart(startColumns);
  IlpProblem::Solution solution = program.solve(timeLimit, kMinSearchGain / 2);
  if (!solution.feasible || solution.values.empty()) {
    func.emitOpError() << "the sharding search found no plan (" << solution.status
                       << "): parameters, gradients, optimizer state and activations do "
                          "not fit the devices' memory under any layout; use more devices";
    return result;
  }
  chosen.assign(classCount, 0);
  for (size_t k = 0; k < classCount; ++k)
    for (auto [column, c] : llvm::enumerate(allowedOf[k]))
      if (solution.values[firstColumn[k] + column] > 0.5)
        chosen[k] = c;
  if (solution.status != "optimal" && solution.status != "time limit" && memoryCapacity > 0) {
    // CBC found nothing in time and handed back the start: a plan only if
    // it fits.
    double bytes = 0;
    for (size_t k = 0; k < classCount; ++k)
      bytes += problem.candidateBytes(k, chosen[k]);
    // Once more from the least-memory plan, when it fits and is allowed:
    // CBC then has a feasible plan to improve from the first node.
    const std::vector<int> &leastMemoryPlan = problem.getLeastMemoryPlan();
    bool leastAllowed = start.empty() && problem.leastMemoryFits() && !leastMemoryPlan.empty();
    for (size_t k = 0; k < classCount && leastAllowed; ++k)
      leastAllowed = llvm::is_contained(allowedOf[k], leastMemoryPlan[k]);
    if (bytes > usableBytes && leastAllowed)
      return solveSearchIlp(problem, allowed, leastMemoryPlan, timeLimit);
    if (bytes > usableBytes) {
      func.emitOpError("the sharding search found no plan within its time limit");
      return result;
    }
  }
  result.seconds = problem.evaluate(chosen);
  LDBG() << "ILP: " << program.numColumns() << " columns, " << solution.status << ", "
         << *result.seconds << " s";
  return result;
}
