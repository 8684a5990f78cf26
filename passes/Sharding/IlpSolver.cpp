//===- IlpSolver.cpp - CBC behind IlpProblem ------------------------------===//
#include "passes/Sharding/IlpSolver.h"

#include <coin/Cbc_C_Interface.h>
#include <coin/Clp_C_Interface.h>

#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/Twine.h"
#include "llvm/Support/ErrorHandling.h"

#include <cmath>
#include <memory>
#include <mutex>
#include <string>

using namespace mlir::cleave;

// Branch-and-bound nodes per solve. The sharding programs' relaxations are
// tight (most solve at the root); the budget makes the result independent
// of the machine's speed wherever it binds before the time limit.
static constexpr int kMaxNodes = 200;

// CBC is not reentrant: two solves on the search's grid threads at once
// crash inside CglPreProcess (seen planning GPT-3 1.3B on 8 devices), so
// branch-and-bound runs one at a time. The LP relaxations (CLP) still run
// in parallel, and most programs stop there.
static std::mutex cbcMutex;

int IlpProblem::addColumn(double cost, bool isBinary) {
  costs.push_back(cost);
  binary.push_back(isBinary ? 1 : 0);
  return static_cast<int>(costs.size()) - 1;
}

void IlpProblem::addRow(const std::vector<int> &columns, const std::vector<double> &coefficients,
                        char sense, double rhs) {
  for (int column : columns)
    if (column < 0 || column >= static_cast<int>(costs.size()))
      llvm::report_fatal_error("IlpProblem: row names column " + llvm::Twine(column) + " of " +
                               llvm::Twine(costs.size()));
  rows.push_back({columns, coefficients, sense, rhs});
}

IlpProblem::Solution IlpProblem::solve(double seconds, double relativeGap) const {
  Solution solution;
  std::unique_ptr<Cbc_Model, void (*)(Cbc_Model *)> model(Cbc_newModel(), Cbc_deleteModel);
  Cbc_Model *m = model.get();
  Cbc_setLogLevel(m, 0);
  // Columns in CSC form, built from the rows.
  int n = static_cast<int>(costs.size());
  std::vector<std::vector<std::pair<int, double>>> byColumn(static_cast<size_t>(n));
  for (size_t r = 0; r < rows.size(); ++r)
    for (size_t i = 0; i < rows[r].columns.size(); ++i)
      byColumn[static_cast<size_t>(rows[r].columns[i])].push_back(
          {static_cast<int>(r), rows[r].coefficients[i]});
  std::vector<CoinBigIndex> columnStart{0};
  std::vector<int> index;
  std::vector<double> value, lower(static_cast<size_t>(n), 0.0), upper(static_cast<size_t>(n), 1.0);
  for (const auto &column : byColumn) {
    for (auto [row, coefficient] : column) {
      index.push_back(row);
      value.push_back(coefficient);
    }
    columnStart.push_back(static_cast<CoinBigIndex>(index.size()));
  }
  std::vector<double> rowLower, rowUpper;
  const double infinity = 1e30;
  for (const Row &row : rows) {
    rowLower.push_back(row.sense == 'L' ? -infinity : row.rhs);
    rowUpper.push_back(row.sense == 'G' ? infinity : row.rhs);
  }
  {
    // The sharding programs' LP relaxation is often integral already
    // (about half the solves on the GPT programs; the memory row is what
    // most often makes it fractional): then it is the optimum, and CBC's
    // heuristics and preprocessing, which cost several times the LP, are
    // skipped.
    std::unique_ptr<Clp_Simplex, void (*)(Clp_Simplex *)> relaxation(Clp_newModel(),
                                                                     Clp_deleteModel);
    Clp_Simplex *lp = relaxation.get();
    Clp_setLogLevel(lp, 0);
    Clp_setMaximumSeconds(lp, seconds);
    Clp_loadProblem(lp, n, static_cast<int>(rows.size()), columnStart.data(), index.data(),
                    value.data(), lower.data(), upper.data(), costs.data(), rowLower.data(),
                    rowUpper.data());
    Clp_dual(lp, 0);
    if (Clp_isProvenOptimal(lp)) {
      const double *x = Clp_getColSolution(lp);
      bool integral = true;
      for (int c = 0; c < n && integral; ++c)
        integral = !binary[static_cast<size_t>(c)] || std::abs(x[c] - std::round(x[c])) < 1e-9;
      if (integral) {
        solution.values.assign(x, x + n);
        for (int c = 0; c < n; ++c)
          if (binary[static_cast<size_t>(c)])
            solution.values[static_cast<size_t>(c)] = std::round(x[c]);
        solution.objective = Clp_objectiveValue(lp);
        solution.feasible = solution.optimal = true;
        solution.status = "optimal";
        return solution;
      }
    }
  }
  std::lock_guard<std::mutex> cbcLock(cbcMutex);
  Cbc_loadProblem(m, n, static_cast<int>(rows.size()), columnStart.data(), index.data(),
                  value.data(), lower.data(), upper.data(), costs.data(), rowLower.data(),
                  rowUpper.data());
  for (int c = 0; c < n; ++c)
    if (binary[static_cast<size_t>(c)])
      Cbc_setInteger(m, c);
  Cbc_setObjSense(m, 1);
  // Wall time: CBC's default, process CPU time, runs faster when grids are
  // searched on several threads.
  Cbc_setParameter(m, "timeMode", "elapsed");
  Cbc_setMaximumSeconds(m, seconds);
  // A node budget as well: where it binds before the clock, the result
  // does not depend on how fast (or how loaded) the machine is.
  Cbc_setMaximumNodes(m, kMaxNodes);
  if (relativeGap > 0)
    Cbc_setAllowableFractionGap(m, relativeGap);
  if (!start.empty()) {
    // The start as CBC's first incumbent: it prunes from the first node on
    // (CBC solves for the continuous columns with these fixed).
    std::vector<int> columns;
    std::vector<double> values;
    for (int c = 0; c < n; ++c)
      if (binary[static_cast<size_t>(c)]) {
        columns.push_back(c);
        values.push_back(0.0);
      }
    for (int column : start)
      values[static_cast<size_t>(llvm::lower_bound(columns, column) - columns.begin())] = 1.0;
    Cbc_setMIPStartI(m, static_cast<int>(columns.size()), columns.data(), values.data());
  }
  Cbc_solve(m);
  solution.optimal = Cbc_isProvenOptimal(m);
  solution.feasible = !Cbc_isProvenInfeasible(m) && Cbc_getColSolution(m) != nullptr &&
                      Cbc_numberSavedSolutions(m) + (solution.optimal ? 1 : 0) > 0;
  if (const double *x = Cbc_getColSolution(m))
    solution.values.assign(x, x + n);
  solution.objective = Cbc_getObjValue(m);
  solution.status = solution.optimal            ? "optimal"
                    : Cbc_isProvenInfeasible(m) ? "infeasible"
                                                : "time limit";
  // No solution within the time limit: the start, when one was given (CBC's
  // own MIP-start interface needs column names we do not keep).
  if ((!solution.feasible || solution.values.empty()) && !start.empty() &&
      !Cbc_isProvenInfeasible(m)) {
    solution.values.assign(static_cast<size_t>(n), 0.0);
    solution.objective = 0;
    for (int column : start) {
      solution.values[static_cast<size_t>(column)] = 1.0;
      solution.objective += costs[static_cast<size_t>(column)];
    }
    solution.feasible = true;
    solution.status = "time limit, unsplit start";
  }
  return solution;
}
