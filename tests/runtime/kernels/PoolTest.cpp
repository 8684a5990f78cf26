//===- PoolTest.cpp - max and average pooling -----------------------------===//

#include "KernelTestUtils.h"
#include "WindowParams.h"

#include "cleave/rt/kernels.h"

using namespace cleave::rt;
using namespace cleave::rt::test;
using cpu::PoolKind;

namespace {

/// Every combination of kind, ceil_mode and count_include_pad on shapes
/// where they matter: windows cut by padding and partial ceil-mode windows.
std::vector<cpu::Pool2dParams> pool_cases() {
  return pool_option_cases({{2, 2, 7, 6, 3, 3, 2, 2, {1, 1, 1, 1}},
                            {1, 3, 6, 5, 2, 3, 2, 1, {1, 0, 0, 1}},
                            {1, 1, 5, 5, 2, 2, 2, 2, {0, 0, 0, 0}}});
}

/// PyTorch's window rules, spelt out independently of the kernel.
std::vector<double> reference_pool(const std::vector<float> &x, const cpu::Pool2dParams &p) {
  std::vector<double> y(p.batch * p.channels * p.out_height * p.out_width);
  for (int64_t plane = 0; plane < p.batch * p.channels; ++plane)
    for (int64_t oh = 0; oh < p.out_height; ++oh)
      for (int64_t ow = 0; ow < p.out_width; ++ow) {
        double max = -INFINITY, sum = 0.0;
        int64_t inside = 0, padded = 0;
        for (int64_t kh = 0; kh < p.kernel_height; ++kh)
          for (int64_t kw = 0; kw < p.kernel_width; ++kw) {
            const int64_t ih = oh * p.stride_height - p.pad_top + kh;
            const int64_t iw = ow * p.stride_width - p.pad_left + kw;
            if (ih >= p.in_height + p.pad_bottom || iw >= p.in_width + p.pad_right)
              continue; // past the padded input: never counted
            ++padded;
            if (ih < 0 || ih >= p.in_height || iw < 0 || iw >= p.in_width)
              continue;
            ++inside;
            const double v = x[(plane * p.in_height + ih) * p.in_width + iw];
            max = std::max(max, v);
            sum += v;
          }
        y[(plane * p.out_height + oh) * p.out_width + ow] =
            p.kind == PoolKind::max ? max : sum / (p.count_include_pad ? padded : inside);
      }
  return y;
}

} // namespace

TEST_CASE("pool2d: matches the reference (padding, ceil_mode, count_include_pad)", "[pool]") {
  seed(71);
  std::vector<cpu::Pool2dParams> cases = pool_cases();
  // Large enough for the parallel path.
  cases.push_back(pool_params(PoolKind::max, 4, 8, 32, 32, 3, 3, 2, 2, {1, 1, 1, 1}, true, false));
  cases.push_back(pool_params(PoolKind::avg, 4, 8, 32, 32, 3, 3, 2, 2, {1, 1, 1, 1}, true, false));
  for_each_case(cases, [&](const cpu::Pool2dParams &p) {
    const std::vector<float> x = random_floats(input_count(p));
    std::vector<float> y(output_count(p), NAN);
    cpu::pool2d(x.data(), y.data(), p);
    require_close(y, reference_pool(x, p), 1e-6);
  });
}

TEST_CASE("pool2d: ceil_mode adds a partial window, divided by its clipped size", "[pool]") {
  // 1x1x1x5, kernel 1x2, stride 2, ceil mode: windows [0,1], [2,3], [4].
  const cpu::Pool2dParams p =
      pool_params(PoolKind::avg, 1, 1, 1, 5, 1, 2, 1, 2, {0, 0, 0, 0}, true, true);
  REQUIRE(p.out_width == 3);
  const std::vector<float> x = {1, 2, 3, 4, 10};
  std::vector<float> y(3);
  cpu::pool2d(x.data(), y.data(), p);
  REQUIRE(y == std::vector<float>{1.5f, 3.5f, 10.0f});
}

TEST_CASE("pool2d_grad: matches finite differences", "[pool][grad]") {
  seed(72);
  for_each_case(pool_cases(), [&](const cpu::Pool2dParams &p) {
    // Distinct values 0.05 apart keep every window's maximum where it is
    // under a 0.01 step.
    std::vector<float> x = distinct_floats(input_count(p));
    const std::vector<float> weights = random_floats(output_count(p));
    std::vector<float> y(output_count(p));
    auto loss = [&] {
      cpu::pool2d(x.data(), y.data(), p);
      return weighted_sum(y, weights);
    };
    const std::vector<double> expected = numeric_gradient(x, loss, 1e-2f);
    std::vector<float> dx(x.size(), NAN);
    cpu::pool2d_grad(x.data(), weights.data(), dx.data(), p);
    require_close(dx, expected, 1e-3);
  });
}

TEST_CASE("pool2d_grad: max routes to the first of equal maxima", "[pool][grad]") {
  const cpu::Pool2dParams p =
      pool_params(PoolKind::max, 1, 1, 2, 2, 2, 2, 1, 1, {0, 0, 0, 0}, false, false);
  const std::vector<float> x = {1, 3, 3, 3};
  const std::vector<float> dy = {5};
  std::vector<float> dx(4, NAN);
  cpu::pool2d_grad(x.data(), dy.data(), dx.data(), p);
  REQUIRE(dx == std::vector<float>{0, 5, 0, 0});
}
