// The sharding search's problem (SearchProblem.h): which ops decide and
// which follow, which groups share a choice, what the least memory is.
#include "passes/Sharding/SearchProblem.h"
#include "passes/Sharding/SearchDriver.h"

#include "compiler/Registration.h"
#include "dialects/Cleave/IR/CleaveOps.h"

#include "mlir/IR/BuiltinOps.h"
#include "mlir/Parser/Parser.h"

#include <catch2/catch.hpp>

using namespace mlir;
using namespace mlir::cleave;

// Two layers, their backward and a plain update (the lit test
// cleave-search-sharding.mlir, with a smaller batch).
static const char *kStep = R"mlir(
func.func @train_step(%w1: tensor<256x256xf32> {cleave.param = #cleave.param<"w1", trainable>},
                      %w2: tensor<256x256xf32> {cleave.param = #cleave.param<"w2", trainable>},
                      %x: tensor<64x256xf32> {cleave.input = "x"})
    -> (tensor<256x256xf32> {cleave.updates = 0 : i64}, tensor<256x256xf32> {cleave.updates = 1 : i64}, tensor<f32> {cleave.loss}) {
  %h = cleave.matmul %x, %w1 : (tensor<64x256xf32>, tensor<256x256xf32>) -> tensor<64x256xf32>
  %a = cleave.unary relu %h : tensor<64x256xf32>
  %y = cleave.matmul %a, %w2 : (tensor<64x256xf32>, tensor<256x256xf32>) -> tensor<64x256xf32>
  %l = cleave.reduce mean %y {axes = array<i64: 0, 1>} : tensor<64x256xf32> -> tensor<f32>
  %g2 = cleave.matmul %a, %y {transpose_a} : (tensor<64x256xf32>, tensor<64x256xf32>) -> tensor<256x256xf32>
  %g1 = cleave.matmul %x, %a {transpose_a} : (tensor<64x256xf32>, tensor<64x256xf32>) -> tensor<256x256xf32>
  %u1 = cleave.binary sub %w1, %g1 : (tensor<256x256xf32>, tensor<256x256xf32>) -> tensor<256x256xf32>
  %u2 = cleave.binary sub %w2, %g2 : (tensor<256x256xf32>, tensor<256x256xf32>) -> tensor<256x256xf32>
  return %u1, %u2, %l : tensor<256x256xf32>, tensor<256x256xf32>, tensor<f32>
}
)mlir";

static GridInfo oneAxis(int64_t size) {
  GridInfo grid;
  grid.shape.push_back(size);
  grid.names.push_back("dp");
  return grid;
}

static Cluster h100(int64_t devices) {
  llvm::Expected<Cluster> cluster = loadCluster("h100-sxm-8x1", devices);
  if (!cluster)
    FAIL(llvm::toString(cluster.takeError()));
  return *cluster;
}

TEST_CASE("heavy ops are marked by the HeavyOp trait", "[sharding][search]") {
  MLIRContext context;
  loadAllDialects(context);
  OwningOpRef<ModuleOp> module = parseSourceString<ModuleOp>(kStep, &context);
  REQUIRE(module);
  module->walk([&](Operation *op) {
    bool heavy = op->hasTrait<OpTrait::cleave::HeavyOp>();
    INFO(op->getName().getStringRef().str());
    CHECK(heavy == isa<MatmulOp, ReduceOp>(op));
  });
}

TEST_CASE("the search problem: heavy ops lead, cheap ops follow", "[sharding][search]") {
  MLIRContext context;
  loadAllDialects(context);
  OwningOpRef<ModuleOp> module = parseSourceString<ModuleOp>(kStep, &context);
  REQUIRE(module);
  auto func = module->lookupSymbol<func::FuncOp>("train_step");
  Cluster cluster = h100(4);
  SearchProblem problem(func, oneAxis(4), cluster);
  REQUIRE(succeeded(problem.build(2500)));

  // Three argument groups (w1, w2, x) and five op groups: each matmul and
  // the reduce lead; the relu follows its matmul, each update its gradient.
  const std::vector<Group> &groups = problem.getGroups();
  int argumentGroups = 0;
  SmallVector<size_t> opGroupSizes;
  for (const Group &group : groups) {
    if (!group.arguments.empty()) {
      ++argumentGroups;
      CHECK(group.ops.empty());
      continue;
    }
    CHECK(group.ops.front()->hasTrait<OpTrait::cleave::HeavyOp>());
    for (Operation *follower : llvm::drop_begin(group.ops))
      CHECK_FALSE(follower->hasTrait<OpTrait::cleave::HeavyOp>());
    opGroupSizes.push_back(group.ops.size());
  }
  CHECK(argumentGroups == 3);
  CHECK(opGroupSizes == SmallVector<size_t>{2, 1, 1, 2, 2});

  // Every group is in one class; the classes' counts add up to the groups.
  int counted = 0;
  for (const GroupClass &groupClass : problem.getClasses())
    counted += groupClass.count;
  CHECK(counted == static_cast<int>(groups.size()));
  CHECK(problem.getDistinctOps() == 8);

  // Whole first: candidate 0 of every class splits nothing, so the plan
  // that takes it writes no axes anywhere.
  std::vector<int> whole(problem.getClasses().size(), 0);
  SearchPlan plan = problem.planOf(whole);
  CHECK(plan.grid.sizes == SmallVector<int64_t>{4});
  CHECK(plan.arguments.size() == 3);
  for (const auto &[index, dims] : plan.arguments)
    CHECK(llvm::all_of(dims, [](const AxisList &axes) { return axes.empty(); }));
  CHECK(plan.ops.size() == 8);
  CHECK(plan.seconds == problem.evaluate(whole));
  CHECK(plan.seconds > 0);
  CHECK_FALSE(problem.getEdges().empty());

  // The least memory splits every parameter four ways.
  const std::vector<int> &least = problem.getLeastMemoryPlan();
  double wholeBytes = 0, leastBytes = 0;
  for (size_t k = 0; k < least.size(); ++k) {
    wholeBytes += problem.candidateBytes(k, 0);
    leastBytes += problem.candidateBytes(k, least[k]);
  }
  CHECK(leastBytes == Approx(problem.getLeastMemoryBytes()));
  CHECK(leastBytes < wholeBytes / 2);
  CHECK(problem.leastMemoryFits());
}

TEST_CASE("the search problem refuses past its distinct-op limit", "[sharding][search]") {
  MLIRContext context;
  loadAllDialects(context);
  OwningOpRef<ModuleOp> module = parseSourceString<ModuleOp>(kStep, &context);
  REQUIRE(module);
  std::string diagnostics;
  ScopedDiagnosticHandler handler(&context, [&](Diagnostic &diagnostic) {
    diagnostics += diagnostic.str();
    return success();
  });
  Cluster cluster = h100(4);
  SearchProblem problem(module->lookupSymbol<func::FuncOp>("train_step"), oneAxis(4), cluster);
  CHECK(failed(problem.build(3)));
  CHECK(problem.getDistinctOps() == 8);
  CHECK(diagnostics.find("8 distinct ops") != std::string::npos);
  CHECK(diagnostics.find("limit of 3") != std::string::npos);
}

TEST_CASE("the search tries one axis, then two inside a node", "[sharding][search]") {
  Cluster cluster = h100(4);
  SmallVector<ParsedGrid> grids = candidateGrids(4, cluster);
  REQUIRE(grids.size() == 2);
  CHECK(grids[0].sizes == SmallVector<int64_t>{4});
  CHECK(grids[1].sizes == SmallVector<int64_t>{2, 2});
  CHECK(grids[1].names == SmallVector<std::string>{"dp", "tp"});
}

TEST_CASE("one grid: the search splits a large batch", "[sharding][search]") {
  MLIRContext context;
  loadAllDialects(context);
  // 262144 rows instead of 64: all-reducing the weight gradients is then
  // far cheaper than moving activations (cleave-search-sharding.mlir).
  std::string step = kStep;
  for (size_t at = step.find("64x256"); at != std::string::npos; at = step.find("64x256", at + 10))
    step.replace(at, 6, "262144x256");
  OwningOpRef<ModuleOp> module = parseSourceString<ModuleOp>(step, &context);
  REQUIRE(module);
  auto func = module->lookupSymbol<func::FuncOp>("train_step");
  Cluster cluster = h100(4);
  ParsedGrid grid;
  grid.names = {"dp"};
  grid.sizes = {4};
  GridSearchResult result = searchGrid(func, grid, cluster, GridSearchOptions());
  REQUIRE(succeeded(result.plan));
  CHECK_FALSE(result.tooLarge);
  REQUIRE(result.oneAxisPlan);
  // x (argument 2) split by rows.
  bool inputSplit = false;
  for (const auto &[index, dims] : result.plan->arguments)
    if (index == 2)
      inputSplit = dims.size() == 2 && dims[0] == AxisList{0} && dims[1].empty();
  CHECK(inputSplit);
  // Planning wrote nothing: the pass does.
  func.walk([&](Operation *op) { CHECK_FALSE(op->hasAttr("cleave.factor_axes")); });
}
