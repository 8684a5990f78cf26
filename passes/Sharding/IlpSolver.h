//===- IlpSolver.h - a small 0-1 program, solved exactly by CBC ------------===//
//
// The sharding search states its choice as an integer linear program and
// hands it to COIN-OR CBC (Debian's coinor-libcbc-dev). This wrapper keeps
// CBC's C interface in one file.
//
//===----------------------------------------------------------------------===//
#ifndef CLEAVE_PASSES_SHARDING_ILPSOLVER_H
#define CLEAVE_PASSES_SHARDING_ILPSOLVER_H

#include <string>
#include <vector>

namespace mlir::cleave {

class IlpProblem {
public:
  /// A column with objective coefficient `cost`; binary or continuous in [0, 1].
  int addColumn(double cost, bool binary);
  /// sum(coefficients[i] * x[columns[i]]) (sense: 'E' ==, 'L' <=, 'G' >=) rhs.
  void addRow(const std::vector<int> &columns, const std::vector<double> &coefficients, char sense,
              double rhs);
  int numColumns() const { return static_cast<int>(costs.size()); }
  /// A feasible assignment of the binary columns (those listed are 1):
  /// CBC's first incumbent, and what solve() returns when CBC finds nothing
  /// within its time limit. (Its objective then counts only those columns'
  /// costs.)
  void setStart(std::vector<int> columns) { start = std::move(columns); }

  struct Solution {
    bool feasible = false;
    bool optimal = false;
    double objective = 0;
    std::vector<double> values;
    std::string status;
  };
  /// Minimises the objective; `seconds` bounds CBC's time (the best
  /// solution found so far is returned, with optimal == false). CBC stops
  /// once its solution is provably within `relativeGap` of the optimum
  /// (and calls it optimal).
  Solution solve(double seconds, double relativeGap = 0) const;

private:
  std::vector<double> costs;
  std::vector<char> binary;
  struct Row {
    std::vector<int> columns;
    std::vector<double> coefficients;
    char sense;
    double rhs;
  };
  std::vector<Row> rows;
  std::vector<int> start;
};

} // namespace mlir::cleave

#endif // CLEAVE_PASSES_SHARDING_ILPSOLVER_H
