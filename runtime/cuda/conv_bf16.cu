//===- conv_bf16.cu - convolutions with operands rounded to bfloat16 ------===//
//
// The CUDA side of runtime/cpu/conv_bf16.cpp, the same scheme: x, the
// filter and dy are rounded (bf16.h) into fp32 copies in the caller's
// scratch, then conv.cu's fp32 im2col + cuBLAS kernels run on them. The
// numbers of --precision bf16 (exact products, fp32 sums), not its speed:
// the GEMMs stay fp32 sgemm.
//
//===----------------------------------------------------------------------===//

#include "common.cuh"

#include "cleave/rt/bf16.h"

namespace cleave::rt::cuda {
namespace {

/// cudaMalloc and cuBLAS alignment for each rounded copy.
constexpr int64_t kScratchAlignment = 256;

int64_t align_up(int64_t bytes) { return ceil_div(bytes, kScratchAlignment) * kScratchAlignment; }

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
  l.total = l.conv_offset + cuda::conv2d_scratch_bytes(p);
  return l;
}

__global__ void round_kernel(const float *__restrict__ from, float *__restrict__ to, int64_t n) {
  for (int64_t i = global_thread(); i < n; i += grid_threads())
    to[i] = round_to_bf16(from[i]);
}

float *rounded(const float *from, int64_t count, void *scratch, int64_t offset) {
  float *to = reinterpret_cast<float *>(static_cast<char *>(scratch) + offset);
  if (count > 0) {
    round_kernel<<<blocks_for(count), kBlockSize>>>(from, to, count);
    CLEAVE_CUDA_CHECK_LAUNCH();
  }
  return to;
}

void *conv_scratch(void *scratch, const Layout &l) {
  return static_cast<char *>(scratch) + l.conv_offset;
}

} // namespace

// The fp32 kernels are called qualified: Conv2dParams is cpu::Conv2dParams,
// so argument-dependent lookup would also offer the cpu:: overloads.

int64_t conv2d_bf16_scratch_bytes(const Conv2dParams &params) { return layout(params).total; }

void conv2d_bf16(const float *x, const float *filter, const float *bias, float *y,
                 const Conv2dParams &params, void *scratch) {
  KERNEL_CHECK(scratch, "conv2d_bf16 needs conv2d_bf16_scratch_bytes() of scratch");
  const Layout l = layout(params);
  cuda::conv2d(rounded(x, l.x_elements, scratch, l.x_offset),
               rounded(filter, l.filter_elements, scratch, l.filter_offset), bias, y, params,
               conv_scratch(scratch, l));
}

void conv2d_grad_input_bf16(const float *dy, const float *filter, float *dx,
                            const Conv2dParams &params, void *scratch) {
  KERNEL_CHECK(scratch, "conv2d_grad_input_bf16 needs conv2d_bf16_scratch_bytes() of scratch");
  const Layout l = layout(params);
  cuda::conv2d_grad_input(rounded(dy, l.dy_elements, scratch, l.dy_offset),
                          rounded(filter, l.filter_elements, scratch, l.filter_offset), dx, params,
                          conv_scratch(scratch, l));
}

void conv2d_grad_filter_bf16(const float *x, const float *dy, float *dfilter,
                             const Conv2dParams &params, void *scratch) {
  KERNEL_CHECK(scratch, "conv2d_grad_filter_bf16 needs conv2d_bf16_scratch_bytes() of scratch");
  const Layout l = layout(params);
  cuda::conv2d_grad_filter(rounded(x, l.x_elements, scratch, l.x_offset),
                           rounded(dy, l.dy_elements, scratch, l.dy_offset), dfilter, params,
                           conv_scratch(scratch, l));
}

} // namespace cleave::rt::cuda
