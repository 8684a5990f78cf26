//===- loss.cu - softmax cross-entropy and its gradient --------------------===//
//
// The CPU kernels' arithmetic (runtime/cpu/loss.cpp), one row per warp or
// block. The mean over rows needs every row's loss at once, so the forward
// pass writes per-row losses (in double, as the CPU sums them) to the
// library's scratch buffer and a one-block kernel folds them in a fixed
// order: the loss is the same from run to run.
//
//===----------------------------------------------------------------------===//

#include "common.cuh"
#include "require.cuh"

#include "cleave/rt/kernels/loss.h"

namespace cleave::rt::cuda {
namespace {

/// Threads of the block that folds the per-row losses.
constexpr int kFoldBlockSize = 1024;

struct LogSumExp {
  float max;
  float sum; // sum exp(x - max)
};

template <typename Group>
__device__ LogSumExp log_sum_exp(const Group &group, const float *row, int64_t classes) {
  float max = -INFINITY;
  for (int64_t v = group.rank(); v < classes; v += group.size())
    max = row[v] > max ? row[v] : max;
  max = group.reduce(max, MaxSkipNan(), -INFINITY);
  float sum = 0.0f;
  for (int64_t v = group.rank(); v < classes; v += group.size())
    sum += expf(row[v] - max);
  return {max, group.reduce(sum, Sum<float>(), 0.0f)};
}

/// A label is the same for the whole group, so the branch on it is uniform.
__device__ inline bool valid_label(int64_t label, int64_t classes) {
  return label >= 0 && label < classes;
}

using kernels::ignored_label;

template <typename Group>
__global__ void cross_entropy_rows_kernel(const float *logits, const int64_t *labels,
                                          double *row_loss, int64_t rows, int64_t classes,
                                          int32_t *invalid_flag, CrossEntropyOptions options) {
  const Group group;
  for (int64_t r = group.first(); r < rows; r += group.stride()) {
    const int64_t label = labels[r];
    if (ignored_label(label, options) || !valid_label(label, classes)) {
      if (group.rank() == 0) {
        if (invalid_flag && !ignored_label(label, options))
          *invalid_flag = 1;
        row_loss[r] = 0.0; // adds nothing
      }
      continue;
    }
    const float *row = logits + r * classes;
    const LogSumExp lse = log_sum_exp(group, row, classes);
    // (max - logit) first: both are large and close, their difference is
    // exact, and the small log term then keeps its digits.
    float loss = (lse.max - row[label]) + logf(lse.sum);
    if (options.label_smoothing != 0.0f) {
      // The smoothed target's term: the mean over classes of -log p.
      double shifted = 0.0;
      for (int64_t v = group.rank(); v < classes; v += group.size())
        shifted += static_cast<double>(lse.max - row[v]);
      shifted = group.reduce(shifted, Sum<double>(), 0.0);
      const float uniform =
          static_cast<float>(shifted / static_cast<double>(classes)) + logf(lse.sum);
      loss = (1.0f - options.label_smoothing) * loss + options.label_smoothing * uniform;
    }
    if (group.rank() == 0)
      row_loss[r] = static_cast<double>(loss);
  }
}

/// The forward's divisor (cleave/rt/kernels.h), folded by one block.
__device__ double loss_divisor(const int64_t *labels, int64_t rows,
                               const CrossEntropyOptions &options) {
  if (options.sum)
    return 1.0;
  if (!options.has_ignore_index)
    return static_cast<double>(rows);
  double counted = 0.0;
  for (int64_t r = threadIdx.x; r < rows; r += blockDim.x)
    counted += ignored_label(labels[r], options) ? 0.0 : 1.0;
  return block_reduce(counted, Sum<double>(), 0.0);
}

__global__ void mean_loss_kernel(const double *row_loss, const int64_t *labels, float *loss,
                                 int64_t rows, CrossEntropyOptions options) {
  double total = 0.0;
  for (int64_t r = threadIdx.x; r < rows; r += blockDim.x)
    total += row_loss[r];
  total = block_reduce(total, Sum<double>(), 0.0);
  const double divisor = loss_divisor(labels, rows, options);
  if (threadIdx.x == 0)
    *loss = static_cast<float>(total / divisor);
}

/// *scale = *dloss / divisor, for the gradient kernel.
__global__ void grad_scale_kernel(const int64_t *labels, const float *dloss, float *scale,
                                  int64_t rows, CrossEntropyOptions options) {
  const double divisor = loss_divisor(labels, rows, options);
  if (threadIdx.x == 0)
    *scale = *dloss / static_cast<float>(divisor);
}

template <typename Group>
__global__ void cross_entropy_grad_kernel(const float *logits, const int64_t *labels,
                                          const float *scale_pointer, float *dlogits, int64_t rows,
                                          int64_t classes, int32_t *invalid_flag,
                                          CrossEntropyOptions options) {
  const Group group;
  const float scale = *scale_pointer;
  const float uniform_target = options.label_smoothing * scale / static_cast<float>(classes);
  const float label_target = (1.0f - options.label_smoothing) * scale;
  for (int64_t r = group.first(); r < rows; r += group.stride()) {
    const int64_t label = labels[r];
    float *out = dlogits + r * classes;
    if (ignored_label(label, options) || !valid_label(label, classes)) {
      if (group.rank() == 0 && invalid_flag && !ignored_label(label, options))
        *invalid_flag = 1;
      for (int64_t v = group.rank(); v < classes; v += group.size())
        out[v] = 0.0f;
      continue;
    }
    const float *row = logits + r * classes;
    const LogSumExp lse = log_sum_exp(group, row, classes);
    const float probability_scale = scale / lse.sum;
    for (int64_t v = group.rank(); v < classes; v += group.size()) {
      float value = expf(row[v] - lse.max) * probability_scale - uniform_target;
      if (v == label)
        value -= label_target;
      out[v] = value;
    }
  }
}

} // namespace
} // namespace cleave::rt::cuda

