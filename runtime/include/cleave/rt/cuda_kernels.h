//===- cuda_kernels.h - the kernels generated CUDA train steps call --------===//
//
// The CUDA backend of kernels.h: the same functions with the same
// parameters and the same numbers (within fp32 rounding), in namespace
// cleave::rt::cuda, implemented in runtime/cuda (library cleave_rt_cuda).
// The parameter structs and enums are the CPU ones, so that
// K::Conv2dParams{...} means the same on both targets. Where kernels.h
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
//
//===----------------------------------------------------------------------===//
#ifndef CLEAVE_RT_CUDA_KERNELS_H
#define CLEAVE_RT_CUDA_KERNELS_H

#include "cleave/rt/cuda_check.h"
#include "cleave/rt/kernels.h"

#include <cstdint>

namespace cleave::rt::cuda {

using cpu::Conv2dParams;
using cpu::CrossEntropyOptions;
using cpu::kMaxRank;
using cpu::Pool2dParams;
using cpu::PoolKind;
using cpu::ReduceKind;

// Threads
void set_num_threads(int64_t num_threads);
int64_t get_num_threads();

// Matrix products (cuBLAS)
void matmul(const float *a, const float *b, float *c, int64_t batch, int64_t m, int64_t n,
            int64_t k, bool transpose_a, bool transpose_b, int64_t batch_stride_a,
            int64_t batch_stride_b, bool accumulate);

/// bf16 tensor-core GEMM with fp32 accumulation and fp32 C (`--precision
/// bf16`): a conversion kernel rounds A and B into `scratch` (device memory
/// of matmul_bf16_scratch_bytes(), which counts 2 bytes per element, not
/// the CPU's 4), then cublasGemmStridedBatchedEx. Same operand bits as the
/// CPU's matmul_bf16; only the order of the fp32 sums differs.
int64_t matmul_bf16_scratch_bytes(int64_t batch, int64_t m, int64_t n, int64_t k,
                                  int64_t batch_stride_a, int64_t batch_stride_b);
void matmul_bf16(const float *a, const float *b, float *c, int64_t batch, int64_t m, int64_t n,
                 int64_t k, bool transpose_a, bool transpose_b, int64_t batch_stride_a,
                 int64_t batch_stride_b, bool accumulate, void *scratch);

/// Lets matmul use TF32 tensor cores (10-bit mantissa inputs, fp32
/// accumulation) on Ampere and later. Off by default; applies to later calls.
void set_allow_tf32(bool allow);
bool allow_tf32();

// Reductions
void reduce(const float *input, float *output, int64_t rank, const int64_t *shape,
            const int64_t *axes, int64_t num_axes, ReduceKind kind);
void reduce(const int64_t *input, int64_t *output, int64_t rank, const int64_t *shape,
            const int64_t *axes, int64_t num_axes, ReduceKind kind);

// Softmax
void softmax(const float *x, float *y, int64_t outer, int64_t n, int64_t inner);
void log_softmax(const float *x, float *y, int64_t outer, int64_t n, int64_t inner);
void softmax_grad(const float *y, const float *dy, float *dx, int64_t outer, int64_t n,
                  int64_t inner);
void log_softmax_grad(const float *y, const float *dy, float *dx, int64_t outer, int64_t n,
                      int64_t inner);

// Normalisation
void layer_norm(const float *x, const float *scale, const float *bias, float *y, int64_t rows,
                int64_t cols, float epsilon);
int64_t layer_norm_grad_scratch_bytes(int64_t rows);
void layer_norm_grad(const float *x, const float *scale, const float *dy, float *dx, float *dscale,
                     float *dbias, int64_t rows, int64_t cols, float epsilon, void *scratch);
void batch_norm_train(const float *x, const float *scale, const float *bias,
                      const float *running_mean, const float *running_var, float *y,
                      float *new_running_mean, float *new_running_var, int64_t batch,
                      int64_t channels, int64_t spatial, float epsilon, float momentum);
void batch_norm_grad(const float *x, const float *scale, const float *dy, float *dx, float *dscale,
                     float *dbias, int64_t batch, int64_t channels, int64_t spatial, float epsilon);

// Gather and its gradient
void gather(const void *input, const int64_t *indices, void *output, int64_t outer,
            int64_t axis_size, int64_t count, int64_t inner, int64_t element_bytes,
            int32_t *invalid_flag);
void gather(const void *input, const int32_t *indices, void *output, int64_t outer,
            int64_t axis_size, int64_t count, int64_t inner, int64_t element_bytes,
            int32_t *invalid_flag);
void scatter_add(const float *updates, const int64_t *indices, float *output, int64_t outer,
                 int64_t axis_size, int64_t count, int64_t inner, int32_t *invalid_flag);
void scatter_add(const float *updates, const int32_t *indices, float *output, int64_t outer,
                 int64_t axis_size, int64_t count, int64_t inner, int32_t *invalid_flag);

// Layout
void transpose(const void *input, void *output, int64_t rank, const int64_t *input_shape,
               const int64_t *permutation, int64_t element_bytes);
void broadcast(const void *input, void *output, int64_t input_rank, const int64_t *input_shape,
               int64_t output_rank, const int64_t *output_shape, int64_t element_bytes);
void slice(const void *input, void *output, int64_t rank, const int64_t *input_shape,
           const int64_t *starts, const int64_t *strides, const int64_t *output_shape,
           int64_t element_bytes);
void slice_scatter(const void *input, void *output, int64_t rank, const int64_t *input_shape,
                   const int64_t *starts, const int64_t *strides, const int64_t *output_shape,
                   int64_t element_bytes);
void concat(const void *const *inputs, const int64_t *axis_sizes, int64_t num_inputs, void *output,
            int64_t outer, int64_t inner, int64_t element_bytes);
void iota(int64_t start, int64_t step, int64_t n, int64_t *output);
void iota(int64_t start, int64_t step, int64_t n, float *output);

// Convolution and pooling (NCHW)
int64_t window_output_size(int64_t input, int64_t window, int64_t stride, int64_t pad_before,
                           int64_t pad_after, int64_t dilation, bool ceil_mode);
int64_t conv2d_scratch_bytes(const Conv2dParams &params);
void conv2d(const float *x, const float *filter, const float *bias, float *y,
            const Conv2dParams &params, void *scratch);
void conv2d_grad_input(const float *dy, const float *filter, float *dx, const Conv2dParams &params,
                       void *scratch);
void conv2d_grad_filter(const float *x, const float *dy, float *dfilter, const Conv2dParams &params,
                        void *scratch);
/// bf16-operand convolutions: rounded fp32 copies in `scratch`, then the
/// fp32 kernels above (cuBLAS sgemm, not tensor cores: the numbers of
/// --precision bf16, not its speed).
int64_t conv2d_bf16_scratch_bytes(const Conv2dParams &params);
void conv2d_bf16(const float *x, const float *filter, const float *bias, float *y,
                 const Conv2dParams &params, void *scratch);
void conv2d_grad_input_bf16(const float *dy, const float *filter, float *dx,
                            const Conv2dParams &params, void *scratch);
void conv2d_grad_filter_bf16(const float *x, const float *dy, float *dfilter,
                             const Conv2dParams &params, void *scratch);
void pool2d(const float *x, float *y, const Pool2dParams &params);
void pool2d_grad(const float *x, const float *dy, float *dx, const Pool2dParams &params);

// Loss
void cross_entropy(const float *logits, const int64_t *labels, float *loss, int64_t rows,
                   int64_t classes, int32_t *invalid_flag,
                   const CrossEntropyOptions &options = CrossEntropyOptions());
void cross_entropy_grad(const float *logits, const int64_t *labels, const float *dloss,
                        float *dlogits, int64_t rows, int64_t classes, int32_t *invalid_flag,
                        const CrossEntropyOptions &options = CrossEntropyOptions());

// Random
void philox4x32_10(const uint32_t counter[4], const uint32_t key[2], uint32_t out[4]);
void bernoulli_mask(uint64_t seed, uint64_t offset, int64_t n, float keep_probability,
                    uint8_t *out);

} // namespace cleave::rt::cuda

#endif // CLEAVE_RT_CUDA_KERNELS_H
