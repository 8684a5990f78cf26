// The analysis layer's one mapping from a plan's collectives to the
// alpha-beta model (ReshardCost.h), checked against the model's own times:
// the search (reshardSeconds) and the plan report (getShardCollective) must
// price a collective with the same kind and the same S.
#include "passes/Analysis/Cost/ReshardCost.h"
#include "passes/Analysis/Sharding/GridSpec.h"

#include "compiler/Registration.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/Parser/Parser.h"

#include <catch2/catch.hpp>

using namespace mlir;
using namespace mlir::cleave;

namespace {
/// Four devices on one node, links of 1 GB/s and 1 us.
Cluster fourDevices() {
  Cluster cluster;
  cluster.nodes = 1;
  cluster.devicesPerNode = 4;
  cluster.intraNode = {1e9, 1e-6};
  cluster.interNode = cluster.intraNode;
  return cluster;
}

GridInfo grid2x2() {
  GridInfo grid;
  grid.shape = {2, 2};
  grid.names = {"dp", "tp"};
  return grid;
}

TensorSharding layout(std::initializer_list<AxisList> dims, const AxisList &partial = {}) {
  TensorSharding sharding;
  sharding.dims.assign(dims.begin(), dims.end());
  sharding.partial = partial;
  return sharding;
}
} // namespace

TEST_CASE("the model's S: gathered bytes for an all-gather, bytes before otherwise",
          "[cost][reshard]") {
  CHECK(getModelBytes(CollectiveKind::allGather, 100, 400) == 400);
  CHECK(getModelBytes(CollectiveKind::allReduce, 100, 100) == 100);
  CHECK(getModelBytes(CollectiveKind::reduceScatter, 400, 100) == 400);
  CHECK(getModelBytes(CollectiveKind::allToAll, 100, 100) == 100);
  CHECK(getModelKind(ReshardStep::Kind::allSlice) == std::nullopt);
  CHECK(getModelKind(ReshardStep::Kind::reduceScatter) == CollectiveKind::reduceScatter);
}

TEST_CASE("reshardSeconds prices planReshard's steps with the model", "[cost][reshard]") {
  MLIRContext context;
  auto type = RankedTensorType::get({8, 8}, Float32Type::get(&context)); // 256 B whole
  Cluster cluster = fourDevices();
  GridInfo grid = grid2x2();
  GridCollectives collectives(cluster, grid.shape);
  // [dp, -] -> whole: gather the 256 bytes over dp.
  CHECK(reshardSeconds(type, layout({{0}, {}}), layout({{}, {}}), grid, collectives) ==
        collectives.getTime(CollectiveKind::allGather, 256, {0}));
  // Whole, partial over tp -> [tp, -]: reduce-scatter the 256 bytes held.
  CHECK(reshardSeconds(type, layout({{}, {}}, {1}), layout({{1}, {}}), grid, collectives) ==
        collectives.getTime(CollectiveKind::reduceScatter, 256, {1}));
  // [dp, -] -> [-, dp]: one all-to-all of the 128 bytes held.
  CHECK(reshardSeconds(type, layout({{0}, {}}), layout({{}, {0}}), grid, collectives) ==
        collectives.getTime(CollectiveKind::allToAll, 128, {0}));
  // Slicing is local.
  CHECK(reshardSeconds(type, layout({{}, {}}), layout({{0, 1}, {}}), grid, collectives) == 0);
  CHECK(getLocalBytes(type, layout({{0, 1}, {}}), grid) == 64);
}

TEST_CASE("shard collectives read as the model prices them", "[cost][reshard]") {
  MLIRContext context;
  loadAllDialects(context);
  OwningOpRef<ModuleOp> module = parseSourceString<ModuleOp>(R"mlir(
    shard.grid @grid(shape = 2x2)
    func.func @f(%x: tensor<4x8xf32>) -> (tensor<8x8xf32>, tensor<4x8xf32>, tensor<2x8xf32>) {
      %g = shard.all_gather %x on @grid grid_axes = [0] gather_axis = 0
          : tensor<4x8xf32> -> tensor<8x8xf32>
      %r = shard.all_reduce %x on @grid grid_axes = [1] : tensor<4x8xf32> -> tensor<4x8xf32>
      %s = shard.all_slice %x on @grid grid_axes = [1] slice_axis = 0
          : tensor<4x8xf32> -> tensor<2x8xf32>
      return %g, %r, %s : tensor<8x8xf32>, tensor<4x8xf32>, tensor<2x8xf32>
    }
  )mlir",
                                                             &context);
  REQUIRE(module);
  std::vector<ShardCollective> seen;
  module->walk([&](Operation *op) {
    if (std::optional<ShardCollective> collective = getShardCollective(op))
      seen.push_back(*collective);
  });
  REQUIRE(seen.size() == 3);
  CHECK(seen[0].name == "all_gather");
  CHECK(seen[0].kind == CollectiveKind::allGather);
  CHECK(seen[0].bytes == 256); // gathered
  CHECK(seen[0].axes == ArrayRef<int16_t>{0});
  CHECK(seen[1].name == "all_reduce");
  CHECK(seen[1].bytes == 128);
  CHECK(seen[2].name == "all_slice");
  CHECK(seen[2].kind == std::nullopt);
  CHECK(seen[2].bytes == 0);
}

TEST_CASE("grid specs parse once, for the tools and the passes", "[sharding][grid]") {
  llvm::Expected<ParsedGrid> grid = parseGridSpec("dp=2, tp=4");
  REQUIRE(static_cast<bool>(grid));
  CHECK(grid->names == llvm::SmallVector<std::string>{"dp", "tp"});
  CHECK(grid->devices() == 8);
  auto error = [](llvm::StringRef spec) {
    llvm::Expected<ParsedGrid> parsed = parseGridSpec(spec);
    return parsed ? std::string() : llvm::toString(parsed.takeError());
  };
  CHECK(error("dp=0") == "grid axis 'dp=0' is not NAME=SIZE with a positive size (e.g. dp=2,tp=2)");
  CHECK(error("=2") == "grid axis '=2' is not NAME=SIZE with a positive size (e.g. dp=2,tp=2)");
  CHECK(error("dp=2,dp=2") == "grid axis 'dp' is named twice");
  CHECK(error("") == "the grid needs at least one axis, e.g. dp=4");
}
