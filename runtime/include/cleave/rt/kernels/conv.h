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
// checks the parameters and sizes those products; im2col, col2im and the
// GEMM are each backend's.
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

/// Where conv2d_bf16 and its gradients keep, in their scratch, the operands
/// rounded to bfloat16 (as fp32) and then the fp32 kernels' own scratch.
/// Offsets in bytes, each a multiple of the backend's alignment.
struct Conv2dBf16Scratch {
  int64_t x_elements, filter_elements, dy_elements;
  int64_t x_offset, filter_offset, dy_offset, conv_offset, total;
};

Conv2dBf16Scratch conv2d_bf16_scratch(const Conv2dParams &params, int64_t alignment);

/// The bf16 kernels need their scratch whatever the sizes.
CheckFailure check_conv2d_bf16(const void *scratch);
CheckFailure check_conv2d_grad_input_bf16(const void *scratch);
CheckFailure check_conv2d_grad_filter_bf16(const void *scratch);

} // namespace cleave::rt::kernels

#endif // CLEAVE_RT_KERNELS_CONV_H
