//===- norm.cu - layer and batch normalisation, forward and backward -------===//
//
// The CPU kernels' arithmetic (runtime/cpu/norm.cpp): two-pass statistics
// (mean, then mean squared deviation), layer norm in float over a row, batch
// norm in double over a whole channel. A row goes to a warp or a block
// (for_lines), a channel to a block. The parameter gradients of layer norm
// sum over rows, so they run as a second, column-wise kernel: one thread
// per column and a fixed fold order, no atomics.
//
//===----------------------------------------------------------------------===//

#include "common.cuh"
#include "require.cuh"

#include "cleave/rt/kernels/norm.h"

#include <algorithm>

namespace cleave::rt::cuda {
namespace {

using kernels::RowStats;

/// Rows folded per thread in the column pass before it pays to split rows
/// over more blocks.
constexpr int64_t kRowsPerThread = 16;
/// Threads per column in the column pass (blockDim.y).
constexpr int kColumnSplit = 16;

template <typename Group>
__device__ RowStats row_stats(const Group &group, const float *x, int64_t cols, float epsilon) {
  float sum = 0.0f;
  for (int64_t c = group.rank(); c < cols; c += group.size())
    sum += x[c];
  const float mean = group.reduce(sum, Sum<float>(), 0.0f) / static_cast<float>(cols);
  float squares = 0.0f;
  for (int64_t c = group.rank(); c < cols; c += group.size())
    squares += (x[c] - mean) * (x[c] - mean);
  const float var = group.reduce(squares, Sum<float>(), 0.0f) / static_cast<float>(cols);
  return {mean, 1.0f / sqrtf(var + epsilon)};
}

template <typename Group>
__global__ void layer_norm_kernel(const float *x, const float *scale, const float *bias, float *y,
                                  int64_t rows, int64_t cols, float epsilon) {
  const Group group;
  for (int64_t r = group.first(); r < rows; r += group.stride()) {
    const float *in = x + r * cols;
    float *out = y + r * cols;
    const RowStats stats = row_stats(group, in, cols, epsilon);
    for (int64_t c = group.rank(); c < cols; c += group.size())
      out[c] = (in[c] - stats.mean) * stats.rstd * scale[c] + (bias ? bias[c] : 0.0f);
  }
}

/// Pass 1 of layer_norm_grad: per row, the statistics (kept in `stats` for
/// pass 2) and, when wanted, dx.
template <typename Group>
__global__ void layer_norm_grad_rows_kernel(const float *x, const float *scale, const float *dy,
                                            float *dx, RowStats *stats, int64_t rows, int64_t cols,
                                            float epsilon) {
  const Group group;
  const float inverse_cols = 1.0f / static_cast<float>(cols);
  for (int64_t r = group.first(); r < rows; r += group.stride()) {
    const float *in = x + r * cols;
    const float *grad = dy + r * cols;
    const RowStats row = row_stats(group, in, cols, epsilon);
    if (group.rank() == 0)
      stats[r] = row;
    if (!dx)
      continue;
    float sum_g = 0.0f, sum_g_xhat = 0.0f;
    for (int64_t c = group.rank(); c < cols; c += group.size()) {
      const float g = grad[c] * scale[c];
      sum_g += g;
      sum_g_xhat += g * (in[c] - row.mean) * row.rstd;
    }
    const float mean_g = group.reduce(sum_g, Sum<float>(), 0.0f) * inverse_cols;
    const float mean_g_xhat = group.reduce(sum_g_xhat, Sum<float>(), 0.0f) * inverse_cols;
    float *out = dx + r * cols;
    for (int64_t c = group.rank(); c < cols; c += group.size()) {
      const float xhat = (in[c] - row.mean) * row.rstd;
      out[c] = row.rstd * (grad[c] * scale[c] - mean_g - xhat * mean_g_xhat);
    }
  }
}

/// Pass 2: dscale[c] = sum_r dy * xhat, dbias[c] = sum_r dy. Block
/// (32, kColumnSplit) covers 32 columns of one chunk of rows (blockIdx.y);
/// with several chunks the sums go to `partials` ([2][chunks][cols]) for
/// layer_norm_grad_finish_kernel.
__global__ void layer_norm_grad_columns_kernel(const float *x, const float *dy,
                                               const RowStats *stats, float *dscale, float *dbias,
                                               float *partials, int64_t rows, int64_t cols,
                                               int64_t chunks) {
  __shared__ float scale_part[kColumnSplit][kWarpSize + 1];
  __shared__ float bias_part[kColumnSplit][kWarpSize + 1];
  const int64_t c = static_cast<int64_t>(blockIdx.x) * kWarpSize + threadIdx.x;
  const int64_t chunk = ceil_div(rows, chunks);
  const int64_t end = min64(rows, (blockIdx.y + 1) * chunk);
  float scale_sum = 0.0f, bias_sum = 0.0f;
  if (c < cols) {
    for (int64_t r = blockIdx.y * chunk + threadIdx.y; r < end; r += kColumnSplit) {
      const float g = dy[r * cols + c];
      scale_sum += g * (x[r * cols + c] - stats[r].mean) * stats[r].rstd;
      bias_sum += g;
    }
  }
  scale_part[threadIdx.y][threadIdx.x] = scale_sum;
  bias_part[threadIdx.y][threadIdx.x] = bias_sum;
  __syncthreads();
  if (threadIdx.y != 0 || c >= cols)
    return;
  for (int y = 1; y < kColumnSplit; ++y) {
    scale_sum += scale_part[y][threadIdx.x];
    bias_sum += bias_part[y][threadIdx.x];
  }
  if (chunks == 1) {
    if (dscale)
      dscale[c] = scale_sum;
    if (dbias)
      dbias[c] = bias_sum;
  } else {
    partials[blockIdx.y * cols + c] = scale_sum;
    partials[(chunks + blockIdx.y) * cols + c] = bias_sum;
  }
}

__global__ void layer_norm_grad_finish_kernel(const float *partials, float *dscale, float *dbias,
                                              int64_t cols, int64_t chunks) {
  for (int64_t c = global_thread(); c < cols; c += grid_threads()) {
    float scale_sum = 0.0f, bias_sum = 0.0f;
    for (int64_t k = 0; k < chunks; ++k) {
      scale_sum += partials[k * cols + c];
      bias_sum += partials[(chunks + k) * cols + c];
    }
    if (dscale)
      dscale[c] = scale_sum;
    if (dbias)
      dbias[c] = bias_sum;
  }
}

struct ChannelStats {
  float mean;
  float rstd;
  double var; // population variance
};

/// Mean and 1/sqrt(var + epsilon) of channel c of x [batch, channels,
/// spatial], summed in double by the whole block.
__device__ ChannelStats channel_stats(const float *x, int64_t batch, int64_t channels,
                                      int64_t spatial, int64_t c, float epsilon) {
  const BlockGroup group;
  const int64_t count = batch * spatial;
  double sum = 0.0;
  for (int64_t m = group.rank(); m < count; m += group.size())
    sum += x[((m / spatial) * channels + c) * spatial + m % spatial];
  const double mean = group.reduce(sum, Sum<double>(), 0.0) / static_cast<double>(count);
  double squares = 0.0;
  for (int64_t m = group.rank(); m < count; m += group.size()) {
    const double value = x[((m / spatial) * channels + c) * spatial + m % spatial];
    squares += (value - mean) * (value - mean);
  }
  const double var = group.reduce(squares, Sum<double>(), 0.0) / static_cast<double>(count);
  return {static_cast<float>(mean),
          static_cast<float>(1.0 / sqrt(var + static_cast<double>(epsilon))), var};
}

__global__ void batch_norm_train_kernel(const float *x, const float *scale, const float *bias,
                                        const float *running_mean, const float *running_var,
                                        float *y, float *new_running_mean, float *new_running_var,
                                        int64_t batch, int64_t channels, int64_t spatial,
                                        float epsilon, float momentum) {
  const int64_t count = batch * spatial;
  const double bessel = static_cast<double>(count) / static_cast<double>(count - 1);
  for (int64_t c = blockIdx.x; c < channels; c += gridDim.x) {
    const ChannelStats stats = channel_stats(x, batch, channels, spatial, c, epsilon);
    const float gain = stats.rstd * scale[c];
    const float shift = bias[c] - stats.mean * gain;
    for (int64_t m = threadIdx.x; m < count; m += blockDim.x) {
      const int64_t at = ((m / spatial) * channels + c) * spatial + m % spatial;
      y[at] = x[at] * gain + shift;
    }
    if (threadIdx.x == 0) {
      // One thread reads and then writes: the outputs may alias the inputs.
      new_running_mean[c] = kernels::running_average(running_mean[c], momentum, stats.mean);
      new_running_var[c] = kernels::running_average(running_var[c], momentum,
                                                    static_cast<float>(stats.var * bessel));
    }
  }
}

__global__ void batch_norm_grad_kernel(const float *x, const float *scale, const float *dy,
                                       float *dx, float *dscale, float *dbias, int64_t batch,
                                       int64_t channels, int64_t spatial, float epsilon) {
  const BlockGroup group;
  const int64_t count = batch * spatial;
  for (int64_t c = blockIdx.x; c < channels; c += gridDim.x) {
    const ChannelStats stats = channel_stats(x, batch, channels, spatial, c, epsilon);
    double sum_dy = 0.0, sum_dy_xhat = 0.0;
    for (int64_t m = group.rank(); m < count; m += group.size()) {
      const int64_t at = ((m / spatial) * channels + c) * spatial + m % spatial;
      sum_dy += dy[at];
      sum_dy_xhat += dy[at] * (x[at] - stats.mean) * stats.rstd;
    }
    sum_dy = group.reduce(sum_dy, Sum<double>(), 0.0);
    sum_dy_xhat = group.reduce(sum_dy_xhat, Sum<double>(), 0.0);
    if (threadIdx.x == 0)
      kernels::store_batch_norm_param_grads(dscale, dbias, c, sum_dy, sum_dy_xhat);
    if (!dx)
      continue;
    const kernels::BatchNormGradTerms terms =
        kernels::batch_norm_grad_terms(sum_dy, sum_dy_xhat, count, scale[c], stats.rstd);
    for (int64_t m = group.rank(); m < count; m += group.size()) {
      const int64_t at = ((m / spatial) * channels + c) * spatial + m % spatial;
      dx[at] = terms.dx(dy[at], (x[at] - stats.mean) * stats.rstd);
    }
  }
}

/// One block per channel (grid-stride over channels beyond the cap).
unsigned channel_blocks(int64_t channels) { return blocks_for(channels, 1); }

} // namespace
} // namespace cleave::rt::cuda

