//===- conv.cpp - 2-D convolution by im2col + sgemm -----------------------===//
//
// The algorithm and its checks are the plan's (cleave/rt/kernels/conv.h).
// Here im2col fills each row (c, kh, kw) of the column matrix with, for
// every output position, the input element that filter tap meets (0 in the
// padding), branch-free over the valid range (window.h); col2im_add walks
// the same ranges back; OpenBLAS does the products.
//
//===----------------------------------------------------------------------===//

#include "cleave/rt/kernels/conv.h"
#include "cleave/rt/kernels.h"

#include "parallel.h"
#include "require.h"
#include "window.h"

#include <cstring>

namespace cleave::rt::cpu {
namespace {

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

/// The CPU's primitives of kernels::Conv2dAlgorithm.
struct CpuConv2d {
  static constexpr kernels::Sgemm matmul = cpu::matmul;

  static void im2col(const float *image, float *col, const Conv2dParams &p) {
    cpu::im2col(image, col, p);
  }

  static void col2im(const float *col, float *image, const Conv2dParams &p) {
    std::memset(image, 0, p.in_channels * p.in_height * p.in_width * sizeof(float));
    col2im_add(col, image, p);
  }

  static void fill_bias(const float *bias, float *out, const kernels::Conv2dPlan &plan,
                        const Conv2dParams &p) {
    const int64_t positions = p.out_height * p.out_width;
#pragma omp parallel for schedule(static) if (worth_parallel(plan.output_size))
    for (int64_t f = 0; f < p.out_channels; ++f)
      for (int64_t i = 0; i < positions; ++i)
        out[f * positions + i] = bias[f];
  }

  static void zero(float *data, int64_t count) { std::memset(data, 0, count * sizeof(float)); }
};

using Conv2d = kernels::Conv2dAlgorithm<CpuConv2d>;

} // namespace

void conv2d(const float *x, const float *filter, const float *bias, float *y,
            const Conv2dParams &params, void *scratch) {
  kernels::Conv2dPlan plan;
  require(kernels::plan_conv2d(params, scratch, plan));
  Conv2d::forward(plan, params, x, filter, bias, y, scratch);
}

void conv2d_grad_input(const float *dy, const float *filter, float *dx, const Conv2dParams &params,
                       void *scratch) {
  kernels::Conv2dPlan plan;
  require(kernels::plan_conv2d_grad_input(params, scratch, plan));
  Conv2d::grad_input(plan, params, dy, filter, dx, scratch);
}

void conv2d_grad_filter(const float *x, const float *dy, float *dfilter, const Conv2dParams &params,
                        void *scratch) {
  kernels::Conv2dPlan plan;
  require(kernels::plan_conv2d_grad_filter(params, scratch, plan));
  Conv2d::grad_filter(plan, params, x, dy, dfilter, scratch);
}

} // namespace cleave::rt::cpu
