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

namespace cleave::rt::cuda {
namespace {

/// Threads of the block that folds the per-row losses.
constexpr int kFoldBlockSize = 1024;

void check_sizes(int64_t rows, int64_t classes) {
  KERNEL_CHECK(rows > 0 && classes > 0, "cross_entropy needs rows > 0 and classes > 0");
}

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

template <typename Group>
__global__ void cross_entropy_rows_kernel(const float *logits, const int64_t *labels,
                                          double *row_loss, int64_t rows, int64_t classes,
                                          int32_t *invalid_flag) {
  const Group group;
  for (int64_t r = group.first(); r < rows; r += group.stride()) {
    const int64_t label = labels[r];
    if (!valid_label(label, classes)) {
      if (group.rank() == 0) {
        if (invalid_flag)
          *invalid_flag = 1;
        row_loss[r] = 0.0; // adds nothing; the divisor stays `rows`
      }
      continue;
    }
    const float *row = logits + r * classes;
    const LogSumExp lse = log_sum_exp(group, row, classes);
    // (max - logit) first: both are large and close, their difference is
    // exact, and the small log term then keeps its digits.
    if (group.rank() == 0)
      row_loss[r] = static_cast<double>((lse.max - row[label]) + logf(lse.sum));
  }
}

__global__ void mean_loss_kernel(const double *row_loss, float *loss, int64_t rows) {
  double total = 0.0;
  for (int64_t r = threadIdx.x; r < rows; r += blockDim.x)
    total += row_loss[r];
  total = block_reduce(total, Sum<double>(), 0.0);
  if (threadIdx.x == 0)
    *loss = static_cast<float>(total / static_cast<double>(rows));
}

template <typename Group>
__global__ void cross_entropy_grad_kernel(const float *logits, const int64_t *labels,
                                          const float *dloss, float *dlogits, int64_t rows,
                                          int64_t classes, int32_t *invalid_flag) {
  const Group group;
  const float scale = *dloss / static_cast<float>(rows);
  for (int64_t r = group.first(); r < rows; r += group.stride()) {
    const int64_t label = labels[r];
    float *out = dlogits + r * classes;
    if (!valid_label(label, classes)) {
      if (group.rank() == 0 && invalid_flag)
        *invalid_flag = 1;
      for (int64_t v = group.rank(); v < classes; v += group.size())
        out[v] = 0.0f;
      continue;
    }
    const float *row = logits + r * classes;
    const LogSumExp lse = log_sum_exp(group, row, classes);
    const float probability_scale = scale / lse.sum;
    for (int64_t v = group.rank(); v < classes; v += group.size()) {
      float value = expf(row[v] - lse.max) * probability_scale;
      if (v == label)
        value -= scale;
      out[v] = value;
    }
  }
}

} // namespace

void cross_entropy(const float *logits, const int64_t *labels, float *loss, int64_t rows,
                   int64_t classes, int32_t *invalid_flag) {
  check_sizes(rows, classes);
  auto *row_loss = static_cast<double *>(detail::scratch(rows * sizeof(double)));
  for_lines(rows, classes, 1, [&](auto group, unsigned blocks, int threads) {
    cross_entropy_rows_kernel<decltype(group)>
        <<<blocks, threads>>>(logits, labels, row_loss, rows, classes, invalid_flag);
  });
  mean_loss_kernel<<<1, kFoldBlockSize>>>(row_loss, loss, rows);
  CLEAVE_CUDA_CHECK_LAUNCH();
}

void cross_entropy_grad(const float *logits, const int64_t *labels, const float *dloss,
                        float *dlogits, int64_t rows, int64_t classes, int32_t *invalid_flag) {
  check_sizes(rows, classes);
  for_lines(rows, classes, 1, [&](auto group, unsigned blocks, int threads) {
    cross_entropy_grad_kernel<decltype(group)>
        <<<blocks, threads>>>(logits, labels, dloss, dlogits, rows, classes, invalid_flag);
  });
}

} // namespace cleave::rt::cuda
