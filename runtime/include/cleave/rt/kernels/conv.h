//===- conv.h - the plan of a 2-D convolution by im2col + GEMM -------------===//
//
// Both backends convolve one image at a time: im2col lays the image out as
// a [C*KH*KW, OH*OW] matrix (one row per filter tap), then, with the filter
// viewed as [F, C/groups*KH*KW] and the rows of each group together,
//   forward      y[g]       = filter[g] @ col[g]
//   grad input   dcol[g]    = filter[g]^T @ dy[g], then col2im sums dcol
//                             back onto dx (overlapping taps add)
//   grad filter  dfilter[g] += dy[g] @ col[g]^T over the batch
// each one batched matmul over the groups. A 1x1, stride-1, unpadded
// filter needs no im2col: the image already is that matrix. The plan
// checks the parameters and sizes those products, Conv2dAlgorithm runs
// them; im2col, col2im and the GEMM are each backend's.
//
//===----------------------------------------------------------------------===//
#ifndef CLEAVE_RT_KERNELS_CONV_H
#define CLEAVE_RT_KERNELS_CONV_H

#include "cleave/rt/kernels/check.h"
#include "cleave/rt/kernels/sizes.h"

#include <cstdint>

namespace cleave::rt::kernels {

/// One batched matmul of kernels.h: which operands are transposed and how
/// far apart the groups' matrices are.
struct GemmShape {
  int64_t batch, m, n, k;
  bool transpose_a, transpose_b;
  int64_t batch_stride_a, batch_stride_b;
};

struct Conv2dPlan {
  /// The image is its own im2col matrix (no scratch is read or written).
  bool pointwise = false;
  /// Elements of one image of x (dx) and of one image of y (dy).
  int64_t image_size = 0, output_size = 0;
  /// Elements of the filter (dfilter).
  int64_t filter_size = 0;
  /// The per-image products, over the groups:
  GemmShape forward;     // y = filter @ col
  GemmShape grad_input;  // dcol = filter^T @ dy
  GemmShape grad_filter; // dfilter (+)= dy @ col^T
};

/// Check the parameters (and that scratch is there when needed) of the
/// kernels.h functions of the same names.
CheckFailure plan_conv2d(const Conv2dParams &params, const void *scratch, Conv2dPlan &plan);
CheckFailure plan_conv2d_grad_input(const Conv2dParams &params, const void *scratch,
                                    Conv2dPlan &plan);
CheckFailure plan_conv2d_grad_filter(const Conv2dParams &params, const void *scratch,
                                     Conv2dPlan &plan);

/// A backend's fp32 matmul (kernels.h's signature).
using Sgemm = void (*)(const float *a, const float *b, float *c, int64_t batch, int64_t m,
                       int64_t n, int64_t k, bool transpose_a, bool transpose_b,
                       int64_t batch_stride_a, int64_t batch_stride_b, bool accumulate);

/// The algorithm above, one image at a time, on a backend's primitives:
///   Backend::matmul, an Sgemm;
///   Backend::im2col(image, col, params), the column matrix of one image;
///   Backend::col2im(col, image, params), which sets the image to the sum
///     of the column entries taken from each of its elements;
///   Backend::fill_bias(bias, out, plan, params), out[f, :] = bias[f];
///   Backend::zero(data, count).
template <typename Backend> struct Conv2dAlgorithm {
  static void forward(const Conv2dPlan &plan, const Conv2dParams &params, const float *x,
                      const float *filter, const float *bias, float *y, void *scratch) {
    auto *col = static_cast<float *>(scratch);
    for (int64_t n = 0; n < params.batch; ++n) {
      const float *image = x + n * plan.image_size;
      float *out = y + n * plan.output_size;
      if (!plan.pointwise)
        Backend::im2col(image, col, params);
      if (bias)
        Backend::fill_bias(bias, out, plan, params);
      multiply(filter, plan.pointwise ? image : col, out, plan.forward, bias != nullptr);
    }
  }

  static void grad_input(const Conv2dPlan &plan, const Conv2dParams &params, const float *dy,
                         const float *filter, float *dx, void *scratch) {
    auto *col = static_cast<float *>(scratch);
    for (int64_t n = 0; n < params.batch; ++n) {
      float *image = dx + n * plan.image_size;
      // For a pointwise filter the column matrix is the image gradient itself.
      multiply(filter, dy + n * plan.output_size, plan.pointwise ? image : col, plan.grad_input,
               false);
      if (!plan.pointwise)
        Backend::col2im(col, image, params);
    }
  }

  static void grad_filter(const Conv2dPlan &plan, const Conv2dParams &params, const float *x,
                          const float *dy, float *dfilter, void *scratch) {
    auto *col = static_cast<float *>(scratch);
    if (params.batch == 0)
      Backend::zero(dfilter, plan.filter_size);
    for (int64_t n = 0; n < params.batch; ++n) {
      const float *image = x + n * plan.image_size;
      if (!plan.pointwise)
        Backend::im2col(image, col, params);
      multiply(dy + n * plan.output_size, plan.pointwise ? image : col, dfilter, plan.grad_filter,
               /*accumulate=*/n > 0);
    }
  }

private:
  static void multiply(const float *a, const float *b, float *c, const GemmShape &shape,
                       bool accumulate) {
    const Sgemm matmul = Backend::matmul;
    matmul(a, b, c, shape.batch, shape.m, shape.n, shape.k, shape.transpose_a, shape.transpose_b,
           shape.batch_stride_a, shape.batch_stride_b, accumulate);
  }
};

/// Where conv2d_bf16 and its gradients keep, in their scratch, the operands
/// rounded to bfloat16 (as fp32) and then the fp32 kernels' own scratch.
/// Offsets in bytes, each a multiple of the backend's alignment.
struct Conv2dBf16Scratch {
  int64_t x_elements, filter_elements, dy_elements;
  int64_t x_offset, filter_offset, dy_offset, conv_offset, total;
};

Conv2dBf16Scratch conv2d_bf16_scratch(const Conv2dParams &params, int64_t alignment);

/// Where one operand's rounded copy goes: `count` floats at `to`.
struct RoundedOperand {
  float *to;
  int64_t count;
};

/// The bf16 convolutions: round the operands into the scratch, then run
/// the fp32 kernel on the copies with the rest of the scratch.
struct Conv2dBf16Plan {
  RoundedOperand x, filter, dy;
  void *conv_scratch;
};

/// Check that the kernels.h functions of the same names got their scratch
/// (they need it whatever the sizes) and place the copies in it.
CheckFailure plan_conv2d_bf16(const Conv2dParams &params, void *scratch, int64_t alignment,
                              Conv2dBf16Plan &plan);
CheckFailure plan_conv2d_grad_input_bf16(const Conv2dParams &params, void *scratch,
                                         int64_t alignment, Conv2dBf16Plan &plan);
CheckFailure plan_conv2d_grad_filter_bf16(const Conv2dParams &params, void *scratch,
                                          int64_t alignment, Conv2dBf16Plan &plan);

} // namespace cleave::rt::kernels

#endif // CLEAVE_RT_KERNELS_CONV_H
