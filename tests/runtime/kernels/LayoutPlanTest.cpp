//===- LayoutPlanTest.cpp - plans of transpose, broadcast, slice, concat ---===//

#include "PlanTestUtils.h"

#include "cleave/rt/kernels/layout.h"

#include <catch2/catch.hpp>

#include <cstring>
#include <vector>

using namespace cleave::rt;
using kernels::CopyPlan;
using test::failure_message;

namespace {

std::vector<int64_t> sizes(const CopyPlan &plan) { return {plan.sizes, plan.sizes + plan.rank}; }
std::vector<int64_t> source_strides(const CopyPlan &plan) {
  return {plan.source_strides, plan.source_strides + plan.rank};
}
std::vector<int64_t> destination_strides(const CopyPlan &plan) {
  return {plan.destination_strides, plan.destination_strides + plan.rank};
}

} // namespace

TEST_CASE("simplify_copy drops size-1 dimensions and merges contiguous ones") {
  // A contiguous [2, 1, 3, 4] copy is one run of 24 elements.
  const int64_t shape[] = {2, 1, 3, 4}, strides[] = {12, 12, 4, 1};
  const CopyPlan plan = kernels::simplify_copy(shape, strides, strides, 4);
  CHECK(sizes(plan) == std::vector<int64_t>{24});
  CHECK(source_strides(plan) == std::vector<int64_t>{1});
  CHECK(destination_strides(plan) == std::vector<int64_t>{1});

  // Merging needs both views to step over the pair as one dimension.
  const int64_t source[] = {12, 1, 3}, destination[] = {12, 4, 1}, shape3[] = {2, 3, 4};
  const CopyPlan mixed = kernels::simplify_copy(shape3, source, destination, 3);
  CHECK(sizes(mixed) == std::vector<int64_t>{2, 3, 4});

  // Only size-1 dimensions: a single element, rank 0.
  const int64_t ones[] = {1, 1};
  CHECK(kernels::simplify_copy(ones, ones, ones, 2).rank == 0);
}

TEST_CASE("plan_transpose permutes the strides and keeps a contiguous inner run") {
  // [2, 3, 4] -> permutation (1, 0, 2): the inner 4 elements stay contiguous.
  const int64_t shape[] = {2, 3, 4}, permutation[] = {1, 0, 2};
  CopyPlan plan;
  REQUIRE_FALSE(kernels::plan_transpose(3, shape, permutation, 4, plan));
  CHECK(plan.elements == 24);
  CHECK(sizes(plan) == std::vector<int64_t>{3, 2, 4});
  CHECK(source_strides(plan) == std::vector<int64_t>{4, 12, 1});
  CHECK(destination_strides(plan) == std::vector<int64_t>{8, 4, 1});
  CHECK(plan.source_offset == 0);
  CHECK(plan.zeroed_elements == 0);

  // The identity permutation is one contiguous run.
  const int64_t identity[] = {0, 1, 2};
  REQUIRE_FALSE(kernels::plan_transpose(3, shape, identity, 4, plan));
  CHECK(sizes(plan) == std::vector<int64_t>{24});
}

TEST_CASE("plan_transpose rejects what only broken generated code passes") {
  const int64_t shape[] = {2, 3, 4};
  CopyPlan plan;
  const int64_t repeated[] = {0, 0, 2}, outside[] = {0, 1, 3};
  CHECK(failure_message(kernels::plan_transpose(3, shape, repeated, 4, plan)) ==
        "not a permutation");
  CHECK(failure_message(kernels::plan_transpose(3, shape, outside, 4, plan)) ==
        "not a permutation");
  CHECK(failure_message(kernels::plan_transpose(kernels::kMaxRank + 1, shape, outside, 4, plan)) ==
        "tensor rank out of range");
  CHECK(failure_message(kernels::plan_transpose(-1, shape, outside, 4, plan)) ==
        "tensor rank out of range");
  const int64_t identity[] = {0, 1, 2};
  CHECK(failure_message(kernels::plan_transpose(3, shape, identity, 0, plan)) ==
        "element size must be positive");
}

TEST_CASE("a failed check names its file, line and condition") {
  const int64_t shape[] = {2}, permutation[] = {1};
  CopyPlan plan;
  const kernels::CheckFailure failure = kernels::plan_transpose(1, shape, permutation, 4, plan);
  REQUIRE(failure);
  CHECK(std::strstr(failure.file, "layout.cpp") != nullptr);
  CHECK(failure.line > 0);
  CHECK(std::string(failure.condition).find("seen[from]") != std::string::npos);
}

TEST_CASE("plan_broadcast repeats with stride 0 and right-aligns the shapes") {
  // [3, 1] -> [2, 3, 4]: a new leading dimension and a repeated last one.
  const int64_t input[] = {3, 1}, output[] = {2, 3, 4};
  CopyPlan plan;
  REQUIRE_FALSE(kernels::plan_broadcast(2, input, 3, output, 4, plan));
  CHECK(plan.elements == 24);
  CHECK(sizes(plan) == std::vector<int64_t>{2, 3, 4});
  CHECK(source_strides(plan) == std::vector<int64_t>{0, 1, 0});
  CHECK(destination_strides(plan) == std::vector<int64_t>{12, 4, 1});

  // A scalar to [3, 4]: every source stride 0, merged into one dimension.
  REQUIRE_FALSE(kernels::plan_broadcast(0, nullptr, 2, output + 1, 4, plan));
  CHECK(sizes(plan) == std::vector<int64_t>{12});
  CHECK(source_strides(plan) == std::vector<int64_t>{0});
}

