//===- cuda_kernels.h - the kernels generated CUDA train steps call --------===//
//
// The CUDA backend of kernels.h: the same functions (one declaration list,
// kernels/api.inc) and the same numbers (within fp32 rounding), in
// namespace cleave::rt::cuda, implemented in runtime/cuda (library
// cleave_rt_cuda). The parameter structs and enums are kernels::'s, so
// that K::Conv2dParams{...} means the same on both targets. Where kernels.h
// says nothing else, its conventions hold here too. What differs:
//
//   - Tensor pointers are device pointers: every tensor argument, the
//     scalar `loss` of cross_entropy and `dloss` of cross_entropy_grad
//     included. Shape metadata stays on the host: shape, axes,
//     permutation, starts, strides, output_shape, axis_sizes, and concat's
//     array of (device) input pointers are host arrays.
//   - `invalid_flag` is a device int32 (or null). The CUDA run_training
//     hands the step a device flag of its own and, after each step, ORs it
//     into the driver's host flag (StepBuffers::invalid_index).
//   - Kernels are asynchronous: they queue work on the legacy default
//     stream (stream 0) and return; stream order keeps them in sequence
//     with each other and with cudaMemcpy on that stream.
//   - The library keeps per-device state that no caller sees: a cuBLAS
//     handle and a grow-only scratch buffer (cross_entropy's per-row
//     losses, the partial results of long reductions). A mutex guards
//     both, but the buffer is shared: one host thread per device calls the
//     kernels at a time (a generated step runs on one thread). Kernels run
//     on the calling thread's current device (cudaSetDevice).
//   - matmul runs cuBLAS in plain fp32 (no TF32 tensor cores) so that its
//     products match the CPU's to ~1e-6 relative; set_allow_tf32(true)
//     trades that for speed (~1e-3 relative).
//     matmul_bf16 always uses tensor cores (bf16 inputs, fp32 sums); TF32
//     does not apply to it.
//   - scatter_add sums repeated indices with atomicAdd: the same sum as
//     the CPU within rounding, but not bit-for-bit the same from run to run.
//     Every other kernel is deterministic.
//   - philox4x32_10 is a host function on host arrays (it is the block
//     function itself; bernoulli_mask is its device use).
//   - set_num_threads accepts any count >= 1 and changes nothing;
//     get_num_threads answers 1 (host threads do not apply to a GPU).
//   - matmul_bf16 is a bf16 tensor-core GEMM with fp32 accumulation and
//     fp32 C: a conversion kernel rounds A and B into `scratch` (device
//     memory of matmul_bf16_scratch_bytes(), which counts 2 bytes per
//     element, not the CPU's 4), then cublasGemmStridedBatchedEx. Same
//     operand bits as the CPU's matmul_bf16; only the order of the fp32
//     sums differs.
//   - the bf16-operand convolutions round into fp32 copies in `scratch`,
//     then run the fp32 kernels (cuBLAS sgemm, not tensor cores: the
//     numbers of --precision bf16, not its speed).
//   - f64 matmul and reduce are CPU only.
//
//===----------------------------------------------------------------------===//
#ifndef CLEAVE_RT_CUDA_KERNELS_H
#define CLEAVE_RT_CUDA_KERNELS_H

#include "cleave/rt/cuda_check.h"
#include "cleave/rt/kernels/sizes.h"
#include "cleave/rt/kernels/types.h"

#include <cstdint>

namespace cleave::rt::cuda {

#include "cleave/rt/kernels/api.inc"

// CUDA only

/// Lets matmul use TF32 tensor cores (10-bit mantissa inputs, fp32
/// accumulation) on Ampere and later. Off by default; applies to later calls.
void set_allow_tf32(bool allow);
bool allow_tf32();

} // namespace cleave::rt::cuda

#endif // CLEAVE_RT_CUDA_KERNELS_H
