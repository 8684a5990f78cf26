//===- RowPlanTest.cpp - plans of matmul and the row-wise kernels ----------===//

#include "PlanTestUtils.h"

#include "cleave/rt/kernels/gather.h"
#include "cleave/rt/kernels/loss.h"
#include "cleave/rt/kernels/matmul.h"
#include "cleave/rt/kernels/norm.h"
#include "cleave/rt/kernels/softmax.h"

#include <catch2/catch.hpp>

using namespace cleave::rt;
using test::failure_message;

TEST_CASE("plan_matmul says what work a product is") {
  kernels::MatmulPlan plan;
  REQUIRE_FALSE(kernels::plan_matmul(2, 3, 4, 5, 15, 0, false, plan));
  CHECK(plan.gemm);
  CHECK(plan.zeroed_elements == 0);
  // An empty sum is spelled out as zeros, unless it accumulates.
  REQUIRE_FALSE(kernels::plan_matmul(2, 3, 4, 0, 0, 0, false, plan));
  CHECK_FALSE(plan.gemm);
  CHECK(plan.zeroed_elements == 24);
  REQUIRE_FALSE(kernels::plan_matmul(2, 3, 4, 0, 0, 0, true, plan));
  CHECK(plan.zeroed_elements == 0);
  // An empty C: nothing at all.
  REQUIRE_FALSE(kernels::plan_matmul(0, 3, 4, 5, 15, 20, false, plan));
  CHECK_FALSE(plan.gemm);
  CHECK(plan.zeroed_elements == 0);
  REQUIRE_FALSE(kernels::plan_matmul(2, 3, 0, 0, 0, 0, false, plan));
  CHECK(plan.zeroed_elements == 0);
  CHECK(failure_message(kernels::plan_matmul(2, -3, 4, 5, 15, 20, false, plan)) ==
        "negative matmul size");
  CHECK(failure_message(kernels::plan_matmul(2, 3, 4, 5, -1, 20, false, plan)) ==
        "negative batch stride");
}

TEST_CASE("matmul_bf16 needs scratch only for a real product, and places the copies in it") {
  kernels::MatmulBf16Plan plan;
  alignas(64) char scratch[512];
  REQUIRE_FALSE(kernels::plan_matmul_bf16(2, 3, 4, 0, 0, 0, false, nullptr, 4, 64, plan));
  CHECK_FALSE(plan.product.gemm);
  CHECK(plan.product.zeroed_elements == 24);
  // A: 3 entries 20 apart of [2, 5]; B: one [5, 4] for all (stride 0).
  REQUIRE_FALSE(kernels::plan_matmul_bf16(3, 2, 4, 5, 20, 0, false, scratch, 4, 64, plan));
  CHECK(plan.product.gemm);
  CHECK(plan.a_copy == scratch);
  CHECK(plan.a_elements == 50);
  CHECK(plan.b_copy == scratch + 256);
  CHECK(plan.b_elements == 20);
  CHECK(
      failure_message(kernels::plan_matmul_bf16(3, 2, 4, 5, 20, 0, false, nullptr, 4, 64, plan)) ==
      "matmul_bf16 needs matmul_bf16_scratch_bytes() of scratch");
  CHECK(failure_message(kernels::plan_matmul_bf16(-2, 3, 4, 5, 15, 20, false, scratch, 4, 64,
                                                  plan)) == "negative matmul size");
}

TEST_CASE("matmul_bf16_scratch spans every matrix a batch entry reads") {
  // A: 3 entries 20 apart of [2, 5] (the last ends at 2 * 20 + 10); B: one
  // [5, 4] matrix for every entry (stride 0).
  const kernels::MatmulBf16Scratch fp32 = kernels::matmul_bf16_scratch(3, 2, 4, 5, 20, 0, 4, 64);
  CHECK(fp32.a_elements == 50);
  CHECK(fp32.b_elements == 20);
  CHECK(fp32.b_offset == 256); // 200 bytes, aligned up to 64
  CHECK(fp32.total == 256 + 128);
  const kernels::MatmulBf16Scratch bf16 = kernels::matmul_bf16_scratch(3, 2, 4, 5, 20, 0, 2, 256);
  CHECK(bf16.b_offset == 256);
  CHECK(bf16.total == 512);
  CHECK(kernels::matmul_bf16_scratch(0, 2, 4, 5, 20, 0, 2, 256).total == 0);
}

