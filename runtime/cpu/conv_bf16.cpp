//===- conv_bf16.cpp - convolutions with operands rounded to bfloat16 -----===//
//
// `--precision bf16` for cleave.conv2d and its gradients. A convolution here
// is im2col + sgemm (conv.cpp), and im2col only copies elements (padding
// adds exact zeros), so rounding the input before im2col equals rounding the
// GEMM operand after it: round x, the filter and dy into fp32 copies in the
// scratch and run the fp32 kernels on them. Like matmul_bf16, exact bf16
// products summed in fp32.
//
//===----------------------------------------------------------------------===//

#include "cleave/rt/bf16.h"
#include "cleave/rt/kernels.h"

#include "check.h"
#include "parallel.h"

namespace cleave::rt::cpu {
namespace {

constexpr int64_t kScratchAlignment = 64;

int64_t align_up(int64_t bytes) {
  return (bytes + kScratchAlignment - 1) / kScratchAlignment * kScratchAlignment;
}

/// Where each rounded operand and the fp32 kernels' own scratch start.
struct Layout {
  int64_t x_elements, filter_elements, dy_elements;
  int64_t x_offset, filter_offset, dy_offset, conv_offset, total;
};

Layout layout(const Conv2dParams &p) {
  Layout l{};
  l.x_elements = p.batch * p.in_channels * p.in_height * p.in_width;
  l.filter_elements =
      p.groups > 0 ? p.out_channels * (p.in_channels / p.groups) * p.kernel_height * p.kernel_width
                   : 0;
  l.dy_elements = p.batch * p.out_channels * p.out_height * p.out_width;
  l.x_offset = 0;
  l.filter_offset = l.x_offset + align_up(l.x_elements * int64_t(sizeof(float)));
  l.dy_offset = l.filter_offset + align_up(l.filter_elements * int64_t(sizeof(float)));
  l.conv_offset = l.dy_offset + align_up(l.dy_elements * int64_t(sizeof(float)));
  l.total = l.conv_offset + cpu::conv2d_scratch_bytes(p);
  return l;
}

float *rounded(const float *from, int64_t count, void *scratch, int64_t offset) {
  float *to = reinterpret_cast<float *>(static_cast<char *>(scratch) + offset);
#pragma omp parallel for schedule(static) if (worth_parallel(count))
  for (int64_t i = 0; i < count; ++i)
    to[i] = round_to_bf16(from[i]);
  return to;
}

void *conv_scratch(void *scratch, const Layout &l) {
  return static_cast<char *>(scratch) + l.conv_offset;
}

} // namespace

int64_t conv2d_bf16_scratch_bytes(const Conv2dParams &params) { return layout(params).total; }

void conv2d_bf16(const float *x, const float *filter, const float *bias, float *y,
                 const Conv2dParams &params, void *scratch) {
  KERNEL_CHECK(scratch, "conv2d_bf16 needs conv2d_bf16_scratch_bytes() of scratch");
  const Layout l = layout(params);
  conv2d(rounded(x, l.x_elements, scratch, l.x_offset),
         rounded(filter, l.filter_elements, scratch, l.filter_offset), bias, y, params,
         conv_scratch(scratch, l));
}

void conv2d_grad_input_bf16(const float *dy, const float *filter, float *dx,
                            const Conv2dParams &params, void *scratch) {
  KERNEL_CHECK(scratch, "conv2d_grad_input_bf16 needs conv2d_bf16_scratch_bytes() of scratch");
  const Layout l = layout(params);
  conv2d_grad_input(rounded(dy, l.dy_elements, scratch, l.dy_offset),
                    rounded(filter, l.filter_elements, scratch, l.filter_offset), dx, params,
                    conv_scratch(scratch, l));
}

void conv2d_grad_filter_bf16(const float *x, const float *dy, float *dfilter,
                             const Conv2dParams &params, void *scratch) {
  KERNEL_CHECK(scratch, "conv2d_grad_filter_bf16 needs conv2d_bf16_scratch_bytes() of scratch");
  const Layout l = layout(params);
  conv2d_grad_filter(rounded(x, l.x_elements, scratch, l.x_offset),
                     rounded(dy, l.dy_elements, scratch, l.dy_offset), dfilter, params,
                     conv_scratch(scratch, l));
}

} // namespace cleave::rt::cpu
