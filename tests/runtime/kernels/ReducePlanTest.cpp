//===- ReducePlanTest.cpp - the plan of a reduction ------------------------===//

#include "PlanTestUtils.h"

#include "cleave/rt/kernels/reduce.h"

#include <catch2/catch.hpp>

#include <cmath>
#include <limits>
#include <vector>

using namespace cleave::rt;
using kernels::ReduceKind;
using kernels::ReducePlan;
using test::failure_message;

namespace {

std::vector<int64_t> sizes(const kernels::StridedShape &shape) {
  return {shape.sizes, shape.sizes + shape.rank};
}
std::vector<int64_t> strides(const kernels::StridedShape &shape) {
  return {shape.strides, shape.strides + shape.rank};
}

} // namespace

TEST_CASE("plan_reduce merges neighbours of the same group across size-1 dimensions") {
  // [2, 3, 1, 4, 5] over axes {1, 3}: 3 and 4 are reduced and adjacent once
  // the size-1 dimension is gone, so they merge; 2 and 5 stay kept.
  const int64_t shape[] = {2, 3, 1, 4, 5}, axes[] = {1, 3};
  ReducePlan plan;
  REQUIRE_FALSE(kernels::plan_reduce(5, shape, axes, 2, ReduceKind::sum, plan));
  CHECK(sizes(plan.kept) == std::vector<int64_t>{2, 5});
  CHECK(strides(plan.kept) == std::vector<int64_t>{60, 1});
  CHECK(sizes(plan.reduced) == std::vector<int64_t>{12});
  CHECK(strides(plan.reduced) == std::vector<int64_t>{5});
  CHECK_FALSE(plan.innermost_reduced);
  CHECK(plan.outputs == 10);
  CHECK(plan.reduced_count == 12);
}

TEST_CASE("plan_reduce over the last axes reduces innermost") {
  const int64_t shape[] = {4, 8, 16}, axes[] = {1, 2};
  ReducePlan plan;
  REQUIRE_FALSE(kernels::plan_reduce(3, shape, axes, 2, ReduceKind::max, plan));
  CHECK(plan.innermost_reduced);
  CHECK(sizes(plan.reduced) == std::vector<int64_t>{128});
  CHECK(strides(plan.reduced) == std::vector<int64_t>{1});
  CHECK(plan.outputs == 4);
}

TEST_CASE("plan_reduce keeps one dimension for a single element, and counts empty ones") {
  const int64_t ones[] = {1, 1}, axis[] = {1};
  ReducePlan plan;
  REQUIRE_FALSE(kernels::plan_reduce(2, ones, axis, 1, ReduceKind::mean, plan));
  CHECK(sizes(plan.kept) == std::vector<int64_t>{1});
  CHECK(plan.reduced.rank == 0);
  CHECK(plan.outputs == 1);
  CHECK(plan.reduced_count == 1);

  const int64_t empty[] = {3, 0};
  REQUIRE_FALSE(kernels::plan_reduce(2, empty, axis, 1, ReduceKind::sum, plan));
  CHECK(plan.outputs == 3);
  CHECK(plan.reduced_count == 0);

  // No axes: a copy.
  REQUIRE_FALSE(kernels::plan_reduce(2, empty, nullptr, 0, ReduceKind::sum, plan));
  CHECK(plan.reduced.rank == 0);
}

TEST_CASE("plan_reduce rejects bad ranks, axes and kinds") {
  const int64_t shape[] = {2, 3, 4};
  ReducePlan plan;
  const int64_t unsorted[] = {2, 1}, repeated[] = {1, 1}, outside[] = {3}, negative[] = {-1};
  CHECK(failure_message(kernels::plan_reduce(3, shape, unsorted, 2, ReduceKind::sum, plan)) ==
        "reduce axes must be sorted and unique");
  CHECK(failure_message(kernels::plan_reduce(3, shape, repeated, 2, ReduceKind::sum, plan)) ==
        "reduce axes must be sorted and unique");
  CHECK(failure_message(kernels::plan_reduce(3, shape, outside, 1, ReduceKind::sum, plan)) ==
        "reduce axis out of range");
  CHECK(failure_message(kernels::plan_reduce(3, shape, negative, 1, ReduceKind::sum, plan)) ==
        "reduce axis out of range");
  CHECK(failure_message(kernels::plan_reduce(3, shape, unsorted, 4, ReduceKind::sum, plan)) ==
        "too many reduce axes");
  CHECK(failure_message(kernels::plan_reduce(kernels::kMaxRank + 1, shape, unsorted, 0,
                                             ReduceKind::sum, plan)) == "reduce rank out of range");
  CHECK(failure_message(kernels::plan_reduce(3, shape, outside, 0, static_cast<ReduceKind>(7),
                                             plan)) == "unknown reduce kind");
}

TEST_CASE("reduce_identity is what an empty reduction gives") {
  CHECK(kernels::reduce_identity<float>(ReduceKind::sum) == 0.0f);
  CHECK(kernels::reduce_identity<float>(ReduceKind::prod) == 1.0f);
  CHECK(kernels::reduce_identity<float>(ReduceKind::max) == -INFINITY);
  CHECK(kernels::reduce_identity<float>(ReduceKind::min) == INFINITY);
  CHECK(std::isnan(kernels::reduce_identity<float>(ReduceKind::mean)));
  CHECK(kernels::reduce_identity<int64_t>(ReduceKind::max) == std::numeric_limits<int64_t>::min());
  CHECK(kernels::reduce_identity<int64_t>(ReduceKind::min) == std::numeric_limits<int64_t>::max());
  CHECK(kernels::reduce_identity<int64_t>(ReduceKind::mean) == 0);
  CHECK(kernels::reduce_identity<double>(ReduceKind::max) == -INFINITY);
}
