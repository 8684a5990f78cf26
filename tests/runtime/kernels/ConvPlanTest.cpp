//===- ConvPlanTest.cpp - plans of convolution and pooling -----------------===//

#include "PlanTestUtils.h"

#include "cleave/rt/kernels/conv.h"
#include "cleave/rt/kernels/pool.h"

#include <catch2/catch.hpp>

#include <cmath>
#include <vector>

using namespace cleave::rt;
using kernels::Conv2dParams;
using kernels::Conv2dPlan;
using kernels::Pool2dParams;
using test::failure_message;

namespace {

/// A grouped 3x3 convolution, stride 2, padding 1: 8 -> 4 output rows.
Conv2dParams grouped_conv() {
  Conv2dParams p{};
  p.batch = 2;
  p.in_channels = 4, p.in_height = 8, p.in_width = 6;
  p.out_channels = 6, p.out_height = 4, p.out_width = 3;
  p.kernel_height = 3, p.kernel_width = 3;
  p.stride_height = 2, p.stride_width = 2;
  p.pad_top = p.pad_left = p.pad_bottom = p.pad_right = 1;
  p.dilation_height = p.dilation_width = 1;
  p.groups = 2;
  return p;
}

Pool2dParams max_pool(bool ceil_mode) {
  Pool2dParams p{};
  p.kind = kernels::PoolKind::max;
  p.batch = 1, p.channels = 1, p.in_height = 5, p.in_width = 5;
  p.kernel_height = p.kernel_width = 2;
  p.stride_height = p.stride_width = 2;
  p.ceil_mode = ceil_mode;
  p.out_height = p.out_width = ceil_mode ? 3 : 2;
  return p;
}

} // namespace

TEST_CASE("window_output_size follows ONNX and PyTorch, ceil mode included") {
  CHECK(kernels::window_output_size(8, 3, 2, 1, 1, 1, false) == 4);
  CHECK(kernels::window_output_size(5, 2, 2, 0, 0, 1, false) == 2);
  CHECK(kernels::window_output_size(5, 2, 2, 0, 0, 1, true) == 3);
  // A last window that would start inside the trailing padding does not count.
  CHECK(kernels::window_output_size(4, 2, 2, 0, 1, 1, true) == 2);
  CHECK(kernels::window_output_size(7, 3, 1, 0, 0, 2, false) == 3); // dilation 2 spans 5
  CHECK(kernels::window_output_size(2, 3, 1, 0, 0, 1, false) == 0);
}

TEST_CASE("plan_conv2d sizes the per-image products of each group") {
  const Conv2dParams p = grouped_conv();
  Conv2dPlan plan;
  float scratch[1];
  REQUIRE_FALSE(kernels::plan_conv2d(p, scratch, plan));
  CHECK_FALSE(plan.pointwise);
  CHECK(plan.image_size == 4 * 8 * 6);
  CHECK(plan.output_size == 6 * 4 * 3);
  // Per group: 3 filters, 2 * 3 * 3 = 18 taps, 12 positions.
  CHECK(plan.filter_size == 6 * 18);
  const kernels::GemmShape &f = plan.forward;
  CHECK((f.batch == 2 && f.m == 3 && f.n == 12 && f.k == 18));
  CHECK((!f.transpose_a && !f.transpose_b && f.batch_stride_a == 54 && f.batch_stride_b == 216));
  const kernels::GemmShape &gi = plan.grad_input;
  CHECK((gi.m == 18 && gi.n == 12 && gi.k == 3 && gi.transpose_a && !gi.transpose_b));
  CHECK((gi.batch_stride_a == 54 && gi.batch_stride_b == 36));
  const kernels::GemmShape &gf = plan.grad_filter;
  CHECK((gf.m == 3 && gf.n == 18 && gf.k == 12 && !gf.transpose_a && gf.transpose_b));
  CHECK((gf.batch_stride_a == 36 && gf.batch_stride_b == 216));
  CHECK(kernels::conv2d_scratch_bytes(p) == 4 * 3 * 3 * 4 * 3 * 4);
}

