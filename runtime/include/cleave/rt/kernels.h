//===- kernels.h - the kernels generated train steps call ----------------===//
//
// One function per cleave op family (and per gradient the train step needs),
// implemented for the CPU in namespace cleave::rt::cpu (OpenBLAS + OpenMP,
// runtime/cpu). A CUDA backend implements the same declarations in
// cleave::rt::cuda with device pointers, which is why every signature holds
// only plain pointers, int64 sizes and small POD parameter structs: no
// containers, no allocation. Kernels that need temporary memory take a
// caller-provided `scratch` pointer sized by the matching *_scratch_bytes().
//
// Conventions for every kernel below:
//   - tensors are dense, row-major (C order) and do not overlap unless a
//     comment says otherwise;
//   - elements are fp32 unless the signature says otherwise; indices are
//     int64 or int32, booleans uint8 (0 or 1);
//   - "any element type" kernels copy `element_bytes`-sized elements and
//     never look at their values;
//   - ranks are at most kMaxRank;
//   - a bad argument that only generated code can cause (mismatched shapes,
//     a rank too large, missing scratch) stops the process with the file
//     and line of the check; bad *data* (an index out of range) never does:
//     it sets `*invalid_flag = 1` and the kernel goes on (see gather);
//   - kernels keep no state: any thread may call any of them, and they use
//     the OpenMP team only when the tensors are large enough to pay for it.
//
//===----------------------------------------------------------------------===//
#ifndef CLEAVE_RT_KERNELS_H
#define CLEAVE_RT_KERNELS_H

#include <cstdint>

