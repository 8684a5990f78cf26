//===- conv.cu - 2-D convolution by im2col + cuBLAS ------------------------===//
//
// The algorithm and its checks are the plan's (cleave/rt/kernels/conv.h),
// one image at a time so that the caller's scratch holds one image's im2col
// matrix; each product is one strided-batched sgemm over the groups. im2col
// runs one thread per column-matrix element; col2im one thread per input
// pixel that gathers its taps in the CPU's (kh, kw) order: no atomics, and
// the same sums bit for bit.
//
//===----------------------------------------------------------------------===//

#include "common.cuh"
#include "require.cuh"

#include "cleave/rt/kernels/conv.h"

namespace cleave::rt::cuda {
namespace {

/// col[(c, kh, kw), (oh, ow)] = image[c, oh*sh - pt + kh*dh, ow*sw - pl + kw*dw] or 0.
__global__ void im2col_kernel(const float *image, float *col, Conv2dParams p) {
  const int64_t positions = p.out_height * p.out_width;
  const int64_t total = p.in_channels * p.kernel_height * p.kernel_width * positions;
  for (int64_t i = global_thread(); i < total; i += grid_threads()) {
    const int64_t row = i / positions, position = i % positions;
    const int64_t oh = position / p.out_width, ow = position % p.out_width;
    const int64_t kw = row % p.kernel_width;
    const int64_t kh = (row / p.kernel_width) % p.kernel_height;
    const int64_t c = row / (p.kernel_width * p.kernel_height);
    const int64_t ih = oh * p.stride_height - p.pad_top + kh * p.dilation_height;
    const int64_t iw = ow * p.stride_width - p.pad_left + kw * p.dilation_width;
    const bool inside = ih >= 0 && ih < p.in_height && iw >= 0 && iw < p.in_width;
    col[i] = inside ? image[(c * p.in_height + ih) * p.in_width + iw] : 0.0f;
  }
}

/// The output index o of a tap at `offset` (kernel position times dilation)
/// that reads input index i, or -1: o * stride - pad_before + offset == i.
__device__ inline int64_t tap_output(int64_t i, int64_t pad_before, int64_t offset, int64_t stride,
                                     int64_t outputs) {
  const int64_t scaled = i + pad_before - offset;
  if (scaled < 0 || scaled % stride != 0)
    return -1;
  const int64_t o = scaled / stride;
  return o < outputs ? o : -1;
}

/// image[c, ih, iw] = sum of the col entries im2col took from there.
__global__ void col2im_kernel(const float *col, float *image, Conv2dParams p) {
  const int64_t positions = p.out_height * p.out_width;
  const int64_t plane = p.in_height * p.in_width;
  const int64_t total = p.in_channels * plane;
  for (int64_t i = global_thread(); i < total; i += grid_threads()) {
    const int64_t c = i / plane, ih = (i % plane) / p.in_width, iw = i % p.in_width;
    float sum = 0.0f;
    for (int64_t kh = 0; kh < p.kernel_height; ++kh) {
      const int64_t oh =
          tap_output(ih, p.pad_top, kh * p.dilation_height, p.stride_height, p.out_height);
      if (oh < 0)
        continue;
      for (int64_t kw = 0; kw < p.kernel_width; ++kw) {
        const int64_t ow =
            tap_output(iw, p.pad_left, kw * p.dilation_width, p.stride_width, p.out_width);
        if (ow < 0)
          continue;
        const int64_t row = (c * p.kernel_height + kh) * p.kernel_width + kw;
        sum += col[row * positions + oh * p.out_width + ow];
      }
    }
    image[i] = sum;
  }
}

/// out[f, :] = bias[f] for one image.
__global__ void fill_bias_kernel(const float *bias, float *out, int64_t filters,
                                 int64_t positions) {
  for (int64_t i = global_thread(); i < filters * positions; i += grid_threads())
    out[i] = bias[i / positions];
}

/// The CUDA primitives of kernels::Conv2dAlgorithm; col2im runs one thread
/// per input pixel, which writes every element of the image.
struct CudaConv2d {
  static constexpr kernels::Sgemm matmul = cuda::matmul;

  static void im2col(const float *image, float *col, const Conv2dParams &p) {
    const int64_t total =
        p.in_channels * p.kernel_height * p.kernel_width * p.out_height * p.out_width;
    if (total == 0)
      return;
    im2col_kernel<<<blocks_for(total), kBlockSize>>>(image, col, p);
    CLEAVE_CUDA_CHECK_LAUNCH();
  }

  static void col2im(const float *col, float *image, const Conv2dParams &p) {
    const int64_t total = p.in_channels * p.in_height * p.in_width;
    if (total == 0)
      return;
    col2im_kernel<<<blocks_for(total), kBlockSize>>>(col, image, p);
    CLEAVE_CUDA_CHECK_LAUNCH();
  }

  static void fill_bias(const float *bias, float *out, const kernels::Conv2dPlan &plan,
                        const Conv2dParams &p) {
    if (plan.output_size == 0)
      return;
    fill_bias_kernel<<<blocks_for(plan.output_size), kBlockSize>>>(bias, out, p.out_channels,
                                                                   p.out_height * p.out_width);
    CLEAVE_CUDA_CHECK_LAUNCH();
  }

  static void zero(float *data, int64_t count) {
    if (count > 0)
      CLEAVE_CUDA_CHECK(cudaMemsetAsync(data, 0, count * sizeof(float), 0));
  }
};

using Conv2d = kernels::Conv2dAlgorithm<CudaConv2d>;

} // namespace
} // namespace cleave::rt::cuda

// The kernels of api.inc, defined qualified: a definition that does not
// match its declaration does not compile.
namespace cleave::rt {

void cuda::conv2d(const float *x, const float *filter, const float *bias, float *y,
                  const Conv2dParams &params, void *scratch) {
  kernels::Conv2dPlan plan;
  require(kernels::plan_conv2d(params, scratch, plan));
  Conv2d::forward(plan, params, x, filter, bias, y, scratch);
}

void cuda::conv2d_grad_input(const float *dy, const float *filter, float *dx,
                             const Conv2dParams &params, void *scratch) {
  kernels::Conv2dPlan plan;
  require(kernels::plan_conv2d_grad_input(params, scratch, plan));
  Conv2d::grad_input(plan, params, dy, filter, dx, scratch);
}

void cuda::conv2d_grad_filter(const float *x, const float *dy, float *dfilter,
                              const Conv2dParams &params, void *scratch) {
  kernels::Conv2dPlan plan;
  require(kernels::plan_conv2d_grad_filter(params, scratch, plan));
  Conv2d::grad_filter(plan, params, x, dy, dfilter, scratch);
}

} // namespace cleave::rt
