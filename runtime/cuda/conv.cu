//===- conv.cu - 2-D convolution by im2col + cuBLAS ------------------------===//
//
// The CPU's algorithm (runtime/cpu/conv.cpp), one image at a time so that
// the caller's scratch holds one image's im2col matrix [C*KH*KW, OH*OW]:
//   forward      y[g]      = filter[g] @ col[g]
//   grad input   dcol[g]   = filter[g]^T @ dy[g], then col2im sums dcol
//                            back onto dx
//   grad filter  dfilter[g] += dy[g] @ col[g]^T over the batch
// each one strided-batched sgemm over the groups. col2im runs one thread per
// input pixel that gathers its taps in the CPU's (kh, kw) order: no atomics,
// and the same sums bit for bit.
//
//===----------------------------------------------------------------------===//

#include "common.cuh"

namespace cleave::rt::cuda {
namespace {

bool is_pointwise(const Conv2dParams &p) {
  return p.kernel_height == 1 && p.kernel_width == 1 && p.stride_height == 1 &&
         p.stride_width == 1 && p.pad_top == 0 && p.pad_left == 0 && p.pad_bottom == 0 &&
         p.pad_right == 0;
}

void check_params(const Conv2dParams &p) {
  KERNEL_CHECK(p.batch >= 0 && p.in_channels >= 0 && p.in_height >= 0 && p.in_width >= 0 &&
                   p.out_channels >= 0 && p.kernel_height >= 1 && p.kernel_width >= 1,
               "bad conv2d sizes");
  KERNEL_CHECK(p.stride_height >= 1 && p.stride_width >= 1 && p.dilation_height >= 1 &&
                   p.dilation_width >= 1,
               "conv2d strides and dilations must be positive");
  KERNEL_CHECK(p.pad_top >= 0 && p.pad_left >= 0 && p.pad_bottom >= 0 && p.pad_right >= 0,
               "negative conv2d padding");
  KERNEL_CHECK(p.groups >= 1 && p.in_channels % p.groups == 0 && p.out_channels % p.groups == 0,
               "conv2d groups must divide both channel counts");
  KERNEL_CHECK(
      p.out_height == window_output_size(p.in_height, p.kernel_height, p.stride_height, p.pad_top,
                                         p.pad_bottom, p.dilation_height, false) &&
          p.out_width == window_output_size(p.in_width, p.kernel_width, p.stride_width, p.pad_left,
                                            p.pad_right, p.dilation_width, false),
      "conv2d output extents disagree with the window");
}

/// Sizes of the per-group matrix products.
struct GroupGemm {
  int64_t filters;   // F / groups: rows of y[g]
  int64_t taps;      // C / groups * KH * KW: the contraction
  int64_t positions; // OH * OW: columns of y[g]
};

GroupGemm group_gemm(const Conv2dParams &p) {
  return {p.out_channels / p.groups, p.in_channels / p.groups * p.kernel_height * p.kernel_width,
          p.out_height * p.out_width};
}

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

void im2col(const float *image, float *col, const Conv2dParams &p) {
  const int64_t total =
      p.in_channels * p.kernel_height * p.kernel_width * p.out_height * p.out_width;
  if (total == 0)
    return;
  im2col_kernel<<<blocks_for(total), kBlockSize>>>(image, col, p);
  CLEAVE_CUDA_CHECK_LAUNCH();
}

void col2im(const float *col, float *image, const Conv2dParams &p) {
  const int64_t total = p.in_channels * p.in_height * p.in_width;
  if (total == 0)
    return;
  col2im_kernel<<<blocks_for(total), kBlockSize>>>(col, image, p);
  CLEAVE_CUDA_CHECK_LAUNCH();
}

} // namespace

int64_t window_output_size(int64_t input, int64_t window, int64_t stride, int64_t pad_before,
                           int64_t pad_after, int64_t dilation, bool ceil_mode) {
  const int64_t span = dilation * (window - 1) + 1;
  const int64_t room = input + pad_before + pad_after - span;
  if (room < 0)
    return 0;
  int64_t outputs = (ceil_mode ? (room + stride - 1) / stride : room / stride) + 1;
  // In ceil mode a last window that would start inside the trailing padding
  // does not count.
  if (ceil_mode && (outputs - 1) * stride >= input + pad_before)
    --outputs;
  return outputs;
}

int64_t conv2d_scratch_bytes(const Conv2dParams &params) {
  if (is_pointwise(params))
    return 0;
  return params.in_channels * params.kernel_height * params.kernel_width * params.out_height *
         params.out_width * static_cast<int64_t>(sizeof(float));
}

void conv2d(const float *x, const float *filter, const float *bias, float *y,
            const Conv2dParams &params, void *scratch) {
  check_params(params);
  const GroupGemm gemm = group_gemm(params);
  const bool pointwise = is_pointwise(params);
  KERNEL_CHECK(pointwise || scratch, "conv2d needs conv2d_scratch_bytes() of scratch");
  auto *col = static_cast<float *>(scratch);
  const int64_t image_size = params.in_channels * params.in_height * params.in_width;
  const int64_t output_size = params.out_channels * gemm.positions;
  for (int64_t n = 0; n < params.batch; ++n) {
    const float *image = x + n * image_size;
    float *out = y + n * output_size;
    if (!pointwise)
      im2col(image, col, params);
    if (bias && output_size > 0) {
      fill_bias_kernel<<<blocks_for(output_size), kBlockSize>>>(bias, out, params.out_channels,
                                                                gemm.positions);
      CLEAVE_CUDA_CHECK_LAUNCH();
    }
    matmul(filter, pointwise ? image : col, out, params.groups, gemm.filters, gemm.positions,
           gemm.taps, false, false, gemm.filters * gemm.taps, gemm.taps * gemm.positions,
           /*accumulate=*/bias != nullptr);
  }
}

void conv2d_grad_input(const float *dy, const float *filter, float *dx, const Conv2dParams &params,
                       void *scratch) {
  check_params(params);
  const GroupGemm gemm = group_gemm(params);
  const bool pointwise = is_pointwise(params);
  KERNEL_CHECK(pointwise || scratch, "conv2d_grad_input needs conv2d_scratch_bytes() of scratch");
  auto *col = static_cast<float *>(scratch);
  const int64_t image_size = params.in_channels * params.in_height * params.in_width;
  const int64_t output_size = params.out_channels * gemm.positions;
  for (int64_t n = 0; n < params.batch; ++n) {
    float *image = dx + n * image_size;
    // For a pointwise filter the column matrix is the image gradient itself.
    matmul(filter, dy + n * output_size, pointwise ? image : col, params.groups, gemm.taps,
           gemm.positions, gemm.filters, true, false, gemm.filters * gemm.taps,
           gemm.filters * gemm.positions, false);
    if (!pointwise)
      col2im(col, image, params); // writes every element of the image
  }
}

void conv2d_grad_filter(const float *x, const float *dy, float *dfilter, const Conv2dParams &params,
                        void *scratch) {
  check_params(params);
  const GroupGemm gemm = group_gemm(params);
  const bool pointwise = is_pointwise(params);
  KERNEL_CHECK(pointwise || scratch, "conv2d_grad_filter needs conv2d_scratch_bytes() of scratch");
  auto *col = static_cast<float *>(scratch);
  const int64_t image_size = params.in_channels * params.in_height * params.in_width;
  const int64_t output_size = params.out_channels * gemm.positions;
  const int64_t filter_size = params.out_channels * gemm.taps;
  if (params.batch == 0 && filter_size > 0)
    CLEAVE_CUDA_CHECK(cudaMemsetAsync(dfilter, 0, filter_size * sizeof(float), 0));
  for (int64_t n = 0; n < params.batch; ++n) {
    const float *image = x + n * image_size;
    if (!pointwise)
      im2col(image, col, params);
    matmul(dy + n * output_size, pointwise ? image : col, dfilter, params.groups, gemm.filters,
           gemm.taps, gemm.positions, false, true, gemm.filters * gemm.positions,
           gemm.taps * gemm.positions, /*accumulate=*/n > 0);
  }
}

} // namespace cleave::rt::cuda