TEST_CASE("plan_broadcast rejects shapes that do not broadcast") {
  const int64_t input[] = {3, 2}, output[] = {3, 4};
  CopyPlan plan;
  CHECK(failure_message(kernels::plan_broadcast(2, input, 2, output, 4, plan)) ==
        "shapes do not broadcast");
  CHECK(failure_message(kernels::plan_broadcast(2, input, 1, output, 4, plan)) ==
        "broadcast to a smaller rank");
  CHECK(failure_message(kernels::plan_broadcast(1, input, 9, output, 4, plan)) ==
        "tensor rank out of range");
}

TEST_CASE("plan_slice reads a strided window from its start") {
  // Rows 1 and 3 and columns 2..4 of a [4, 6] tensor.
  const int64_t input[] = {4, 6}, starts[] = {1, 2}, strides[] = {2, 1}, output[] = {2, 3};
  CopyPlan plan;
  REQUIRE_FALSE(kernels::plan_slice(2, input, starts, strides, output, 4, plan));
  CHECK(plan.source_offset == 1 * 6 + 2);
  CHECK(plan.destination_offset == 0);
  CHECK(sizes(plan) == std::vector<int64_t>{2, 3});
  CHECK(source_strides(plan) == std::vector<int64_t>{12, 1});
  CHECK(destination_strides(plan) == std::vector<int64_t>{3, 1});
  CHECK(plan.zeroed_elements == 0);
}

TEST_CASE("plan_slice rejects windows outside their tensor") {
  const int64_t input[] = {4, 6}, starts[] = {1, 2}, output[] = {2, 3};
  CopyPlan plan;
  const int64_t too_far[] = {3, 1}, zero[] = {0, 1};
  CHECK(failure_message(kernels::plan_slice(2, input, starts, too_far, output, 4, plan)) ==
        "slice reaches outside its tensor");
  CHECK(failure_message(kernels::plan_slice(2, input, starts, zero, output, 4, plan)) ==
        "slice strides must be positive");
  const int64_t negative[] = {-1, 3}, ones[] = {1, 1};
  CHECK(failure_message(kernels::plan_slice(2, input, starts, ones, negative, 4, plan)) ==
        "negative slice size");
  const int64_t before[] = {-1, 0};
  CHECK(failure_message(kernels::plan_slice(2, input, before, ones, output, 4, plan)) ==
        "slice reaches outside its tensor");
  // An empty window may start anywhere.
  const int64_t empty[] = {0, 3}, anywhere[] = {9, 0};
  REQUIRE_FALSE(kernels::plan_slice(2, input, anywhere, ones, empty, 4, plan));
  CHECK(plan.elements == 0);
}

TEST_CASE("plan_slice_scatter zeroes the whole output and writes the window") {
  // slice's gradient: input [2, 3] into rows 1, 3 and columns 2..4 of [4, 6].
  const int64_t input[] = {2, 3}, starts[] = {1, 2}, strides[] = {2, 1}, output[] = {4, 6};
  CopyPlan plan;
  REQUIRE_FALSE(kernels::plan_slice_scatter(2, input, starts, strides, output, 4, plan));
  CHECK(plan.zeroed_elements == 24);
  CHECK(plan.destination_offset == 8);
  CHECK(plan.source_offset == 0);
  CHECK(plan.elements == 6);
  CHECK(source_strides(plan) == std::vector<int64_t>{3, 1});
  CHECK(destination_strides(plan) == std::vector<int64_t>{12, 1});

  const int64_t outside[] = {3, 2};
  CHECK(failure_message(kernels::plan_slice_scatter(2, input, outside, strides, output, 4, plan)) ==
        "slice reaches outside its tensor");
}

TEST_CASE("plan_concat sizes the output rows, empty inputs are skipped") {
  const int64_t axis_sizes[] = {2, 0, 3};
  kernels::ConcatPlan plan;
  REQUIRE_FALSE(kernels::plan_concat(axis_sizes, 3, 5, 4, 2, plan));
  CHECK(plan.output_row_bytes == (2 + 3) * 4 * 2);
  std::vector<std::vector<int64_t>> copies;
  kernels::for_each_concat_input(axis_sizes, 3, 4, 2,
                                 [&](int64_t t, int64_t row_bytes, int64_t column_bytes) {
                                   copies.push_back({t, row_bytes, column_bytes});
                                 });
  CHECK(copies == std::vector<std::vector<int64_t>>{{0, 16, 0}, {2, 24, 16}});

  const int64_t negative[] = {2, -1};
  CHECK(failure_message(kernels::plan_concat(negative, 2, 5, 4, 2, plan)) ==
        "negative concat size");
  CHECK(failure_message(kernels::plan_concat(axis_sizes, 3, -1, 4, 2, plan)) ==
        "negative concat size");
  CHECK(failure_message(kernels::plan_concat(axis_sizes, 3, 5, 4, 0, plan)) ==
        "element size must be positive");
}

TEST_CASE("check_iota refuses a negative size") {
  CHECK_FALSE(kernels::check_iota(0));
  CHECK(failure_message(kernels::check_iota(-1)) == "negative iota size");
}
