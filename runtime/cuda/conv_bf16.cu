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
#include "require.cuh"

#include "cleave/rt/kernels/conv.h"

#include "cleave/rt/bf16.h"

namespace cleave::rt::cuda {
namespace {

/// cudaMalloc and cuBLAS alignment for each rounded copy.
constexpr int64_t kScratchAlignment = 256;

__global__ void round_kernel(const float *__restrict__ from, float *__restrict__ to, int64_t n) {
  for (int64_t i = global_thread(); i < n; i += grid_threads())
    to[i] = round_to_bf16(from[i]);
}

/// Rounds `from` into the plan's copy and returns the copy.
const float *rounded(const float *from, const kernels::RoundedOperand &copy) {
  if (copy.count > 0) {
    round_kernel<<<blocks_for(copy.count), kBlockSize>>>(from, copy.to, copy.count);
    CLEAVE_CUDA_CHECK_LAUNCH();
  }
  return copy.to;
}

} // namespace
} // namespace cleave::rt::cuda

// The kernels of api.inc, defined qualified: a definition that does not
// match its declaration does not compile.
namespace cleave::rt {

int64_t cuda::conv2d_bf16_scratch_bytes(const Conv2dParams &params) {
  return kernels::conv2d_bf16_scratch(params, kScratchAlignment).total;
}

void cuda::conv2d_bf16(const float *x, const float *filter, const float *bias, float *y,
                       const Conv2dParams &params, void *scratch) {
  kernels::Conv2dBf16Plan plan;
  require(kernels::plan_conv2d_bf16(params, scratch, kScratchAlignment, plan));
  conv2d(rounded(x, plan.x), rounded(filter, plan.filter), bias, y, params, plan.conv_scratch);
}

void cuda::conv2d_grad_input_bf16(const float *dy, const float *filter, float *dx,
                                  const Conv2dParams &params, void *scratch) {
  kernels::Conv2dBf16Plan plan;
  require(kernels::plan_conv2d_grad_input_bf16(params, scratch, kScratchAlignment, plan));
  conv2d_grad_input(rounded(dy, plan.dy), rounded(filter, plan.filter), dx, params,
                    plan.conv_scratch);
}

void cuda::conv2d_grad_filter_bf16(const float *x, const float *dy, float *dfilter,
                                   const Conv2dParams &params, void *scratch) {
  kernels::Conv2dBf16Plan plan;
  require(kernels::plan_conv2d_grad_filter_bf16(params, scratch, kScratchAlignment, plan));
  conv2d_grad_filter(rounded(x, plan.x), rounded(dy, plan.dy), dfilter, params, plan.conv_scratch);
}

} // namespace cleave::rt