// The kernels of api.inc, defined qualified: a definition that does not
// match its declaration does not compile.
namespace cleave::rt {

void cuda::cross_entropy(const float *logits, const int64_t *labels, float *loss, int64_t rows,
                         int64_t classes, int32_t *invalid_flag,
                         const CrossEntropyOptions &options) {
  require(kernels::check_cross_entropy(rows, classes));
  auto *row_loss = static_cast<double *>(detail::scratch(rows * sizeof(double)));
  for_lines(rows, classes, 1, [&](auto group, unsigned blocks, int threads) {
    cross_entropy_rows_kernel<decltype(group)>
        <<<blocks, threads>>>(logits, labels, row_loss, rows, classes, invalid_flag, options);
  });
  mean_loss_kernel<<<1, kFoldBlockSize>>>(row_loss, labels, loss, rows, options);
  CLEAVE_CUDA_CHECK_LAUNCH();
}

void cuda::cross_entropy_grad(const float *logits, const int64_t *labels, const float *dloss,
                              float *dlogits, int64_t rows, int64_t classes, int32_t *invalid_flag,
                              const CrossEntropyOptions &options) {
  require(kernels::check_cross_entropy(rows, classes));
  auto *scale = static_cast<float *>(detail::scratch(sizeof(float)));
  grad_scale_kernel<<<1, kFoldBlockSize>>>(labels, dloss, scale, rows, options);
  CLEAVE_CUDA_CHECK_LAUNCH();
  for_lines(rows, classes, 1, [&](auto group, unsigned blocks, int threads) {
    cross_entropy_grad_kernel<decltype(group)>
        <<<blocks, threads>>>(logits, labels, scale, dlogits, rows, classes, invalid_flag, options);
  });
}

} // namespace cleave::rt
