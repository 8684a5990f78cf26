//===- conv.cpp - the plan of a 2-D convolution by im2col + GEMM -----------===//

#include "cleave/rt/kernels/conv.h"
#include "cleave/rt/kernels/sizes.h"

namespace cleave::rt::kernels {
namespace {

bool is_pointwise(const Conv2dParams &p) {
  return p.kernel_height == 1 && p.kernel_width == 1 && p.stride_height == 1 &&
         p.stride_width == 1 && p.pad_top == 0 && p.pad_left == 0 && p.pad_bottom == 0 &&
         p.pad_right == 0;
}

CheckFailure check_params(const Conv2dParams &p) {
  PLAN_CHECK(p.batch >= 0 && p.in_channels >= 0 && p.in_height >= 0 && p.in_width >= 0 &&
                 p.out_channels >= 0 && p.kernel_height >= 1 && p.kernel_width >= 1,
             "bad conv2d sizes");
  PLAN_CHECK(p.stride_height >= 1 && p.stride_width >= 1 && p.dilation_height >= 1 &&
                 p.dilation_width >= 1,
             "conv2d strides and dilations must be positive");
  PLAN_CHECK(p.pad_top >= 0 && p.pad_left >= 0 && p.pad_bottom >= 0 && p.pad_right >= 0,
             "negative conv2d padding");
  PLAN_CHECK(p.groups >= 1 && p.in_channels % p.groups == 0 && p.out_channels % p.groups == 0,
             "conv2d groups must divide both channel counts");
  PLAN_CHECK(
      p.out_height == window_output_size(p.in_height, p.kernel_height, p.stride_height, p.pad_top,
                                         p.pad_bottom, p.dilation_height, false) &&
          p.out_width == window_output_size(p.in_width, p.kernel_width, p.stride_width, p.pad_left,
                                            p.pad_right, p.dilation_width, false),
      "conv2d output extents disagree with the window");
  return {};
}

/// The plan of valid parameters.
Conv2dPlan make_plan(const Conv2dParams &p) {
  Conv2dPlan plan;
  plan.pointwise = is_pointwise(p);
  const int64_t filters = p.out_channels / p.groups; // rows of y[g]
  const int64_t taps = p.in_channels / p.groups * p.kernel_height * p.kernel_width;
  const int64_t positions = p.out_height * p.out_width; // columns of y[g]
  plan.image_size = p.in_channels * p.in_height * p.in_width;
  plan.output_size = p.out_channels * positions;
  plan.filter_size = p.out_channels * taps;
  plan.forward = {p.groups, filters, positions,      taps,
                  false,    false,   filters * taps, taps * positions};
  plan.grad_input = {p.groups, taps,  positions,      filters,
                     true,     false, filters * taps, filters * positions};
  plan.grad_filter = {p.groups,        filters, taps, positions, false, true, filters * positions,
                      taps * positions};
  return plan;
}

int64_t align_up(int64_t bytes, int64_t alignment) {
  return (bytes + alignment - 1) / alignment * alignment;
}

/// The plan of valid parameters, checking that scratch is there when the
/// algorithm needs it (the message names the kernel).
CheckFailure plan_checked(const Conv2dParams &params, const void *scratch,
                          const char *missing_scratch, Conv2dPlan &plan) {
  PLAN_TRY(check_params(params));
  plan = make_plan(params);
  PLAN_CHECK(plan.pointwise || scratch, missing_scratch);
  return {};
}

/// The bf16 plans: the copies placed in a scratch that must be there.
CheckFailure place_bf16_operands(const Conv2dParams &params, void *scratch, int64_t alignment,
                                 const char *missing_scratch, Conv2dBf16Plan &plan) {
  PLAN_CHECK(scratch, missing_scratch);
  const Conv2dBf16Scratch l = conv2d_bf16_scratch(params, alignment);
  auto at = [scratch](int64_t offset) {
    return reinterpret_cast<float *>(static_cast<char *>(scratch) + offset);
  };
  plan = {{at(l.x_offset), l.x_elements},
          {at(l.filter_offset), l.filter_elements},
          {at(l.dy_offset), l.dy_elements},
          static_cast<char *>(scratch) + l.conv_offset};
  return {};
}

} // namespace

int64_t conv2d_scratch_bytes(const Conv2dParams &params) {
  if (is_pointwise(params))
    return 0;
  return params.in_channels * params.kernel_height * params.kernel_width * params.out_height *
         params.out_width * static_cast<int64_t>(sizeof(float));
}

CheckFailure plan_conv2d(const Conv2dParams &params, const void *scratch, Conv2dPlan &plan) {
  return plan_checked(params, scratch, "conv2d needs conv2d_scratch_bytes() of scratch", plan);
}

CheckFailure plan_conv2d_grad_input(const Conv2dParams &params, const void *scratch,
                                    Conv2dPlan &plan) {
  return plan_checked(params, scratch, "conv2d_grad_input needs conv2d_scratch_bytes() of scratch",
                      plan);
}

CheckFailure plan_conv2d_grad_filter(const Conv2dParams &params, const void *scratch,
                                     Conv2dPlan &plan) {
  return plan_checked(params, scratch, "conv2d_grad_filter needs conv2d_scratch_bytes() of scratch",
                      plan);
}

Conv2dBf16Scratch conv2d_bf16_scratch(const Conv2dParams &p, int64_t alignment) {
  Conv2dBf16Scratch l{};
  l.x_elements = p.batch * p.in_channels * p.in_height * p.in_width;
  l.filter_elements =
      p.groups > 0 ? p.out_channels * (p.in_channels / p.groups) * p.kernel_height * p.kernel_width
                   : 0;
  l.dy_elements = p.batch * p.out_channels * p.out_height * p.out_width;
  const int64_t bytes = sizeof(float);
  l.x_offset = 0;
  l.filter_offset = l.x_offset + align_up(l.x_elements * bytes, alignment);
  l.dy_offset = l.filter_offset + align_up(l.filter_elements * bytes, alignment);
  l.conv_offset = l.dy_offset + align_up(l.dy_elements * bytes, alignment);
  l.total = l.conv_offset + conv2d_scratch_bytes(p);
  return l;
}

CheckFailure plan_conv2d_bf16(const Conv2dParams &params, void *scratch, int64_t alignment,
                              Conv2dBf16Plan &plan) {
  return place_bf16_operands(params, scratch, alignment,
                             "conv2d_bf16 needs conv2d_bf16_scratch_bytes() of scratch", plan);
}

CheckFailure plan_conv2d_grad_input_bf16(const Conv2dParams &params, void *scratch,
                                         int64_t alignment, Conv2dBf16Plan &plan) {
  return place_bf16_operands(params, scratch, alignment,
                             "conv2d_grad_input_bf16 needs conv2d_bf16_scratch_bytes() of scratch",
                             plan);
}

CheckFailure plan_conv2d_grad_filter_bf16(const Conv2dParams &params, void *scratch,
                                          int64_t alignment, Conv2dBf16Plan &plan) {
  return place_bf16_operands(params, scratch, alignment,
                             "conv2d_grad_filter_bf16 needs conv2d_bf16_scratch_bytes() of scratch",
                             plan);
}

} // namespace cleave::rt::kernels