TEST_CASE("a pointwise convolution needs no scratch") {
  Conv2dParams p = grouped_conv();
  p.kernel_height = p.kernel_width = 1;
  p.stride_height = p.stride_width = 1;
  p.pad_top = p.pad_left = p.pad_bottom = p.pad_right = 0;
  p.out_height = 8, p.out_width = 6;
  Conv2dPlan plan;
  REQUIRE_FALSE(kernels::plan_conv2d(p, nullptr, plan));
  CHECK(plan.pointwise);
  CHECK(kernels::conv2d_scratch_bytes(p) == 0);
  REQUIRE_FALSE(kernels::plan_conv2d_grad_input(p, nullptr, plan));
  REQUIRE_FALSE(kernels::plan_conv2d_grad_filter(p, nullptr, plan));
}

TEST_CASE("plan_conv2d rejects bad parameters and missing scratch") {
  Conv2dPlan plan;
  float scratch[1];
  Conv2dParams p = grouped_conv();
  CHECK(failure_message(kernels::plan_conv2d(p, nullptr, plan)) ==
        "conv2d needs conv2d_scratch_bytes() of scratch");
  CHECK(failure_message(kernels::plan_conv2d_grad_input(p, nullptr, plan)) ==
        "conv2d_grad_input needs conv2d_scratch_bytes() of scratch");
  CHECK(failure_message(kernels::plan_conv2d_grad_filter(p, nullptr, plan)) ==
        "conv2d_grad_filter needs conv2d_scratch_bytes() of scratch");
  p.groups = 3;
  CHECK(failure_message(kernels::plan_conv2d(p, scratch, plan)) ==
        "conv2d groups must divide both channel counts");
  p = grouped_conv();
  p.out_height = 5;
  CHECK(failure_message(kernels::plan_conv2d(p, scratch, plan)) ==
        "conv2d output extents disagree with the window");
  p = grouped_conv();
  p.pad_left = -1;
  CHECK(failure_message(kernels::plan_conv2d(p, scratch, plan)) == "negative conv2d padding");
  p = grouped_conv();
  p.dilation_width = 0;
  CHECK(failure_message(kernels::plan_conv2d(p, scratch, plan)) ==
        "conv2d strides and dilations must be positive");
  p = grouped_conv();
  p.kernel_height = 0;
  CHECK(failure_message(kernels::plan_conv2d(p, scratch, plan)) == "bad conv2d sizes");
}

TEST_CASE("the bf16 convolutions lay out their rounded operands aligned") {
  const Conv2dParams p = grouped_conv();
  const kernels::Conv2dBf16Scratch l = kernels::conv2d_bf16_scratch(p, 256);
  CHECK(l.x_elements == 2 * 4 * 8 * 6);
  CHECK(l.filter_elements == 6 * 2 * 3 * 3);
  CHECK(l.dy_elements == 2 * 6 * 4 * 3);
  CHECK(l.x_offset == 0);
  CHECK(l.filter_offset == 1536); // 384 floats, already a multiple of 256 bytes
  CHECK(l.dy_offset == 1536 + 512);
  CHECK(l.conv_offset == 1536 + 512 + 768);
  CHECK(l.total == l.conv_offset + kernels::conv2d_scratch_bytes(p));
  CHECK(kernels::conv2d_bf16_scratch(p, 64).filter_offset == 1536);
  CHECK(kernels::conv2d_bf16_scratch(p, 64).dy_offset == 1536 + 448);
}

