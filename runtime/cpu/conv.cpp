//===- conv.cpp - 2-D convolution by im2col + sgemm -----------------------===//
//
// The algorithm and its checks are the plan's (cleave/rt/kernels/conv.h).
// Here im2col fills each row (c, kh, kw) of the column matrix with, for
// every output position, the input element that filter tap meets (0 in the
// padding), branch-free over the valid range (window.h); col2im_add walks
// the same ranges back; OpenBLAS does the products.
//
//===----------------------------------------------------------------------===//

#include "cleave/rt/kernels.h"
#include "cleave/rt/kernels/conv.h"

#include "parallel.h"
#include "require.h"
#include "window.h"

#include <cstring>

namespace cleave::rt::cpu {
namespace {

/// One of the plan's per-image products.
void gemm(const float *a, const float *b, float *c, const kernels::GemmShape &shape,
          bool accumulate) {
  matmul(a, b, c, shape.batch, shape.m, shape.n, shape.k, shape.transpose_a, shape.transpose_b,
         shape.batch_stride_a, shape.batch_stride_b, accumulate);
}

/// col[(c, kh, kw), (oh, ow)] = image[c, oh*sh - pt + kh*dh, ow*sw - pl + kw*dw] or 0.
void im2col(const float *image, float *col, const Conv2dParams &p) {
  const int64_t rows = p.in_channels * p.kernel_height * p.kernel_width;
  const int64_t positions = p.out_height * p.out_width;
#pragma omp parallel for schedule(static) if (worth_parallel(rows * positions))
  for (int64_t row = 0; row < rows; ++row) {
    const int64_t kw = row % p.kernel_width;
    const int64_t kh = (row / p.kernel_width) % p.kernel_height;
    const int64_t c = row / (p.kernel_width * p.kernel_height);
    const OutputRange heights = valid_outputs(p.in_height, p.out_height, p.stride_height, p.pad_top,
                                              kh * p.dilation_height);
    const OutputRange widths =
        valid_outputs(p.in_width, p.out_width, p.stride_width, p.pad_left, kw * p.dilation_width);
    float *out = col + row * positions;
    for (int64_t oh = 0; oh < p.out_height; ++oh) {
      float *line = out + oh * p.out_width;
      if (oh < heights.begin || oh >= heights.end) {
        std::memset(line, 0, p.out_width * sizeof(float));
        continue;
      }
      const int64_t ih = oh * p.stride_height - p.pad_top + kh * p.dilation_height;
      const float *in = image + (c * p.in_height + ih) * p.in_width;
      const int64_t first_iw = kw * p.dilation_width - p.pad_left; // iw of ow = 0
      for (int64_t ow = 0; ow < widths.begin; ++ow)
        line[ow] = 0.0f;
      for (int64_t ow = widths.begin; ow < widths.end; ++ow)
        line[ow] = in[first_iw + ow * p.stride_width];
      for (int64_t ow = widths.end; ow < p.out_width; ++ow)
        line[ow] = 0.0f;
    }
  }
}

/// image[c, ...] += col[(c, kh, kw), ...]: the transpose of im2col. One
/// channel per work item, since only that channel's rows touch its plane.
void col2im_add(const float *col, float *image, const Conv2dParams &p) {
  const int64_t positions = p.out_height * p.out_width;
  const int64_t work = p.in_channels * p.kernel_height * p.kernel_width * positions;
#pragma omp parallel for schedule(static) if (worth_parallel(work))
  for (int64_t c = 0; c < p.in_channels; ++c) {
    for (int64_t kh = 0; kh < p.kernel_height; ++kh) {
      const OutputRange heights = valid_outputs(p.in_height, p.out_height, p.stride_height,
                                                p.pad_top, kh * p.dilation_height);
      for (int64_t kw = 0; kw < p.kernel_width; ++kw) {
        const OutputRange widths = valid_outputs(p.in_width, p.out_width, p.stride_width,
                                                 p.pad_left, kw * p.dilation_width);
        const int64_t row = (c * p.kernel_height + kh) * p.kernel_width + kw;
        for (int64_t oh = heights.begin; oh < heights.end; ++oh) {
          const int64_t ih = oh * p.stride_height - p.pad_top + kh * p.dilation_height;
          float *out = image + (c * p.in_height + ih) * p.in_width;
          const int64_t first_iw = kw * p.dilation_width - p.pad_left;
          const float *line = col + row * positions + oh * p.out_width;
          for (int64_t ow = widths.begin; ow < widths.end; ++ow)
            out[first_iw + ow * p.stride_width] += line[ow];
        }
      }
    }
  }
}

} // namespace

void conv2d(const float *x, const float *filter, const float *bias, float *y,
            const Conv2dParams &params, void *scratch) {
  kernels::Conv2dPlan plan;
  require(kernels::plan_conv2d(params, scratch, plan));
  auto *col = static_cast<float *>(scratch);
  const int64_t positions = params.out_height * params.out_width;
  for (int64_t n = 0; n < params.batch; ++n) {
    const float *image = x + n * plan.image_size;
    float *out = y + n * plan.output_size;
    if (!plan.pointwise)
      im2col(image, col, params);
    if (bias) {
#pragma omp parallel for schedule(static) if (worth_parallel(plan.output_size))
      for (int64_t f = 0; f < params.out_channels; ++f)
        for (int64_t i = 0; i < positions; ++i)
          out[f * positions + i] = bias[f];
    }
    gemm(filter, plan.pointwise ? image : col, out, plan.forward, /*accumulate=*/bias != nullptr);
  }
}

void conv2d_grad_input(const float *dy, const float *filter, float *dx, const Conv2dParams &params,
                       void *scratch) {
  kernels::Conv2dPlan plan;
  require(kernels::plan_conv2d_grad_input(params, scratch, plan));
  auto *col = static_cast<float *>(scratch);
  for (int64_t n = 0; n < params.batch; ++n) {
    float *image = dx + n * plan.image_size;
    // For a pointwise filter the column matrix is the image gradient itself.
    gemm(filter, dy + n * plan.output_size, plan.pointwise ? image : col, plan.grad_input, false);
    if (plan.pointwise)
      continue;
    std::memset(image, 0, plan.image_size * sizeof(float));
    col2im_add(col, image, params);
  }
}

void conv2d_grad_filter(const float *x, const float *dy, float *dfilter, const Conv2dParams &params,
                        void *scratch) {
  kernels::Conv2dPlan plan;
  require(kernels::plan_conv2d_grad_filter(params, scratch, plan));
  auto *col = static_cast<float *>(scratch);
  if (params.batch == 0)
    std::memset(dfilter, 0, plan.filter_size * sizeof(float));
  for (int64_t n = 0; n < params.batch; ++n) {
    const float *image = x + n * plan.image_size;
    if (!plan.pointwise)
      im2col(image, col, params);
    gemm(dy + n * plan.output_size, plan.pointwise ? image : col, dfilter, plan.grad_filter,
         /*accumulate=*/n > 0);
  }
}

} // namespace cleave::rt::cpu
