//===- conv.cpp - 2-D convolution by im2col + sgemm -----------------------===//
//
// Per image, im2col lays the input out as a [C*KH*KW, OH*OW] matrix whose
// row (c, kh, kw) holds, for every output position, the input element that
// filter tap meets (0 in the padding). Then, with the filter viewed as
// [F, C/groups*KH*KW] and the rows of each group together:
//   forward      y[g]      = filter[g] @ col[g]
//   grad input   dcol[g]   = filter[g]^T @ dy[g], then col2im sums dcol
//                            back onto dx (overlapping taps add)
//   grad filter  dfilter[g] += dy[g] @ col[g]^T over the batch
// each one batched matmul over the groups. A 1x1, stride-1, unpadded filter
// needs no im2col: the image already is that matrix.
//
//===----------------------------------------------------------------------===//

#include "cleave/rt/kernels.h"

#include "check.h"
#include "parallel.h"
#include "window.h"

#include <cstring>

namespace cleave::rt::cpu {
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

int64_t window_output_size(int64_t input, int64_t window, int64_t stride, int64_t pad_before,
                           int64_t pad_after, int64_t dilation, bool ceil_mode) {
  const int64_t span = dilation * (window - 1) + 1;
  const int64_t room = input + pad_before + pad_after - span;
  if (room < 0)
    return 0;
  int64_t outputs = (ceil_mode ? (room + stride - 1) / stride : room / stride) + 1;
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
    if (bias) {
#pragma omp parallel for schedule(static) if (worth_parallel(output_size))
      for (int64_t f = 0; f < params.out_channels; ++f)
        for (int64_t i = 0; i < gemm.positions; ++i)
          out[f * gemm.positions + i] = bias[f];
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
    if (pointwise)
      continue;
    std::memset(image, 0, image_size * sizeof(float));
    col2im_add(col, image, params);
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
  if (params.batch == 0)
    std::memset(dfilter, 0, params.out_channels * gemm.taps * sizeof(float));
  for (int64_t n = 0; n < params.batch; ++n) {
    const float *image = x + n * image_size;
    if (!pointwise)
      im2col(image, col, params);
    matmul(dy + n * output_size, pointwise ? image : col, dfilter, params.groups, gemm.filters,
           gemm.taps, gemm.positions, false, true, gemm.filters * gemm.positions,
           gemm.taps * gemm.positions, /*accumulate=*/n > 0);
  }
}

} // namespace cleave::rt::cpu
