//===- loss.cpp - softmax cross-entropy and its gradient ------------------===//

#include "cleave/rt/kernels/loss.h"
#include "cleave/rt/kernels.h"

#include "parallel.h"
#include "require.h"
#include "rows.h"

#include <cmath>
#include <cstring>

namespace cleave::rt::cpu {
namespace {

struct LogSumExp {
  float max;
  float sum; // sum exp(x - max)
};

LogSumExp log_sum_exp(const float *row, int64_t classes) {
  const float max = row_max(row, classes);
  return {max, row_exp_sum(row, max, classes)};
}

void flag_invalid(int32_t *invalid_flag) {
  if (!invalid_flag)
    return;
#pragma omp atomic write
  *invalid_flag = 1;
}

using kernels::ignored_label;

/// What the loss is divided by: 1 (sum), the rows not ignored, or all rows.
double loss_divisor(const int64_t *labels, int64_t rows, const CrossEntropyOptions &options) {
  if (options.sum)
    return 1.0;
  if (!options.has_ignore_index)
    return static_cast<double>(rows);
  int64_t counted = 0;
  for (int64_t r = 0; r < rows; ++r)
    counted += !ignored_label(labels[r], options);
  return static_cast<double>(counted);
}

} // namespace

CLEAVE_CPU_MULTIVERSION // see cleave/rt/vmath.h
    void cross_entropy(const float *logits, const int64_t *labels, float *loss, int64_t rows,
                       int64_t classes, int32_t *invalid_flag, const CrossEntropyOptions &options) {
  require(kernels::check_cross_entropy(rows, classes));
  const float smoothing = options.label_smoothing;
  // Summed in double: a float sum over a large batch would lose the last
  // digits that distinguish one step's loss from the next.
  double total = 0.0;
#pragma omp parallel for schedule(static) reduction(+ : total) if (worth_parallel(rows * classes))
  for (int64_t r = 0; r < rows; ++r) {
    const int64_t label = labels[r];
    if (ignored_label(label, options))
      continue;
    if (label < 0 || label >= classes) {
      flag_invalid(invalid_flag);
      continue;
    }
    const float *row = logits + r * classes;
    const LogSumExp lse = log_sum_exp(row, classes);
    // (max - logit) first: both are large and close, their difference is
    // exact, and the small log term then keeps its digits.
    float row_loss = (lse.max - row[label]) + std::log(lse.sum);
    if (smoothing != 0.0f) {
      // The smoothed target's term: the mean over classes of -log p.
      double shifted = 0.0;
      for (int64_t v = 0; v < classes; ++v)
        shifted += static_cast<double>(lse.max - row[v]);
      const float uniform =
          static_cast<float>(shifted / static_cast<double>(classes)) + std::log(lse.sum);
      row_loss = (1.0f - smoothing) * row_loss + smoothing * uniform;
    }
    total += static_cast<double>(row_loss);
  }
  *loss = static_cast<float>(total / loss_divisor(labels, rows, options));
}

CLEAVE_CPU_MULTIVERSION // see cleave/rt/vmath.h
    void cross_entropy_grad(const float *logits, const int64_t *labels, const float *dloss,
                            float *dlogits, int64_t rows, int64_t classes, int32_t *invalid_flag,
                            const CrossEntropyOptions &options) {
  require(kernels::check_cross_entropy(rows, classes));
  const float scale = *dloss / static_cast<float>(loss_divisor(labels, rows, options));
  const float smoothing = options.label_smoothing;
  const float uniform_target = smoothing * scale / static_cast<float>(classes);
  const float label_target = (1.0f - smoothing) * scale;
#pragma omp parallel for schedule(static) if (worth_parallel(rows * classes))
  for (int64_t r = 0; r < rows; ++r) {
    const int64_t label = labels[r];
    float *out = dlogits + r * classes;
    const bool skip = ignored_label(label, options);
    if (skip || label < 0 || label >= classes) {
      if (!skip)
        flag_invalid(invalid_flag);
      std::memset(out, 0, classes * sizeof(float));
      continue;
    }
    const float *row = logits + r * classes;
    // The exponentials go to `out` on the way (one exp per element, not two).
    const float max = row_max(row, classes);
    const float probability_scale = scale / row_exp_sum(row, max, out, classes);
    if (smoothing != 0.0f) {
      for (int64_t v = 0; v < classes; ++v)
        out[v] = out[v] * probability_scale - uniform_target;
    } else {
      for (int64_t v = 0; v < classes; ++v)
        out[v] *= probability_scale;
    }
    out[label] -= label_target;
  }
}

} // namespace cleave::rt::cpu
