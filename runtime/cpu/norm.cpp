//===- norm.cpp - layer and batch normalisation, forward and backward -----===//
//
// Statistics are two-pass (mean, then mean squared deviation), which stays
// accurate where E[x^2] - E[x]^2 would cancel. Batch norm sums whole
// channels (up to batch * H * W elements) in double; layer norm rows are
// short enough for float.
//
//===----------------------------------------------------------------------===//

#include "cleave/rt/kernels/norm.h"
#include "cleave/rt/kernels.h"
#include "cleave/rt/vmath.h"

#include "parallel.h"
#include "require.h"

#include <algorithm>
#include <cmath>

namespace cleave::rt::cpu {
namespace {

// Column block for the dscale/dbias pass of layer_norm_grad.
constexpr int64_t kColumnBlock = 256;

using kernels::RowStats;

RowStats row_stats(const float *x, int64_t cols, float epsilon) {
  float sum = 0.0f;
#pragma omp simd reduction(+ : sum)
  for (int64_t c = 0; c < cols; ++c)
    sum += x[c];
  const float mean = sum / static_cast<float>(cols);
  float squares = 0.0f;
#pragma omp simd reduction(+ : squares)
  for (int64_t c = 0; c < cols; ++c)
    squares += (x[c] - mean) * (x[c] - mean);
  const float var = squares / static_cast<float>(cols);
  return {mean, 1.0f / std::sqrt(var + epsilon)};
}

/// Mean and 1/sqrt(var + epsilon) of channel c of x [batch, channels, spatial].
RowStats channel_stats(const float *x, int64_t batch, int64_t channels, int64_t spatial, int64_t c,
                       float epsilon, double *biased_var) {
  const double count = static_cast<double>(batch * spatial);
  double sum = 0.0;
  for (int64_t b = 0; b < batch; ++b) {
    const float *plane = x + (b * channels + c) * spatial;
#pragma omp simd reduction(+ : sum)
    for (int64_t s = 0; s < spatial; ++s)
      sum += plane[s];
  }
  const double mean = sum / count;
  double squares = 0.0;
  for (int64_t b = 0; b < batch; ++b) {
    const float *plane = x + (b * channels + c) * spatial;
#pragma omp simd reduction(+ : squares)
    for (int64_t s = 0; s < spatial; ++s)
      squares += (plane[s] - mean) * (plane[s] - mean);
  }
  *biased_var = squares / count;
  return {static_cast<float>(mean),
          static_cast<float>(1.0 / std::sqrt(*biased_var + static_cast<double>(epsilon)))};
}

} // namespace

CLEAVE_CPU_MULTIVERSION // see cleave/rt/vmath.h
    void layer_norm(const float *x, const float *scale, const float *bias, float *y, int64_t rows,
                    int64_t cols, float epsilon) {
  require(kernels::check_layer_norm(rows, cols));
#pragma omp parallel for schedule(static) if (worth_parallel(rows * cols))
  for (int64_t r = 0; r < rows; ++r) {
    const float *in = x + r * cols;
    float *out = y + r * cols;
    const RowStats stats = row_stats(in, cols, epsilon);
#pragma omp simd
    for (int64_t c = 0; c < cols; ++c)
      out[c] = (in[c] - stats.mean) * stats.rstd * scale[c] + (bias ? bias[c] : 0.0f);
  }
}

CLEAVE_CPU_MULTIVERSION // see cleave/rt/vmath.h
    void layer_norm_grad(const float *x, const float *scale, const float *dy, float *dx,
                         float *dscale, float *dbias, int64_t rows, int64_t cols, float epsilon,
                         void *scratch) {
  require(kernels::check_layer_norm_grad(rows, cols, scratch));
  auto *stats = static_cast<RowStats *>(scratch);
  const float inverse_cols = 1.0f / static_cast<float>(cols);

  // Pass 1, one row per work item: statistics, then dx.
#pragma omp parallel for schedule(static) if (worth_parallel(rows * cols))
  for (int64_t r = 0; r < rows; ++r) {
    const float *in = x + r * cols;
    const float *grad = dy + r * cols;
    const RowStats row = stats[r] = row_stats(in, cols, epsilon);
    if (!dx)
      continue;
    float sum_g = 0.0f, sum_g_xhat = 0.0f;
#pragma omp simd reduction(+ : sum_g, sum_g_xhat)
    for (int64_t c = 0; c < cols; ++c) {
      const float g = grad[c] * scale[c];
      sum_g += g;
      sum_g_xhat += g * (in[c] - row.mean) * row.rstd;
    }
    const float mean_g = sum_g * inverse_cols, mean_g_xhat = sum_g_xhat * inverse_cols;
    float *out = dx + r * cols;
#pragma omp simd
    for (int64_t c = 0; c < cols; ++c) {
      const float xhat = (in[c] - row.mean) * row.rstd;
      out[c] = row.rstd * (grad[c] * scale[c] - mean_g - xhat * mean_g_xhat);
    }
  }

  // Pass 2, one column block per work item: dscale and dbias sum over rows,
  // so splitting by columns lets threads accumulate without sharing.
  if (!dscale && !dbias)
    return;
  const int64_t blocks = (cols + kColumnBlock - 1) / kColumnBlock;
#pragma omp parallel for schedule(static) if (worth_parallel(rows * cols))
  for (int64_t block = 0; block < blocks; ++block) {
    const int64_t begin = block * kColumnBlock;
    const int64_t end = std::min(cols, begin + kColumnBlock);
    float scale_sum[kColumnBlock] = {}, bias_sum[kColumnBlock] = {};
    for (int64_t r = 0; r < rows; ++r) {
      const float *in = x + r * cols;
      const float *grad = dy + r * cols;
      const RowStats row = stats[r];
#pragma omp simd
      for (int64_t c = begin; c < end; ++c) {
        scale_sum[c - begin] += grad[c] * (in[c] - row.mean) * row.rstd;
        bias_sum[c - begin] += grad[c];
      }
    }
    for (int64_t c = begin; c < end; ++c) {
      if (dscale)
        dscale[c] = scale_sum[c - begin];
      if (dbias)
        dbias[c] = bias_sum[c - begin];
    }
  }
}

void batch_norm_train(const float *x, const float *scale, const float *bias,
                      const float *running_mean, const float *running_var, float *y,
                      float *new_running_mean, float *new_running_var, int64_t batch,
                      int64_t channels, int64_t spatial, float epsilon, float momentum) {
  require(kernels::check_batch_norm_train(batch, channels, spatial));
  const int64_t count = batch * spatial;
  const double bessel = static_cast<double>(count) / static_cast<double>(count - 1);
#pragma omp parallel for schedule(static) if (worth_parallel(channels * count))
  for (int64_t c = 0; c < channels; ++c) {
    double var;
    const RowStats stats = channel_stats(x, batch, channels, spatial, c, epsilon, &var);
    const float gain = stats.rstd * scale[c];
    const float shift = bias[c] - stats.mean * gain;
    for (int64_t b = 0; b < batch; ++b) {
      const float *in = x + (b * channels + c) * spatial;
      float *out = y + (b * channels + c) * spatial;
#pragma omp simd
      for (int64_t s = 0; s < spatial; ++s)
        out[s] = in[s] * gain + shift;
    }
    new_running_mean[c] = kernels::running_average(running_mean[c], momentum, stats.mean);
    new_running_var[c] =
        kernels::running_average(running_var[c], momentum, static_cast<float>(var * bessel));
  }
}

void batch_norm_grad(const float *x, const float *scale, const float *dy, float *dx, float *dscale,
                     float *dbias, int64_t batch, int64_t channels, int64_t spatial,
                     float epsilon) {
  require(kernels::check_batch_norm_grad(batch, channels, spatial));
  const int64_t count = batch * spatial;
#pragma omp parallel for schedule(static) if (worth_parallel(channels * count))
  for (int64_t c = 0; c < channels; ++c) {
    double var;
    const RowStats stats = channel_stats(x, batch, channels, spatial, c, epsilon, &var);
    double sum_dy = 0.0, sum_dy_xhat = 0.0;
    for (int64_t b = 0; b < batch; ++b) {
      const float *in = x + (b * channels + c) * spatial;
      const float *grad = dy + (b * channels + c) * spatial;
#pragma omp simd reduction(+ : sum_dy, sum_dy_xhat)
      for (int64_t s = 0; s < spatial; ++s) {
        sum_dy += grad[s];
        sum_dy_xhat += grad[s] * (in[s] - stats.mean) * stats.rstd;
      }
    }
    kernels::store_batch_norm_param_grads(dscale, dbias, c, sum_dy, sum_dy_xhat);
    if (!dx)
      continue;
    const kernels::BatchNormGradTerms terms =
        kernels::batch_norm_grad_terms(sum_dy, sum_dy_xhat, count, scale[c], stats.rstd);
    for (int64_t b = 0; b < batch; ++b) {
      const float *in = x + (b * channels + c) * spatial;
      const float *grad = dy + (b * channels + c) * spatial;
      float *out = dx + (b * channels + c) * spatial;
#pragma omp simd
      for (int64_t s = 0; s < spatial; ++s)
        out[s] = terms.dx(grad[s], (in[s] - stats.mean) * stats.rstd);
    }
  }
}

} // namespace cleave::rt::cpu