// The kernels of api.inc, defined qualified: a definition that does not
// match its declaration does not compile.
namespace cleave::rt {

void cuda::layer_norm(const float *x, const float *scale, const float *bias, float *y, int64_t rows,
                      int64_t cols, float epsilon) {
  require(kernels::check_layer_norm(rows, cols));
  for_lines(rows, cols, 1, [&](auto group, unsigned blocks, int threads) {
    layer_norm_kernel<decltype(group)><<<blocks, threads>>>(x, scale, bias, y, rows, cols, epsilon);
  });
}

void cuda::layer_norm_grad(const float *x, const float *scale, const float *dy, float *dx,
                           float *dscale, float *dbias, int64_t rows, int64_t cols, float epsilon,
                           void *scratch) {
  require(kernels::check_layer_norm_grad(rows, cols, scratch));
  auto *stats = static_cast<RowStats *>(scratch);
  for_lines(rows, cols, 1, [&](auto group, unsigned blocks, int threads) {
    layer_norm_grad_rows_kernel<decltype(group)>
        <<<blocks, threads>>>(x, scale, dy, dx, stats, rows, cols, epsilon);
  });
  if (!dscale && !dbias)
    return;
  if (rows == 0) {
    // Sums over no rows.
    if (dscale)
      fill(dscale, cols, 0.0f);
    if (dbias)
      fill(dbias, cols, 0.0f);
    return;
  }
  // Enough row chunks for about two blocks per multiprocessor.
  const int64_t column_blocks = ceil_div(cols, kWarpSize);
  const int64_t wanted = 2 * detail::multiprocessors();
  const int64_t chunks =
      std::clamp<int64_t>(ceil_div(wanted, column_blocks), 1,
                          std::min<int64_t>(65535, ceil_div(rows, kColumnSplit * kRowsPerThread)));
  float *partials = chunks > 1
                        ? static_cast<float *>(detail::scratch(2 * chunks * cols * sizeof(float)))
                        : nullptr;
  const dim3 grid(static_cast<unsigned>(column_blocks), static_cast<unsigned>(chunks));
  layer_norm_grad_columns_kernel<<<grid, dim3(kWarpSize, kColumnSplit)>>>(
      x, dy, stats, dscale, dbias, partials, rows, cols, chunks);
  CLEAVE_CUDA_CHECK_LAUNCH();
  if (chunks > 1) {
    layer_norm_grad_finish_kernel<<<blocks_for(cols), kBlockSize>>>(partials, dscale, dbias, cols,
                                                                    chunks);
    CLEAVE_CUDA_CHECK_LAUNCH();
  }
}

void cuda::batch_norm_train(const float *x, const float *scale, const float *bias,
                            const float *running_mean, const float *running_var, float *y,
                            float *new_running_mean, float *new_running_var, int64_t batch,
                            int64_t channels, int64_t spatial, float epsilon, float momentum) {
  require(kernels::check_batch_norm_train(batch, channels, spatial));
  if (channels == 0)
    return;
  batch_norm_train_kernel<<<channel_blocks(channels), kLineBlockSize>>>(
      x, scale, bias, running_mean, running_var, y, new_running_mean, new_running_var, batch,
      channels, spatial, epsilon, momentum);
  CLEAVE_CUDA_CHECK_LAUNCH();
}

void cuda::batch_norm_grad(const float *x, const float *scale, const float *dy, float *dx,
                           float *dscale, float *dbias, int64_t batch, int64_t channels,
                           int64_t spatial, float epsilon) {
  require(kernels::check_batch_norm_grad(batch, channels, spatial));
  if (channels == 0)
    return;
  batch_norm_grad_kernel<<<channel_blocks(channels), kLineBlockSize>>>(
      x, scale, dy, dx, dscale, dbias, batch, channels, spatial, epsilon);
  CLEAVE_CUDA_CHECK_LAUNCH();
}

} // namespace cleave::rt