TEST_CASE("softmax lines and their checks") {
  CHECK_FALSE(kernels::check_softmax(0, 0, 0));
  CHECK(failure_message(kernels::check_softmax(2, -1, 3)) == "negative softmax size");
  // [outer 2, n 3, inner 4]: line 5 is (o 1, i 1), starting at 1 * 12 + 1.
  CHECK(kernels::softmax_line_start(5, 3, 4) == 13);
  CHECK(kernels::softmax_line_start(3, 3, 1) == 9);
}

TEST_CASE("gather checks sizes, indices resolve as ONNX says") {
  CHECK_FALSE(kernels::check_gather(2, 5, 3, 4, 4));
  CHECK(failure_message(kernels::check_gather(2, -5, 3, 4, 4)) == "negative gather size");
  CHECK(failure_message(kernels::check_gather(2, 5, 3, 4, 0)) ==
        "gather element size must be positive");
  CHECK(failure_message(kernels::check_scatter_add(2, 5, -3, 4)) == "negative gather size");
  CHECK(kernels::resolve_index(int64_t{2}, 5) == 2);
  CHECK(kernels::resolve_index(int64_t{-1}, 5) == 4);
  CHECK(kernels::resolve_index(int32_t{-5}, 5) == 0);
  CHECK(kernels::resolve_index(int32_t{5}, 5) == -1);
  CHECK(kernels::resolve_index(int64_t{-6}, 5) == -1);
}

TEST_CASE("normalisation checks") {
  CHECK_FALSE(kernels::check_layer_norm(0, 4));
  CHECK(failure_message(kernels::check_layer_norm(3, 0)) ==
        "layer_norm needs rows >= 0 and cols > 0");
  float scratch[1];
  CHECK_FALSE(kernels::check_layer_norm_grad(3, 4, scratch));
  CHECK_FALSE(kernels::check_layer_norm_grad(0, 4, nullptr));
  CHECK(failure_message(kernels::check_layer_norm_grad(3, 4, nullptr)) ==
        "layer_norm_grad needs layer_norm_grad_scratch_bytes()");
  CHECK(kernels::layer_norm_grad_scratch_bytes(3) == 3 * 2 * 4);
  CHECK_FALSE(kernels::check_batch_norm_train(1, 3, 2));
  CHECK_FALSE(kernels::check_batch_norm_train(1, 0, 1));
  CHECK(failure_message(kernels::check_batch_norm_train(1, 3, 1)) ==
        "batch_norm needs more than one value per channel");
  CHECK(failure_message(kernels::check_batch_norm_train(-1, 3, 2)) == "negative batch_norm size");
  CHECK_FALSE(kernels::check_batch_norm_grad(1, 3, 1));
  CHECK(failure_message(kernels::check_batch_norm_grad(0, 3, 4)) ==
        "batch_norm_grad of an empty batch");
}

TEST_CASE("cross-entropy checks and ignored labels") {
  CHECK_FALSE(kernels::check_cross_entropy(1, 1));
  CHECK(failure_message(kernels::check_cross_entropy(0, 3)) ==
        "cross_entropy needs rows > 0 and classes > 0");
  kernels::CrossEntropyOptions options;
  CHECK_FALSE(kernels::ignored_label(-100, options));
  options.has_ignore_index = true;
  CHECK(kernels::ignored_label(-100, options));
  CHECK_FALSE(kernels::ignored_label(3, options));
}
