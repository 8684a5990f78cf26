//===- sizes.h - the kernel API's target-independent size functions --------===//
//
// Output extents and scratch sizes that are the same on every backend:
// defined once (runtime/kernels) and named in each backend's namespace by
// api.inc's using-declarations.
//
//===----------------------------------------------------------------------===//
#ifndef CLEAVE_RT_KERNELS_SIZES_H
#define CLEAVE_RT_KERNELS_SIZES_H

#include "cleave/rt/kernels/types.h"

#include <cstdint>

namespace cleave::rt::kernels {

/// Output extent of a window sliding over `input` elements, as ONNX and
/// PyTorch define it (the same rule as the dialect's windowOutputSize): in
/// ceil mode a partial last window still counts, but not one that would
/// start inside the trailing padding.
int64_t window_output_size(int64_t input, int64_t window, int64_t stride, int64_t pad_before,
                           int64_t pad_after, int64_t dilation, bool ceil_mode);

/// Bytes of scratch conv2d and its gradients need: one image's im2col
/// matrix (0 for a 1x1, stride-1, unpadded filter, which reads the input
/// directly).
int64_t conv2d_scratch_bytes(const Conv2dParams &params);

/// Bytes of scratch layer_norm_grad needs (per-row mean and 1/std).
int64_t layer_norm_grad_scratch_bytes(int64_t rows);

} // namespace cleave::rt::kernels

#endif // CLEAVE_RT_KERNELS_SIZES_H