TEST_CASE("the bf16 convolution plans place the rounded copies, and need their scratch") {
  const Conv2dParams p = grouped_conv();
  kernels::Conv2dBf16Plan plan;
  CHECK(failure_message(kernels::plan_conv2d_bf16(p, nullptr, 256, plan)) ==
        "conv2d_bf16 needs conv2d_bf16_scratch_bytes() of scratch");
  CHECK(failure_message(kernels::plan_conv2d_grad_input_bf16(p, nullptr, 256, plan)) ==
        "conv2d_grad_input_bf16 needs conv2d_bf16_scratch_bytes() of scratch");
  CHECK(failure_message(kernels::plan_conv2d_grad_filter_bf16(p, nullptr, 256, plan)) ==
        "conv2d_grad_filter_bf16 needs conv2d_bf16_scratch_bytes() of scratch");
  std::vector<char> scratch(kernels::conv2d_bf16_scratch(p, 256).total);
  REQUIRE_FALSE(kernels::plan_conv2d_bf16(p, scratch.data(), 256, plan));
  CHECK(reinterpret_cast<char *>(plan.x.to) == scratch.data());
  CHECK(plan.x.count == 384);
  CHECK(reinterpret_cast<char *>(plan.filter.to) == scratch.data() + 1536);
  CHECK(plan.filter.count == 108);
  CHECK(reinterpret_cast<char *>(plan.dy.to) == scratch.data() + 2048);
  CHECK(plan.dy.count == 144);
  CHECK(static_cast<char *>(plan.conv_scratch) == scratch.data() + 2816);
}

TEST_CASE("check_pool2d rejects bad parameters") {
  CHECK_FALSE(kernels::check_pool2d(max_pool(false)));
  CHECK_FALSE(kernels::check_pool2d(max_pool(true)));
  Pool2dParams p = max_pool(false);
  p.out_width = 3; // the ceil-mode extent without ceil mode
  CHECK(failure_message(kernels::check_pool2d(p)) ==
        "pool2d output extents disagree with the window");
  p = max_pool(false);
  p.kind = static_cast<kernels::PoolKind>(5);
  CHECK(failure_message(kernels::check_pool2d(p)) == "unknown pool kind");
  p = max_pool(false);
  p.stride_width = 0;
  CHECK(failure_message(kernels::check_pool2d(p)) == "bad pool2d sizes");
  p = max_pool(false);
  p.pad_bottom = -1;
  CHECK(failure_message(kernels::check_pool2d(p)) == "negative pool2d padding");
}

TEST_CASE("pool_window clips to the padded input, then to the input") {
  // Average 3x3, stride 2, padding 1 on 5x5, ceil mode: 3 outputs per side.
  Pool2dParams p{};
  p.kind = kernels::PoolKind::avg;
  p.in_height = p.in_width = 5;
  p.kernel_height = p.kernel_width = 3;
  p.stride_height = p.stride_width = 2;
  p.pad_top = p.pad_left = p.pad_bottom = p.pad_right = 1;
  p.ceil_mode = true;
  p.count_include_pad = true;
  const kernels::PoolWindow corner = kernels::pool_window(p, 0, 0);
  CHECK((corner.h_begin == 0 && corner.h_end == 2 && corner.w_begin == 0 && corner.w_end == 2));
  CHECK(corner.divisor == 9.0f); // the padding counts
  p.count_include_pad = false;
  CHECK(kernels::pool_window(p, 0, 0).divisor == 4.0f);
  const kernels::PoolWindow last = kernels::pool_window(p, 2, 2);
  CHECK((last.h_begin == 3 && last.h_end == 5 && last.w_begin == 3 && last.w_end == 5));
}

TEST_CASE("pool_argmax takes the first maximum, and NaN wins") {
  const float plane[] = {1, 3, 3, 2};
  const kernels::PoolWindow w{0, 2, 0, 2, 4.0f};
  float max = 0;
  CHECK(kernels::pool_argmax(plane, w, 2, &max) == 1);
  CHECK(max == 3.0f);
  CHECK(kernels::pool_window_sum(plane, w, 2) == 9.0f);
  const float with_nan[] = {1, NAN, 3, 2};
  CHECK(kernels::pool_argmax(with_nan, w, 2, &max) == 1);
  CHECK(std::isnan(max));
}
