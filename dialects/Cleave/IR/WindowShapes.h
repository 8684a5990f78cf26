//===- WindowShapes.h - output extents of sliding-window ops --------------===//
//
// Shared by the conv2d/pool2d verifiers and the importer, so that the shapes
// the importer builds are by construction the ones the verifiers accept.
//
//===----------------------------------------------------------------------===//
#ifndef CLEAVE_DIALECT_WINDOWSHAPES_H
#define CLEAVE_DIALECT_WINDOWSHAPES_H

#include <cstdint>

namespace mlir::cleave {

/// Output extent of a window sliding over `input` elements, as ONNX and
/// PyTorch define it. In ceil mode a partial last window still counts, but
/// not one that would start inside the trailing padding.
inline int64_t windowOutputSize(int64_t input, int64_t window, int64_t stride, int64_t padBefore,
                                int64_t padAfter, int64_t dilation, bool ceilMode) {
  int64_t span = dilation * (window - 1) + 1;
  int64_t room = input + padBefore + padAfter - span;
  if (room < 0)
    return 0;
  int64_t outputs = (ceilMode ? (room + stride - 1) / stride : room / stride) + 1;
  if (ceilMode && (outputs - 1) * stride >= input + padBefore)
    --outputs;
  return outputs;
}

} // namespace mlir::cleave

#endif // CLEAVE_DIALECT_WINDOWSHAPES_H
