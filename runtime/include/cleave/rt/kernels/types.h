//===- types.h - the parameter types every kernel backend shares -----------===//
//
// The enums and parameter structs of the kernel API (api.inc), defined once
// here and named in each backend's namespace by using-declarations, so that
// the generated code's K::Conv2dParams{...} is the same type whether K is
// cleave::rt::cpu or cleave::rt::cuda.
//
//===----------------------------------------------------------------------===//
#ifndef CLEAVE_RT_KERNELS_TYPES_H
#define CLEAVE_RT_KERNELS_TYPES_H

#include <cstdint>

namespace cleave::rt::kernels {

/// Largest tensor rank the N-d kernels (reduce, transpose, broadcast, slice)
/// accept; a fixed bound lets them keep index state on the stack (and a CUDA
/// version pass shapes by value).
constexpr int64_t kMaxRank = 8;

/// Same numbering as the dialect's ReduceKind.
enum class ReduceKind : int32_t { sum, mean, max, min, prod };

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

/// cleave.cross_entropy's attributes: which label a row is ignored for,
/// PyTorch's label smoothing, and the reduction.
struct CrossEntropyOptions {
  bool has_ignore_index = false;
  int64_t ignore_index = -100;
  float label_smoothing = 0.0f;
  bool sum = false; // the sum over rows instead of the mean
};

} // namespace cleave::rt::kernels

#endif // CLEAVE_RT_KERNELS_TYPES_H
