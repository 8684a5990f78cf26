// IlpProblem: the 0-1 programs the sharding search hands to CBC. Small
// programs with known optima, one for each path through solve(): an
// integral LP relaxation, branch and bound, infeasibility, and the start
// returned when nothing better is found.
#include "passes/Sharding/IlpSolver.h"

#include <catch2/catch.hpp>

using namespace mlir::cleave;

/// One of `costs` (a one-hot row), as the search states a group's choice.
static std::vector<int> chooseOne(IlpProblem &problem, const std::vector<double> &costs) {
  std::vector<int> columns;
  for (double cost : costs)
    columns.push_back(problem.addColumn(cost, true));
  problem.addRow(columns, std::vector<double>(columns.size(), 1.0), 'E', 1.0);
  return columns;
}

TEST_CASE("IlpProblem picks the cheapest of a one-hot choice", "[ilp]") {
  IlpProblem problem;
  std::vector<int> x = chooseOne(problem, {3.0, 1.0, 2.0});
  IlpProblem::Solution solution = problem.solve(10);
  REQUIRE(solution.feasible);
  CHECK(solution.optimal);
  CHECK(solution.status == "optimal");
  CHECK(solution.objective == Approx(1.0));
  CHECK(solution.values[x[1]] == 1.0);
  CHECK(solution.values[x[0]] == 0.0);
}

TEST_CASE("IlpProblem keeps a capacity row (branch and bound)", "[ilp]") {
  // Two groups, each fast-and-large or slow-and-small; only one may be
  // large. The LP relaxation splits both halfway (fractional), so CBC
  // branches: the optimum makes the group that gains more the large one.
  IlpProblem problem;
  std::vector<int> a = chooseOne(problem, {1.0, 5.0}); // gains 4 when large
  std::vector<int> b = chooseOne(problem, {1.0, 3.0}); // gains 2 when large
  problem.addRow({a[0], a[1], b[0], b[1]}, {0.6, 0.3, 0.6, 0.3}, 'L', 1.0);
  IlpProblem::Solution solution = problem.solve(10);
  REQUIRE(solution.feasible);
  CHECK(solution.optimal);
  CHECK(solution.objective == Approx(4.0));
  CHECK(solution.values[a[0]] == Approx(1.0));
  CHECK(solution.values[b[1]] == Approx(1.0));
}

TEST_CASE("IlpProblem prices a product of choices through continuous columns", "[ilp]") {
  // The search's transportation rows: y[i][j] with row sums the first
  // choice and column sums the second is their product, so y . cost
  // charges exactly the chosen pair.
  IlpProblem problem;
  std::vector<int> p = chooseOne(problem, {0.0, 1.0});
  std::vector<int> q = chooseOne(problem, {0.0, 1.5});
  double pair[2][2] = {{0.0, 10.0}, {10.0, 0.0}}; // mismatched layouts cost 10
  int y[2][2];
  for (int i = 0; i < 2; ++i)
    for (int j = 0; j < 2; ++j)
      y[i][j] = problem.addColumn(pair[i][j], false);
  for (int i = 0; i < 2; ++i)
    problem.addRow({y[i][0], y[i][1], p[i]}, {1.0, 1.0, -1.0}, 'E', 0.0);
  for (int j = 0; j < 2; ++j)
    problem.addRow({y[0][j], y[1][j], q[j]}, {1.0, 1.0, -1.0}, 'E', 0.0);
  IlpProblem::Solution solution = problem.solve(10);
  REQUIRE(solution.feasible);
  // Matching first layouts (cost 0) beats matching second ones (2.5) and
  // any mismatch (10 or more).
  CHECK(solution.objective == Approx(0.0).margin(1e-9));
  CHECK(solution.values[p[0]] == Approx(1.0));
  CHECK(solution.values[q[0]] == Approx(1.0));
}

TEST_CASE("IlpProblem reports an infeasible program", "[ilp]") {
  IlpProblem problem;
  std::vector<int> x = chooseOne(problem, {1.0, 2.0});
  problem.addRow(x, {2.0, 3.0}, 'L', 1.0); // neither fits
  IlpProblem::Solution solution = problem.solve(10);
  CHECK_FALSE(solution.feasible);
  CHECK_FALSE(solution.optimal);
}

TEST_CASE("IlpProblem takes a start and never returns worse", "[ilp]") {
  IlpProblem problem;
  std::vector<int> a = chooseOne(problem, {1.0, 5.0});
  std::vector<int> b = chooseOne(problem, {1.0, 3.0});
  problem.addRow({a[0], a[1], b[0], b[1]}, {0.6, 0.3, 0.6, 0.3}, 'L', 1.0);
  // A feasible but poor start (both small, 8): the optimum is still found.
  problem.setStart({a[1], b[1]});
  IlpProblem::Solution solution = problem.solve(10);
  REQUIRE(solution.feasible);
  CHECK(solution.objective <= 8.0);
  CHECK(solution.objective == Approx(4.0));
}
