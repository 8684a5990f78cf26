// planReshard: the collectives that bring a value from one layout to
// another. The partitioner emits exactly these steps and the search prices
// them, so each rule of Sharding.h's comment is pinned here.
#include "passes/Analysis/Sharding/Reshard.h"

#include <catch2/catch.hpp>

using namespace mlir;
using namespace mlir::cleave;

using Kind = ReshardStep::Kind;

static TensorSharding layout(std::initializer_list<AxisList> dims, const AxisList &partial = {}) {
  TensorSharding sharding;
  sharding.dims.assign(dims.begin(), dims.end());
  sharding.partial = partial;
  return sharding;
}

TEST_CASE("planReshard: the same layout needs nothing", "[sharding][reshard]") {
  CHECK(planReshard(layout({{0}, {}}), layout({{0}, {}})).empty());
  CHECK(planReshard(TensorSharding::replicated(3), TensorSharding::replicated(3)).empty());
}

TEST_CASE("planReshard: a partial value is all-reduced, or reduce-scattered into a split",
          "[sharding][reshard]") {
  auto reduce = planReshard(layout({{}, {}}, {1}), layout({{}, {}}));
  REQUIRE(reduce.size() == 1);
  CHECK(reduce[0].kind == Kind::allReduce);
  CHECK(reduce[0].axes == AxisList{1});
  CHECK(reduce[0].after == layout({{}, {}}));

  // `to` splits dimension 1 over exactly the partial axes: one reduce-scatter.
  auto scatter = planReshard(layout({{}, {}}, {1}), layout({{}, {1}}));
  REQUIRE(scatter.size() == 1);
  CHECK(scatter[0].kind == Kind::reduceScatter);
  CHECK(scatter[0].dim == 1);
  CHECK(scatter[0].after == layout({{}, {1}}));

  // After the axes the dimension already has: [0] then the partial [1].
  auto after = planReshard(layout({{0}, {}}, {1}), layout({{0, 1}, {}}));
  REQUIRE(after.size() == 1);
  CHECK(after[0].kind == Kind::reduceScatter);
  CHECK(after[0].dim == 0);

  // A partial max reduces (and scatters) like a sum.
  TensorSharding max = layout({{}}, {0});
  max.partialKind = shard::ReductionKind::Max;
  auto maxSteps = planReshard(max, layout({{0}}));
  REQUIRE(maxSteps.size() == 1);
  CHECK(maxSteps[0].kind == Kind::reduceScatter);
}

TEST_CASE("planReshard: dropped axes are gathered, added axes sliced", "[sharding][reshard]") {
  auto gather = planReshard(layout({{0, 1}, {}}), layout({{0}, {}}));
  REQUIRE(gather.size() == 1);
  CHECK(gather[0].kind == Kind::allGather);
  CHECK(gather[0].axes == AxisList{1});
  CHECK(gather[0].dim == 0);
  CHECK(gather[0].after == layout({{0}, {}}));

  auto slice = planReshard(layout({{0}, {}}), layout({{0, 1}, {}}));
  REQUIRE(slice.size() == 1);
  CHECK(slice[0].kind == Kind::allSlice);
  CHECK(slice[0].axes == AxisList{1});

  // A different order of the same axes is a different layout: gather the
  // axes after the common prefix, slice again in the new order.
  auto reorder = planReshard(layout({{0, 1}}), layout({{1, 0}}));
  REQUIRE(reorder.size() == 2);
  CHECK(reorder[0].kind == Kind::allGather);
  CHECK(reorder[0].axes == AxisList{0, 1});
  CHECK(reorder[1].kind == Kind::allSlice);
  CHECK(reorder[1].axes == AxisList{1, 0});
}

TEST_CASE("planReshard: an axis that moves between dimensions is one all-to-all",
          "[sharding][reshard]") {
  auto move = planReshard(layout({{0}, {}}), layout({{}, {0}}));
  REQUIRE(move.size() == 1);
  CHECK(move[0].kind == Kind::allToAll);
  CHECK(move[0].axes == AxisList{0});
  CHECK(move[0].dim == 0);      // concatenated
  CHECK(move[0].splitDim == 1); // becomes split
  CHECK(move[0].after == layout({{}, {0}}));

  // Two different axes: a gather and a slice, not a move.
  auto swap = planReshard(layout({{0}, {}}), layout({{}, {1}}));
  REQUIRE(swap.size() == 2);
  CHECK(swap[0].kind == Kind::allGather);
  CHECK(swap[1].kind == Kind::allSlice);
}

TEST_CASE("planReshard: every step's layout leads to the target", "[sharding][reshard]") {
  TensorSharding from = layout({{0}, {1}}, {2});
  TensorSharding to = layout({{1}, {}});
  auto steps = planReshard(from, to);
  REQUIRE_FALSE(steps.empty());
  CHECK(steps.front().kind == Kind::allReduce);
  CHECK(steps.back().after == to);
  for (const ReshardStep &step : steps)
    CHECK(step.after.partial.empty());
}
