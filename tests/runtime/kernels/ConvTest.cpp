//===- ConvTest.cpp - conv2d and its gradients ----------------------------===//

#include "KernelTestUtils.h"
#include "WindowParams.h"

#include "cleave/rt/kernels.h"

using namespace cleave::rt;
using namespace cleave::rt::test;

namespace {

std::vector<cpu::Conv2dParams> conv_cases() {
  return {
      conv_params(2, 3, 7, 6, 4, 3, 3, 1, 1, {1, 1, 1, 1}, 1, 1, 1), // "same" 3x3
      conv_params(2, 3, 9, 8, 2, 3, 2, 2, 2, {1, 0, 2, 1}, 2, 1, 1), // asymmetric, dilated
      conv_params(1, 4, 6, 7, 6, 2, 3, 1, 2, {0, 1, 1, 0}, 1, 1, 2), // two groups
      conv_params(2, 3, 8, 8, 6, 3, 3, 2, 2, {1, 1, 1, 1}, 1, 1, 3), // depthwise, multiplier 2
      conv_params(2, 4, 5, 3, 6, 1, 1, 1, 1, {0, 0, 0, 0}, 1, 1, 1), // pointwise: no im2col
      conv_params(1, 4, 5, 3, 2, 1, 1, 1, 1, {0, 0, 0, 0}, 1, 1, 2), // pointwise, grouped
      conv_params(2, 2, 7, 5, 3, 1, 1, 2, 2, {0, 0, 0, 0}, 1, 1, 1), // strided 1x1: im2col
  };
}

/// Large enough for the parallel im2col/col2im paths; too large for
/// finite differences.
cpu::Conv2dParams large_case() {
  return conv_params(2, 8, 32, 32, 16, 3, 3, 1, 1, {1, 1, 1, 1}, 1, 1, 2);
}

std::vector<double> reference_conv(const std::vector<float> &x, const std::vector<float> &filter,
                                   const float *bias, const cpu::Conv2dParams &p) {
  const int64_t group_in = p.in_channels / p.groups, group_out = p.out_channels / p.groups;
  std::vector<double> y(p.batch * p.out_channels * p.out_height * p.out_width);
  for (int64_t n = 0; n < p.batch; ++n)
    for (int64_t f = 0; f < p.out_channels; ++f)
      for (int64_t oh = 0; oh < p.out_height; ++oh)
        for (int64_t ow = 0; ow < p.out_width; ++ow) {
          double sum = bias ? bias[f] : 0.0;
          for (int64_t cg = 0; cg < group_in; ++cg)
            for (int64_t kh = 0; kh < p.kernel_height; ++kh)
              for (int64_t kw = 0; kw < p.kernel_width; ++kw) {
                const int64_t ih = oh * p.stride_height - p.pad_top + kh * p.dilation_height;
                const int64_t iw = ow * p.stride_width - p.pad_left + kw * p.dilation_width;
                if (ih < 0 || ih >= p.in_height || iw < 0 || iw >= p.in_width)
                  continue;
                const int64_t c = (f / group_out) * group_in + cg;
                sum += static_cast<double>(
                           x[((n * p.in_channels + c) * p.in_height + ih) * p.in_width + iw]) *
                       filter[((f * group_in + cg) * p.kernel_height + kh) * p.kernel_width + kw];
              }
          y[((n * p.out_channels + f) * p.out_height + oh) * p.out_width + ow] = sum;
        }
  return y;
}

} // namespace

TEST_CASE("conv2d: matches direct convolution (padding, strides, dilation, groups)", "[conv]") {
  seed(61);
  std::vector<cpu::Conv2dParams> cases = conv_cases();
  cases.push_back(large_case());
  for_each_case(cases, [&](const cpu::Conv2dParams &p) {
    const std::vector<float> x = random_floats(input_count(p));
    const std::vector<float> filter = random_floats(filter_count(p));
    const std::vector<float> bias = random_floats(p.out_channels);
    std::vector<char> scratch(cpu::conv2d_scratch_bytes(p));
    std::vector<float> y(output_count(p), NAN);
    cpu::conv2d(x.data(), filter.data(), bias.data(), y.data(), p, scratch.data());
    require_close(y, reference_conv(x, filter, bias.data(), p), 1e-5);
    cpu::conv2d(x.data(), filter.data(), nullptr, y.data(), p, scratch.data());
    require_close(y, reference_conv(x, filter, nullptr, p), 1e-5);
  });
}

TEST_CASE("conv2d: only pointwise filters skip the scratch", "[conv]") {
  REQUIRE(cpu::conv2d_scratch_bytes(conv_cases()[4]) == 0);
  const cpu::Conv2dParams strided = conv_cases()[6];
  REQUIRE(cpu::conv2d_scratch_bytes(strided) ==
          int64_t{2} * strided.out_height * strided.out_width * 4);
}

TEST_CASE("conv2d: gradients of a large case are the adjoints of conv2d", "[conv][grad]") {
  seed(63);
  // conv2d is linear in x and in the filter, so its gradients are its
  // adjoints: <conv(x, w), u> = <x, grad_input(u, w)> = <w, grad_filter(x, u)>.
  const cpu::Conv2dParams p = large_case();
  const std::vector<float> x = random_floats(input_count(p));
  const std::vector<float> filter = random_floats(filter_count(p));
  const std::vector<float> u = random_floats(output_count(p));
  std::vector<char> scratch(cpu::conv2d_scratch_bytes(p));
  std::vector<float> y(output_count(p)), dx(x.size()), dfilter(filter.size());
  cpu::conv2d(x.data(), filter.data(), nullptr, y.data(), p, scratch.data());
  cpu::conv2d_grad_input(u.data(), filter.data(), dx.data(), p, scratch.data());
  cpu::conv2d_grad_filter(x.data(), u.data(), dfilter.data(), p, scratch.data());
  const double forward = weighted_sum(y, u);
  REQUIRE(weighted_sum(x, dx) == Approx(forward).epsilon(1e-4));
  REQUIRE(weighted_sum(filter, dfilter) == Approx(forward).epsilon(1e-4));
}

TEST_CASE("conv2d: gradients match finite differences", "[conv][grad]") {
  seed(62);
  for_each_case(conv_cases(), [&](const cpu::Conv2dParams &p) {
    std::vector<float> x = random_floats(input_count(p));
    std::vector<float> filter = random_floats(filter_count(p));
    const std::vector<float> weights = random_floats(output_count(p));
    std::vector<char> scratch(cpu::conv2d_scratch_bytes(p));
    std::vector<float> y(output_count(p));
    auto loss = [&] {
      cpu::conv2d(x.data(), filter.data(), nullptr, y.data(), p, scratch.data());
      return weighted_sum(y, weights);
    };
    // conv2d is linear in each argument: the differences are exact but for
    // rounding, so the step can be large.
    const std::vector<double> expected_dx = numeric_gradient(x, loss, 0.25f);
    const std::vector<double> expected_dfilter = numeric_gradient(filter, loss, 0.25f);

    std::vector<float> dx(x.size(), NAN), dfilter(filter.size(), NAN);
    cpu::conv2d_grad_input(weights.data(), filter.data(), dx.data(), p, scratch.data());
    cpu::conv2d_grad_filter(x.data(), weights.data(), dfilter.data(), p, scratch.data());
    require_close(dx, expected_dx, 1e-4);
    require_close(dfilter, expected_dfilter, 1e-4);
  });
}
