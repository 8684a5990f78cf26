//===- NormTest.cpp - layer and batch normalisation -----------------------===//

#include "KernelTestUtils.h"

#include "cleave/rt/kernels.h"

#include <tuple>

using namespace cleave::rt;
using namespace cleave::rt::test;

namespace {

constexpr float kEpsilon = 1e-5f;

std::vector<double> reference_layer_norm(const std::vector<float> &x,
                                         const std::vector<float> &scale,
                                         const std::vector<float> *bias, int64_t rows,
                                         int64_t cols) {
  std::vector<double> y(x.size());
  for (int64_t r = 0; r < rows; ++r) {
    double mean = 0.0, var = 0.0;
    for (int64_t c = 0; c < cols; ++c)
      mean += x[r * cols + c];
    mean /= cols;
    for (int64_t c = 0; c < cols; ++c)
      var += (x[r * cols + c] - mean) * (x[r * cols + c] - mean);
    var /= cols;
    for (int64_t c = 0; c < cols; ++c)
      y[r * cols + c] = (x[r * cols + c] - mean) / std::sqrt(var + kEpsilon) * scale[c] +
                        (bias ? (*bias)[c] : 0.0);
  }
  return y;
}

struct BatchNormResult {
  std::vector<double> y, running_mean, running_var;
};

BatchNormResult reference_batch_norm(const std::vector<float> &x, const std::vector<float> &scale,
                                     const std::vector<float> &bias,
                                     const std::vector<float> &running_mean,
                                     const std::vector<float> &running_var, int64_t batch,
                                     int64_t channels, int64_t spatial, double momentum) {
  BatchNormResult result{std::vector<double>(x.size()), {}, {}};
  const double count = static_cast<double>(batch * spatial);
  for (int64_t c = 0; c < channels; ++c) {
    auto at = [&](int64_t b, int64_t s) { return (b * channels + c) * spatial + s; };
    double mean = 0.0, var = 0.0;
    for (int64_t b = 0; b < batch; ++b)
      for (int64_t s = 0; s < spatial; ++s)
        mean += x[at(b, s)];
    mean /= count;
    for (int64_t b = 0; b < batch; ++b)
      for (int64_t s = 0; s < spatial; ++s)
        var += (x[at(b, s)] - mean) * (x[at(b, s)] - mean);
    var /= count;
    for (int64_t b = 0; b < batch; ++b)
      for (int64_t s = 0; s < spatial; ++s)
        result.y[at(b, s)] = (x[at(b, s)] - mean) / std::sqrt(var + kEpsilon) * scale[c] + bias[c];
    result.running_mean.push_back((1 - momentum) * running_mean[c] + momentum * mean);
    result.running_var.push_back((1 - momentum) * running_var[c] +
                                 momentum * var * count / (count - 1));
  }
  return result;
}

} // namespace

TEST_CASE("layer_norm: matches the reference with and without bias", "[norm]") {
  seed(31);
  for (auto [rows, cols] : {std::pair<int64_t, int64_t>{5, 7}, {3, 300}, {1, 1}, {64, 700}}) {
    const std::vector<float> x = random_floats(rows * cols, -2.0f, 3.0f);
    const std::vector<float> scale = random_floats(cols), bias = random_floats(cols);
    std::vector<float> y(x.size());
    cpu::layer_norm(x.data(), scale.data(), bias.data(), y.data(), rows, cols, kEpsilon);
    require_close(y, reference_layer_norm(x, scale, &bias, rows, cols), 1e-4);
    cpu::layer_norm(x.data(), scale.data(), nullptr, y.data(), rows, cols, kEpsilon);
    require_close(y, reference_layer_norm(x, scale, nullptr, rows, cols), 1e-4);
  }
}

TEST_CASE("layer_norm_grad: dx, dscale, dbias match finite differences", "[norm][grad]") {
  seed(32);
  const int64_t rows = 4, cols = 9;
  std::vector<float> x = random_floats(rows * cols, -2.0f, 2.0f);
  std::vector<float> scale = random_floats(cols, 0.5f, 1.5f), bias = random_floats(cols);
  const std::vector<float> weights = random_floats(rows * cols);
  std::vector<float> y(x.size());
  auto loss = [&] {
    cpu::layer_norm(x.data(), scale.data(), bias.data(), y.data(), rows, cols, kEpsilon);
    return weighted_sum(y, weights);
  };
  const std::vector<double> expected_dx = numeric_gradient(x, loss, 1e-2f);
  const std::vector<double> expected_dscale = numeric_gradient(scale, loss, 1e-2f);
  const std::vector<double> expected_dbias = numeric_gradient(bias, loss, 1e-2f);

  std::vector<float> dx(x.size()), dscale(cols), dbias(cols);
  std::vector<char> scratch(cpu::layer_norm_grad_scratch_bytes(rows));
  cpu::layer_norm_grad(x.data(), scale.data(), weights.data(), dx.data(), dscale.data(),
                       dbias.data(), rows, cols, kEpsilon, scratch.data());
  require_close(dx, expected_dx, 2e-3);
  require_close(dscale, expected_dscale, 2e-3);
  require_close(dbias, expected_dbias, 2e-3);
}

