//===- conv_bf16.cpp - convolutions with operands rounded to bfloat16 -----===//
//
// `--precision bf16` for cleave.conv2d and its gradients. A convolution here
// is im2col + sgemm (conv.cpp), and im2col only copies elements (padding
// adds exact zeros), so rounding the input before im2col equals rounding the
// GEMM operand after it: round x, the filter and dy into fp32 copies in the
// scratch (laid out by kernels::conv2d_bf16_scratch) and run the fp32
// kernels on them. Like matmul_bf16, exact bf16 products summed in fp32.
//
//===----------------------------------------------------------------------===//

#include "cleave/rt/bf16.h"
#include "cleave/rt/kernels.h"
#include "cleave/rt/kernels/conv.h"

#include "parallel.h"
#include "require.h"

namespace cleave::rt::cpu {
namespace {

/// Rounded copies start at this alignment (a cache line, an AVX-512 vector).
constexpr int64_t kScratchAlignment = 64;

/// Rounds `from` into the plan's copy and returns the copy.
const float *rounded(const float *from, const kernels::RoundedOperand &copy) {
#pragma omp parallel for schedule(static) if (worth_parallel(copy.count))
  for (int64_t i = 0; i < copy.count; ++i)
    copy.to[i] = round_to_bf16(from[i]);
  return copy.to;
}

} // namespace

int64_t conv2d_bf16_scratch_bytes(const Conv2dParams &params) {
  return kernels::conv2d_bf16_scratch(params, kScratchAlignment).total;
}

void conv2d_bf16(const float *x, const float *filter, const float *bias, float *y,
                 const Conv2dParams &params, void *scratch) {
  kernels::Conv2dBf16Plan plan;
  require(kernels::plan_conv2d_bf16(params, scratch, kScratchAlignment, plan));
  conv2d(rounded(x, plan.x), rounded(filter, plan.filter), bias, y, params, plan.conv_scratch);
}

void conv2d_grad_input_bf16(const float *dy, const float *filter, float *dx,
                            const Conv2dParams &params, void *scratch) {
  kernels::Conv2dBf16Plan plan;
  require(kernels::plan_conv2d_grad_input_bf16(params, scratch, kScratchAlignment, plan));
  conv2d_grad_input(rounded(dy, plan.dy), rounded(filter, plan.filter), dx, params,
                    plan.conv_scratch);
}

void conv2d_grad_filter_bf16(const float *x, const float *dy, float *dfilter,
                             const Conv2dParams &params, void *scratch) {
  kernels::Conv2dBf16Plan plan;
  require(kernels::plan_conv2d_grad_filter_bf16(params, scratch, kScratchAlignment, plan));
  conv2d_grad_filter(rounded(x, plan.x), rounded(dy, plan.dy), dfilter, params, plan.conv_scratch);
}

} // namespace cleave::rt::cpu