namespace cleave::rt::cpu {

/// Largest tensor rank the N-d kernels (reduce, transpose, broadcast, slice)
/// accept; a fixed bound lets them keep index state on the stack (and a CUDA
/// version pass shapes by value).
constexpr int64_t kMaxRank = 8;

//===----------------------------------------------------------------------===//
// Threads
//===----------------------------------------------------------------------===//

/// Sets the number of threads both OpenMP regions and OpenBLAS use.
/// `num_threads` must be >= 1.
void set_num_threads(int64_t num_threads);

/// The number of threads the next parallel kernel will use.
int64_t get_num_threads();

//===----------------------------------------------------------------------===//
// Matrix products
//===----------------------------------------------------------------------===//

/// Batched product: for each batch entry e in [0, batch)
///   C[e] = op(A[e]) @ op(B[e])          (accumulate == false)
///   C[e] += op(A[e]) @ op(B[e])         (accumulate == true)
/// where C[e] = c + e*m*n is [m, n]; A[e] = a + e*batch_stride_a is [m, k],
/// or [k, m] read transposed when transpose_a; B[e] = b + e*batch_stride_b
/// is [k, n], or [n, k] read transposed when transpose_b. A batch stride of
/// 0 reuses one matrix for every batch entry (NumPy broadcasting of a
/// missing or size-1 batch dimension). With accumulate == false, C's prior
/// contents are ignored (may be uninitialised, even NaN).
void matmul(const float *a, const float *b, float *c, int64_t batch, int64_t m, int64_t n,
            int64_t k, bool transpose_a, bool transpose_b, int64_t batch_stride_a,
            int64_t batch_stride_b, bool accumulate);
/// The same in double (dgemm), for f64 models on the CPU.
void matmul(const double *a, const double *b, double *c, int64_t batch, int64_t m, int64_t n,
            int64_t k, bool transpose_a, bool transpose_b, int64_t batch_stride_a,
            int64_t batch_stride_b, bool accumulate);

/// matmul with bfloat16 operands (`--precision bf16`): every element of A
/// and B is first rounded to bfloat16 (round_to_bf16 in bf16.h), then
/// multiplied and summed in fp32 into fp32 C. The product of two bfloat16
/// values is exact in fp32, so this is the CUDA bf16 GEMM's arithmetic up
/// to the order of the sums. `scratch` holds the rounded copies:
/// matmul_bf16_scratch_bytes() with the same sizes and strides.
int64_t matmul_bf16_scratch_bytes(int64_t batch, int64_t m, int64_t n, int64_t k,
                                  int64_t batch_stride_a, int64_t batch_stride_b);
void matmul_bf16(const float *a, const float *b, float *c, int64_t batch, int64_t m, int64_t n,
                 int64_t k, bool transpose_a, bool transpose_b, int64_t batch_stride_a,
                 int64_t batch_stride_b, bool accumulate, void *scratch);

//===----------------------------------------------------------------------===//
// Reductions
//===----------------------------------------------------------------------===//

/// Same numbering as the dialect's ReduceKind.
enum class ReduceKind : int32_t { sum, mean, max, min, prod };

/// Reduces `input` (shape[0..rank)) over `axes` (sorted, unique, in
/// [0, rank); num_axes may be 0: a copy). `output` holds the kept
/// dimensions in their original order: the same bytes whether or not the
/// op keeps the reduced dimensions as 1. Empty reductions give the
/// identity (sum 0, prod 1, max -inf / INT64_MIN, min +inf / INT64_MAX;
/// mean 0/0 = NaN for float, 0 for int64). Float max/min propagate NaN.
/// int64 mean truncates toward zero; int64 overflow is not detected.
void reduce(const float *input, float *output, int64_t rank, const int64_t *shape,
            const int64_t *axes, int64_t num_axes, ReduceKind kind);
void reduce(const int64_t *input, int64_t *output, int64_t rank, const int64_t *shape,
            const int64_t *axes, int64_t num_axes, ReduceKind kind);
/// f64 (CPU only): f64 models such as ONNX's own node tests.
void reduce(const double *input, double *output, int64_t rank, const int64_t *shape,
            const int64_t *axes, int64_t num_axes, ReduceKind kind);

//===----------------------------------------------------------------------===//
// Softmax
//===----------------------------------------------------------------------===//
// The softmax axis is described as [outer, n, inner]: element (o, j, i) is at
// (o*n + j)*inner + i and the kernel normalises over j. For axis `a` of a
// shape d: outer = d[0]*...*d[a-1], n = d[a], inner = d[a+1]*...*d[rank-1].
// Output may alias input (the forward kernels) / dy (the gradients).

/// y = exp(x - max_j x) / sum_j exp(x - max_j x).
void softmax(const float *x, float *y, int64_t outer, int64_t n, int64_t inner);

/// y = x - max_j x - log(sum_j exp(x - max_j x)).
void log_softmax(const float *x, float *y, int64_t outer, int64_t n, int64_t inner);

/// Gradient of softmax from its output y: dx = y * (dy - sum_j(dy * y)).
void softmax_grad(const float *y, const float *dy, float *dx, int64_t outer, int64_t n,
                  int64_t inner);

/// Gradient of log_softmax from its output y: dx = dy - exp(y) * sum_j dy.
void log_softmax_grad(const float *y, const float *dy, float *dx, int64_t outer, int64_t n,
                      int64_t inner);

//===----------------------------------------------------------------------===//
// Normalisation
//===----------------------------------------------------------------------===//

/// Layer normalisation of x [rows, cols] over cols:
///   y = (x - mean) / sqrt(var + epsilon) * scale + bias
/// with the population variance; scale and bias are [cols]; bias may be
/// null (no shift).
void layer_norm(const float *x, const float *scale, const float *bias, float *y, int64_t rows,
                int64_t cols, float epsilon);

/// Bytes of scratch layer_norm_grad needs (per-row mean and 1/std).
int64_t layer_norm_grad_scratch_bytes(int64_t rows);

/// Backward of layer_norm, recomputing mean and rstd = 1/sqrt(var + eps)
/// from x (PyTorch's formula): with xhat = (x - mean) * rstd, g = dy * scale,
///   dx     = rstd * (g - mean_cols(g) - xhat * mean_cols(g * xhat))
///   dscale = sum_rows(dy * xhat)        [cols]
///   dbias  = sum_rows(dy)               [cols]
/// Any of dx, dscale, dbias may be null when not wanted.
void layer_norm_grad(const float *x, const float *scale, const float *dy, float *dx, float *dscale,
                     float *dbias, int64_t rows, int64_t cols, float epsilon, void *scratch);

/// Training-mode batch normalisation of x [batch, channels, spatial]
/// (spatial = product of the dimensions after the channel one). Per channel,
/// with the batch's mean and population variance var over batch*spatial:
///   y = (x - mean) / sqrt(var + epsilon) * scale[c] + bias[c]
///   new_running_mean = (1 - momentum) * running_mean + momentum * mean
///   new_running_var  = (1 - momentum) * running_var + momentum * var * M/(M-1)
/// with M = batch*spatial (the unbiased variance, as PyTorch keeps it), and
/// `momentum` PyTorch's (ONNX's is 1 - momentum). M must be > 1. The
/// new_running_* outputs may alias the running_* inputs (update in place).
void batch_norm_train(const float *x, const float *scale, const float *bias,
                      const float *running_mean, const float *running_var, float *y,
                      float *new_running_mean, float *new_running_var, int64_t batch,
                      int64_t channels, int64_t spatial, float epsilon, float momentum);

/// Training-mode backward of batch_norm_train (the batch statistics depend
/// on x), recomputing mean and rstd from x. Per channel, sums over
/// batch*spatial = M, xhat = (x - mean) * rstd:
///   dbias  = sum(dy)
///   dscale = sum(dy * xhat)
///   dx     = scale * rstd * (dy - dbias / M - xhat * dscale / M)
/// Any of dx, dscale, dbias may be null when not wanted.
void batch_norm_grad(const float *x, const float *scale, const float *dy, float *dx, float *dscale,
                     float *dbias, int64_t batch, int64_t channels, int64_t spatial, float epsilon);

//===----------------------------------------------------------------------===//
// Gather and its gradient
//===----------------------------------------------------------------------===//
// ONNX Gather along `axis`, flattened: input is [outer, axis_size, inner]
// (outer = product of the dimensions before axis, inner after it), the
// indices tensor has `count` elements, and the result is
// [outer, count, inner]. An index i in [-axis_size, axis_size) selects
// slice i (negative ones count from the end, as ONNX says); any other index
// sets *invalid_flag = 1 (when invalid_flag is not null; never cleared) and
// gives a zero slice (gather) / is skipped (scatter_add).

/// output[o, j, :] = input[o, indices[j], :] for elements of any type.
void gather(const void *input, const int64_t *indices, void *output, int64_t outer,
            int64_t axis_size, int64_t count, int64_t inner, int64_t element_bytes,
            int32_t *invalid_flag);
void gather(const void *input, const int32_t *indices, void *output, int64_t outer,
            int64_t axis_size, int64_t count, int64_t inner, int64_t element_bytes,
            int32_t *invalid_flag);

/// The gradient of gather: output [outer, axis_size, inner] is set to zero,
/// then output[o, indices[j], :] += updates[o, j, :] (repeated indices sum).
void scatter_add(const float *updates, const int64_t *indices, float *output, int64_t outer,
                 int64_t axis_size, int64_t count, int64_t inner, int32_t *invalid_flag);
void scatter_add(const float *updates, const int32_t *indices, float *output, int64_t outer,
                 int64_t axis_size, int64_t count, int64_t inner, int32_t *invalid_flag);

//===----------------------------------------------------------------------===//
// Layout: transpose, broadcast, slice, concat, iota (any element type)
//===----------------------------------------------------------------------===//

/// output dimension i is input dimension permutation[i]:
/// output[i0, ..., i{r-1}] = input[j] with j[permutation[d]] = i_d.
void transpose(const void *input, void *output, int64_t rank, const int64_t *input_shape,
               const int64_t *permutation, int64_t element_bytes);

/// NumPy broadcast copy: input_shape is right-aligned against output_shape
/// (input_rank <= output_rank); each input dimension equals the output one
/// or is 1 (repeated).
void broadcast(const void *input, void *output, int64_t input_rank, const int64_t *input_shape,
               int64_t output_rank, const int64_t *output_shape, int64_t element_bytes);

/// Strided window: output [output_shape] with
/// output[i] = input[starts + i * strides] per dimension; strides >= 1 and
/// every selected index lies inside input_shape.
void slice(const void *input, void *output, int64_t rank, const int64_t *input_shape,
           const int64_t *starts, const int64_t *strides, const int64_t *output_shape,
           int64_t element_bytes);

/// The gradient of slice: output [output_shape] (the large shape) is zeroed,
/// then output[starts + i * strides] = input[i] for input [input_shape].
void slice_scatter(const void *input, void *output, int64_t rank, const int64_t *input_shape,
                   const int64_t *starts, const int64_t *strides, const int64_t *output_shape,
                   int64_t element_bytes);

/// Joins num_inputs tensors along one axis. Each input is
/// [outer, axis_sizes[t], inner]; output is [outer, sum(axis_sizes), inner].
void concat(const void *const *inputs, const int64_t *axis_sizes, int64_t num_inputs, void *output,
            int64_t outer, int64_t inner, int64_t element_bytes);

/// output[i] = start + i * step for i in [0, n) (computed in int64, then
/// converted for the float version).
void iota(int64_t start, int64_t step, int64_t n, int64_t *output);
void iota(int64_t start, int64_t step, int64_t n, float *output);

//===----------------------------------------------------------------------===//
// Convolution and pooling (NCHW)
//===----------------------------------------------------------------------===//

/// Output extent of a window sliding over `input` elements, as ONNX and
/// PyTorch define it (the same rule as the dialect's windowOutputSize): in
/// ceil mode a partial last window still counts, but not one that would
/// start inside the trailing padding.
int64_t window_output_size(int64_t input, int64_t window, int64_t stride, int64_t pad_before,
                           int64_t pad_after, int64_t dilation, bool ceil_mode);

/// A 2-D convolution: input [batch, in_channels, in_height, in_width],
/// filter [out_channels, in_channels/groups, kernel_height, kernel_width],
/// output [batch, out_channels, out_height, out_width]. Output channel f
/// sees input channels of group f / (out_channels/groups). The output
/// extents must equal window_output_size(..., ceil_mode = false).
struct Conv2dParams {
  int64_t batch;
  int64_t in_channels, in_height, in_width;
  int64_t out_channels, out_height, out_width;
  int64_t kernel_height, kernel_width;
  int64_t stride_height, stride_width;
  int64_t pad_top, pad_left, pad_bottom, pad_right;
  int64_t dilation_height, dilation_width;
  int64_t groups; // divides both in_channels and out_channels
};

/// Bytes of scratch conv2d, conv2d_grad_input and conv2d_grad_filter need:
/// one image's im2col matrix (0 for a 1x1, stride-1, unpadded filter,
/// which reads the input directly).
int64_t conv2d_scratch_bytes(const Conv2dParams &params);

/// y = conv(x, filter) + bias[f] (cross-correlation, like ONNX and PyTorch);
/// bias [out_channels] may be null.
void conv2d(const float *x, const float *filter, const float *bias, float *y,
            const Conv2dParams &params, void *scratch);

/// dx = the gradient of conv2d with respect to x, given dy [output shape].
void conv2d_grad_input(const float *dy, const float *filter, float *dx, const Conv2dParams &params,
                       void *scratch);

/// dfilter = the gradient of conv2d with respect to the filter, summed over
/// the batch. (The bias gradient is a sum reduce of dy over N, H, W.)
void conv2d_grad_filter(const float *x, const float *dy, float *dfilter, const Conv2dParams &params,
                        void *scratch);

/// The conv2d family with bfloat16 operands (`--precision bf16`): x, filter
/// and dy are rounded to bfloat16 (round_to_bf16 in bf16.h) into `scratch`
/// and the fp32 kernels above run on the copies. Exact products, fp32 sums,
/// fp32 results, like matmul_bf16; bias stays fp32. `scratch` holds
/// conv2d_bf16_scratch_bytes(params) for any of the three.
int64_t conv2d_bf16_scratch_bytes(const Conv2dParams &params);
void conv2d_bf16(const float *x, const float *filter, const float *bias, float *y,
                 const Conv2dParams &params, void *scratch);
void conv2d_grad_input_bf16(const float *dy, const float *filter, float *dx,
                            const Conv2dParams &params, void *scratch);
void conv2d_grad_filter_bf16(const float *x, const float *dy, float *dfilter,
                             const Conv2dParams &params, void *scratch);

/// Same numbering as the dialect's PoolKind.
enum class PoolKind : int32_t { max, avg };

/// 2-D pooling of x [batch, channels, in_height, in_width] into
/// y [batch, channels, out_height, out_width]; the output extents must
/// equal window_output_size(..., dilation 1, ceil_mode). As in PyTorch, a
/// window is first clipped to the padded input (it may stick out past it
/// in ceil mode), then to the input itself:
///   max: the largest input element in the clipped window (padding never
///        wins; NaN wins); an empty window gives -inf;
///   avg: the sum over the window clipped to the input, divided by the
///        window clipped to the padded input (count_include_pad) or clipped
///        to the input (otherwise).
struct Pool2dParams {
  PoolKind kind;
  int64_t batch, channels;
  int64_t in_height, in_width;
  int64_t out_height, out_width;
  int64_t kernel_height, kernel_width;
  int64_t stride_height, stride_width;
  int64_t pad_top, pad_left, pad_bottom, pad_right;
  bool ceil_mode;
  bool count_include_pad; // avg only
};

/// y = the max or average of each window of x, by the rules above.
void pool2d(const float *x, float *y, const Pool2dParams &params);

/// dx from dy [output shape]. Max pooling routes each dy to the first
/// maximum of its window in row-major window order (PyTorch's choice),
/// found again from x; average pooling spreads dy / divisor over the
/// window clipped to the input. Windows overlapping accumulate.
void pool2d_grad(const float *x, const float *dy, float *dx, const Pool2dParams &params);

//===----------------------------------------------------------------------===//
// Loss
//===----------------------------------------------------------------------===//

/// cleave.cross_entropy's attributes: which label a row is ignored for,
/// PyTorch's label smoothing, and the reduction.
struct CrossEntropyOptions {
  bool has_ignore_index = false;
  int64_t ignore_index = -100;
  float label_smoothing = 0.0f;
  bool sum = false; // the sum over rows instead of the mean
};

/// Softmax cross-entropy of logits [rows, classes] against class labels
/// [rows], PyTorch's cross_entropy (no class weights); rows and classes
/// must be > 0. With smoothing s, a row not ignored adds
///   logsumexp(logits[r]) - (1 - s) * logits[r, labels[r]] - s * mean(logits[r])
/// and a row labelled ignore_index adds 0. *loss is the sum (options.sum),
/// else the mean over the rows not ignored (over all rows without an
/// ignore index; 0/0 = NaN when every row is ignored, as in PyTorch).
/// Any other label outside [0, classes) sets *invalid_flag = 1 (when not
/// null; never cleared) and its row adds 0 (the divisor still counts it).
/// `loss` points at one float.
void cross_entropy(const float *logits, const int64_t *labels, float *loss, int64_t rows,
                   int64_t classes, int32_t *invalid_flag,
                   const CrossEntropyOptions &options = CrossEntropyOptions());

/// The gradient of cross_entropy scaled by *dloss (one float):
///   dlogits[r, v] = (softmax(logits[r])[v] - (1 - s) * (v == labels[r]) - s / classes)
///                   * *dloss / divisor
/// (divisor as the forward's). Ignored rows and rows with an invalid label
/// get zero gradient; invalid labels set *invalid_flag = 1.
void cross_entropy_grad(const float *logits, const int64_t *labels, const float *dloss,
                        float *dlogits, int64_t rows, int64_t classes, int32_t *invalid_flag,
                        const CrossEntropyOptions &options = CrossEntropyOptions());

//===----------------------------------------------------------------------===//
// Random
//===----------------------------------------------------------------------===//

/// The Philox4x32-10 block function (Salmon et al., SC'11; Random123's
/// philox4x32 with 10 rounds): out = philox(counter, key).
void philox4x32_10(const uint32_t counter[4], const uint32_t key[2], uint32_t out[4]);

/// Dropout keep-mask: out[i] = 1 with probability keep_probability, else 0.
/// Element i uses stream position e = offset + i: word e % 4 of
/// philox4x32_10(counter = {lo32(e/4), hi32(e/4), 0, 0},
///               key = {lo32(seed), hi32(seed)}),
/// kept when (word >> 8) * 2^-24 < keep_probability. So element i depends
/// only on seed and offset + i, and a CUDA version yields the same mask.
void bernoulli_mask(uint64_t seed, uint64_t offset, int64_t n, float keep_probability,
                    uint8_t *out);

} // namespace cleave::rt::cpu

#endif // CLEAVE_RT_KERNELS_H
