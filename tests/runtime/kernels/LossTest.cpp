//===- LossTest.cpp - softmax cross-entropy -------------------------------===//

#include "KernelTestUtils.h"

#include "cleave/rt/kernels.h"

using namespace cleave::rt;
using namespace cleave::rt::test;

namespace {

double reference_cross_entropy(const std::vector<float> &logits, const std::vector<int64_t> &labels,
                               int64_t classes) {
  const int64_t rows = static_cast<int64_t>(labels.size());
  double total = 0.0;
  for (int64_t r = 0; r < rows; ++r) {
    const float *row = logits.data() + r * classes;
    double max = -INFINITY, sum = 0.0;
    for (int64_t v = 0; v < classes; ++v)
      max = std::max(max, static_cast<double>(row[v]));
    for (int64_t v = 0; v < classes; ++v)
      sum += std::exp(row[v] - max);
    total += max + std::log(sum) - row[labels[r]];
  }
  return total / rows;
}

std::vector<int64_t> random_labels(int64_t rows, int64_t classes) {
  std::vector<int64_t> labels(rows);
  for (int64_t &label : labels)
    label = random_int(0, classes - 1);
  return labels;
}

} // namespace

TEST_CASE("cross_entropy: mean loss matches the reference", "[loss]") {
  seed(81);
  for (auto [rows, classes] : {std::pair<int64_t, int64_t>{6, 11}, {1, 1}, {64, 600}}) {
    const std::vector<float> logits = random_floats(rows * classes, -4.0f, 4.0f);
    const std::vector<int64_t> labels = random_labels(rows, classes);
    float loss = NAN;
    int32_t invalid = 0;
    cpu::cross_entropy(logits.data(), labels.data(), &loss, rows, classes, &invalid);
    REQUIRE(invalid == 0);
    REQUIRE(loss == Approx(reference_cross_entropy(logits, labels, classes)).epsilon(1e-5));
  }
}

TEST_CASE("cross_entropy: stays finite for huge logits", "[loss]") {
  const std::vector<float> logits = {1000.0f, -1000.0f, 999.0f};
  const std::vector<int64_t> labels = {2};
  float loss = NAN;
  cpu::cross_entropy(logits.data(), labels.data(), &loss, 1, 3, nullptr);
  REQUIRE(loss == Approx(std::log(1.0 + std::exp(1.0))).epsilon(1e-6));
}

TEST_CASE("cross_entropy_grad: matches finite differences, scaled by dloss", "[loss][grad]") {
  seed(82);
  const int64_t rows = 5, classes = 7;
  std::vector<float> logits = random_floats(rows * classes, -3.0f, 3.0f);
  const std::vector<int64_t> labels = random_labels(rows, classes);
  const float dloss = 0.75f;
  float loss = 0.0f;
  auto scaled_loss = [&] {
    cpu::cross_entropy(logits.data(), labels.data(), &loss, rows, classes, nullptr);
    return static_cast<double>(loss) * dloss;
  };
  const std::vector<double> expected = numeric_gradient(logits, scaled_loss, 1e-2f);
  std::vector<float> dlogits(logits.size(), NAN);
  int32_t invalid = 0;
  cpu::cross_entropy_grad(logits.data(), labels.data(), &dloss, dlogits.data(), rows, classes,
                          &invalid);
  REQUIRE(invalid == 0);
  require_close(dlogits, expected, 2e-3);
}

TEST_CASE("cross_entropy: out-of-range labels set the flag instead of crashing", "[loss]") {
  const std::vector<float> logits = {0.0f, 0.0f, 1.0f, 2.0f};
  const std::vector<int64_t> labels = {1, 2}; // the second is outside [0, 2)
  float loss = NAN;
  int32_t invalid = 0;
  cpu::cross_entropy(logits.data(), labels.data(), &loss, 2, 2, &invalid);
  REQUIRE(invalid == 1);
  // Row 0 alone, still divided by both rows.
  REQUIRE(loss == Approx(std::log(2.0) / 2).epsilon(1e-6));

  invalid = 0;
  const float dloss = 1.0f;
  std::vector<float> dlogits(4, NAN);
  cpu::cross_entropy_grad(logits.data(), labels.data(), &dloss, dlogits.data(), 2, 2, &invalid);
  REQUIRE(invalid == 1);
  REQUIRE(dlogits[0] == Approx(0.25));
  REQUIRE(dlogits[1] == Approx(-0.25));
  REQUIRE(dlogits[2] == 0.0f);
  REQUIRE(dlogits[3] == 0.0f);
}