TEST_CASE("layer_norm_grad: dscale and dbias over many column blocks", "[norm][grad]") {
  seed(33);
  // 600 columns span several column blocks of the parameter-gradient pass.
  const int64_t rows = 7, cols = 600;
  const std::vector<float> x = random_floats(rows * cols), dy = random_floats(rows * cols);
  const std::vector<float> scale = random_floats(cols);
  std::vector<double> expected_dscale(cols, 0.0), expected_dbias(cols, 0.0);
  const std::vector<double> xhat =
      reference_layer_norm(x, std::vector<float>(cols, 1.0f), nullptr, rows, cols);
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t c = 0; c < cols; ++c) {
      expected_dscale[c] += dy[r * cols + c] * xhat[r * cols + c];
      expected_dbias[c] += dy[r * cols + c];
    }
  std::vector<float> dscale(cols), dbias(cols);
  std::vector<char> scratch(cpu::layer_norm_grad_scratch_bytes(rows));
  cpu::layer_norm_grad(x.data(), scale.data(), dy.data(), nullptr, dscale.data(), dbias.data(),
                       rows, cols, kEpsilon, scratch.data());
  require_close(dscale, expected_dscale, 1e-4);
  require_close(dbias, expected_dbias, 1e-4);
}

TEST_CASE("batch_norm_train: normalises per channel and updates running stats", "[norm]") {
  seed(34);
  // Small, then large enough for the parallel path.
  for (auto [batch, channels, spatial] :
       {std::tuple<int64_t, int64_t, int64_t>{3, 4, 5}, {8, 16, 300}}) {
    const float momentum = 0.1f;
    const std::vector<float> x = random_floats(batch * channels * spatial, -1.0f, 4.0f);
    const std::vector<float> scale = random_floats(channels), bias = random_floats(channels);
    const std::vector<float> running_mean = random_floats(channels);
    const std::vector<float> running_var = random_floats(channels, 0.5f, 2.0f);
    const BatchNormResult expected = reference_batch_norm(x, scale, bias, running_mean, running_var,
                                                          batch, channels, spatial, momentum);

    std::vector<float> y(x.size());
    // Updated in place, as the train step does with its buffers.
    std::vector<float> mean = running_mean, var = running_var;
    cpu::batch_norm_train(x.data(), scale.data(), bias.data(), mean.data(), var.data(), y.data(),
                          mean.data(), var.data(), batch, channels, spatial, kEpsilon, momentum);
    require_close(y, expected.y, 1e-4);
    require_close(mean, expected.running_mean, 1e-5);
    require_close(var, expected.running_var, 1e-5);
  }
}

TEST_CASE("batch_norm_grad: dx, dscale, dbias match finite differences", "[norm][grad]") {
  seed(35);
  const int64_t batch = 2, channels = 3, spatial = 6;
  std::vector<float> x = random_floats(batch * channels * spatial, -2.0f, 2.0f);
  std::vector<float> scale = random_floats(channels, 0.5f, 1.5f), bias = random_floats(channels);
  const std::vector<float> weights = random_floats(x.size());
  std::vector<float> y(x.size()), mean(channels, 0.0f), var(channels, 1.0f);
  auto loss = [&] {
    cpu::batch_norm_train(x.data(), scale.data(), bias.data(), mean.data(), var.data(), y.data(),
                          mean.data(), var.data(), batch, channels, spatial, kEpsilon, 0.1f);
    return weighted_sum(y, weights);
  };
  const std::vector<double> expected_dx = numeric_gradient(x, loss, 1e-2f);
  const std::vector<double> expected_dscale = numeric_gradient(scale, loss, 1e-2f);
  const std::vector<double> expected_dbias = numeric_gradient(bias, loss, 1e-2f);

  std::vector<float> dx(x.size()), dscale(channels), dbias(channels);
  cpu::batch_norm_grad(x.data(), scale.data(), weights.data(), dx.data(), dscale.data(),
                       dbias.data(), batch, channels, spatial, kEpsilon);
  require_close(dx, expected_dx, 2e-3);
  require_close(dscale, expected_dscale, 2e-3);
  require_close(dbias, expected_dbias, 2e-3);
}
