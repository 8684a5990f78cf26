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

float *rounded(const float *from, int64_t count, void *scratch, int64_t offset) {
  float *to = reinterpret_cast<float *>(static_cast<char *>(scratch) + offset);
#pragma omp parallel for schedule(static) if (worth_parallel(count))
  for (int64_t i = 0; i < count; ++i)
    to[i] = round_to_bf16(from[i]);
  return to;
}

kernels::Conv2dBf16Scratch layout(const Conv2dParams &params) {
  return kernels::conv2d_bf16_scratch(params, kScratchAlignment);
}

void *conv_scratch(void *scratch, const kernels::Conv2dBf16Scratch &l) {
  return static_cast<char *>(scratch) + l.conv_offset;
}

} // namespace

int64_t conv2d_bf16_scratch_bytes(const Conv2dParams &params) { return layout(params).total; }

void conv2d_bf16(const float *x, const float *filter, const float *bias, float *y,
                 const Conv2dParams &params, void *scratch) {
  require(kernels::check_conv2d_bf16(scratch));
  const kernels::Conv2dBf16Scratch l = layout(params);
  conv2d(rounded(x, l.x_elements, scratch, l.x_offset),
         rounded(filter, l.filter_elements, scratch, l.filter_offset), bias, y, params,
         conv_scratch(scratch, l));
}

void conv2d_grad_input_bf16(const float *dy, const float *filter, float *dx,
                            const Conv2dParams &params, void *scratch) {
  require(kernels::check_conv2d_grad_input_bf16(scratch));
  const kernels::Conv2dBf16Scratch l = layout(params);
  conv2d_grad_input(rounded(dy, l.dy_elements, scratch, l.dy_offset),
                    rounded(filter, l.filter_elements, scratch, l.filter_offset), dx, params,
                    conv_scratch(scratch, l));
}

void conv2d_grad_filter_bf16(const float *x, const float *dy, float *dfilter,
                             const Conv2dParams &params, void *scratch) {
  require(kernels::check_conv2d_grad_filter_bf16(scratch));
  const kernels::Conv2dBf16Scratch l = layout(params);
  conv2d_grad_filter(rounded(x, l.x_elements, scratch, l.x_offset),
                     rounded(dy, l.dy_elements, scratch, l.dy_offset), dfilter, params,
                     conv_scratch(scratch, l));
}

} // namespace cleave::rt::cpu