namespace {

/// PyTorch's F.cross_entropy(..., ignore_index=ignore, label_smoothing=s)
/// in double: (1 - s) * nll + s * mean over classes of -log p, averaged
/// over the rows not ignored (or summed).
double reference_smoothed(const std::vector<float> &logits, const std::vector<int64_t> &labels,
                          int64_t classes, int64_t ignore, double s, bool sum) {
  double total = 0.0;
  int64_t kept = 0;
  for (size_t r = 0; r < labels.size(); ++r) {
    if (labels[r] == ignore)
      continue;
    const float *row = logits.data() + r * classes;
    double max = -INFINITY, exp_sum = 0.0, uniform = 0.0;
    for (int64_t v = 0; v < classes; ++v)
      max = std::max(max, static_cast<double>(row[v]));
    for (int64_t v = 0; v < classes; ++v)
      exp_sum += std::exp(row[v] - max);
    const double lse = max + std::log(exp_sum);
    for (int64_t v = 0; v < classes; ++v)
      uniform += (lse - row[v]) / static_cast<double>(classes);
    total += (1 - s) * (lse - row[labels[r]]) + s * uniform;
    ++kept;
  }
  return sum ? total : total / static_cast<double>(kept);
}

} // namespace

TEST_CASE("cross_entropy: ignore_index and label smoothing match PyTorch's definition", "[loss]") {
  seed(83);
  const int64_t rows = 9, classes = 6;
  std::vector<float> logits = random_floats(rows * classes, -3.0f, 3.0f);
  std::vector<int64_t> labels = random_labels(rows, classes);
  labels[1] = labels[4] = labels[8] = -100;
  for (bool sum : {false, true}) {
    for (float smoothing : {0.0f, 0.1f, 1.0f}) {
      cpu::CrossEntropyOptions options;
      options.has_ignore_index = true;
      options.label_smoothing = smoothing;
      options.sum = sum;
      float loss = NAN;
      int32_t invalid = 0;
      cpu::cross_entropy(logits.data(), labels.data(), &loss, rows, classes, &invalid, options);
      REQUIRE(invalid == 0); // -100 is ignored, not out of range
      REQUIRE(
          loss ==
          Approx(reference_smoothed(logits, labels, classes, -100, smoothing, sum)).epsilon(1e-5));

      const float dloss = 0.5f;
      auto scaled_loss = [&] {
        float value = 0;
        cpu::cross_entropy(logits.data(), labels.data(), &value, rows, classes, nullptr, options);
        return static_cast<double>(value) * dloss;
      };
      const std::vector<double> expected = numeric_gradient(logits, scaled_loss, 1e-2f);
      std::vector<float> dlogits(logits.size(), NAN);
      cpu::cross_entropy_grad(logits.data(), labels.data(), &dloss, dlogits.data(), rows, classes,
                              &invalid, options);
      REQUIRE(invalid == 0);
      require_close(dlogits, expected, 2e-3);
      for (int64_t v = 0; v < classes; ++v)
        REQUIRE(dlogits[static_cast<size_t>(4 * classes + v)] == 0.0f);
    }
  }
}

TEST_CASE("cross_entropy: labels other than the ignore index stay out of range", "[loss]") {
  const std::vector<float> logits = {0.0f, 1.0f, 0.0f, 1.0f, 0.0f, 1.0f};
  const std::vector<int64_t> labels = {0, -100, -1}; // -1 is neither a class nor ignored
  cpu::CrossEntropyOptions options;
  options.has_ignore_index = true;
  float loss = NAN;
  int32_t invalid = 0;
  cpu::cross_entropy(logits.data(), labels.data(), &loss, 3, 2, &invalid, options);
  REQUIRE(invalid == 1);
  // An ignore index of 0 ignores class 0 (as PyTorch does).
  options.ignore_index = 0;
  invalid = 0;
  const std::vector<int64_t> zero_ignored = {0, 1, 1};
  cpu::cross_entropy(logits.data(), zero_ignored.data(), &loss, 3, 2, &invalid, options);
  REQUIRE(invalid == 0);
  REQUIRE(loss == Approx(std::log(1.0 + std::exp(-1.0))).epsilon(1e-6));
}
