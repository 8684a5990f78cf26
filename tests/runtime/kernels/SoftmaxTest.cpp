//===- SoftmaxTest.cpp - softmax, log-softmax and their gradients ---------===//

#include "KernelTestUtils.h"

#include "cleave/rt/kernels.h"

using namespace cleave::rt;
using namespace cleave::rt::test;

namespace {

struct Axis {
  int64_t outer, n, inner;
};

const Axis kAxes[] = {{4, 7, 1}, {3, 5, 4}, {1, 9, 6}, {2, 1, 3}};

std::vector<double> reference_softmax(const std::vector<float> &x, Axis a, bool log) {
  std::vector<double> y(x.size());
  for (int64_t o = 0; o < a.outer; ++o)
    for (int64_t i = 0; i < a.inner; ++i) {
      auto at = [&](int64_t j) { return (o * a.n + j) * a.inner + i; };
      double max = -INFINITY, sum = 0.0;
      for (int64_t j = 0; j < a.n; ++j)
        max = std::max(max, static_cast<double>(x[at(j)]));
      for (int64_t j = 0; j < a.n; ++j)
        sum += std::exp(x[at(j)] - max);
      for (int64_t j = 0; j < a.n; ++j)
        y[at(j)] = log ? x[at(j)] - max - std::log(sum) : std::exp(x[at(j)] - max) / sum;
    }
  return y;
}

void forward(bool log, const std::vector<float> &x, std::vector<float> &y, Axis a) {
  if (log)
    cpu::log_softmax(x.data(), y.data(), a.outer, a.n, a.inner);
  else
    cpu::softmax(x.data(), y.data(), a.outer, a.n, a.inner);
}

} // namespace

TEST_CASE("softmax: matches the reference along any axis", "[softmax]") {
  seed(21);
  for (bool log : {false, true})
    for (Axis a : kAxes) {
      INFO("log " << log << " axis " << a.outer << "x" << a.n << "x" << a.inner);
      const std::vector<float> x = random_floats(a.outer * a.n * a.inner, -3.0f, 3.0f);
      std::vector<float> y(x.size());
      forward(log, x, y, a);
      require_close(y, reference_softmax(x, a, log), 1e-5);
    }
}

TEST_CASE("softmax: large tensors take the parallel path", "[softmax]") {
  seed(23);
  for (bool log : {false, true})
    for (Axis a : {Axis{64, 600, 1}, Axis{8, 50, 100}}) {
      const std::vector<float> x = random_floats(a.outer * a.n * a.inner, -3.0f, 3.0f);
      std::vector<float> y(x.size()), dx(x.size());
      forward(log, x, y, a);
      require_close(y, reference_softmax(x, a, log), 1e-5);
    }
}

TEST_CASE("softmax: stays finite for huge logits and works in place", "[softmax]") {
  std::vector<float> x = {1000.0f, 1001.0f, -1000.0f, 999.0f};
  const Axis a = {1, 4, 1};
  const std::vector<double> expected = reference_softmax(x, a, false);
  const std::vector<double> expected_log = reference_softmax(x, a, true);
  std::vector<float> in_place = x;
  cpu::softmax(in_place.data(), in_place.data(), a.outer, a.n, a.inner);
  require_close(in_place, expected, 1e-6);
  in_place = x;
  cpu::log_softmax(in_place.data(), in_place.data(), a.outer, a.n, a.inner);
  require_close(in_place, expected_log, 1e-6);
}

TEST_CASE("softmax: gradients match finite differences", "[softmax][grad]") {
  seed(22);
  for (bool log : {false, true})
    for (Axis a : kAxes) {
      INFO("log " << log << " axis " << a.outer << "x" << a.n << "x" << a.inner);
      std::vector<float> x = random_floats(a.outer * a.n * a.inner, -2.0f, 2.0f);
      const std::vector<float> weights = random_floats(x.size());
      std::vector<float> y(x.size()), dx(x.size());
      auto loss = [&] {
        forward(log, x, y, a);
        return weighted_sum(y, weights);
      };
      const std::vector<double> expected = numeric_gradient(x, loss, 1e-2f);
      forward(log, x, y, a);
      if (log)
        cpu::log_softmax_grad(y.data(), weights.data(), dx.data(), a.outer, a.n, a.inner);
      else
        cpu::softmax_grad(y.data(), weights.data(), dx.data(), a.outer, a.n, a.inner);
      require_close(dx, expected, 2e-3);
    }
}
