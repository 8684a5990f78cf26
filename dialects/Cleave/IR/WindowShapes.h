//===- WindowShapes.h - output extents of sliding-window ops --------------===//
//
// Shared by the conv2d/pool2d verifiers and the importer, so that the shapes
// the importer builds are by construction the ones the verifiers accept.
//
//===----------------------------------------------------------------------===//
#ifndef CLEAVE_DIALECT_WINDOWSHAPES_H
#define CLEAVE_DIALECT_WINDOWSHAPES_H

#include "llvm/ADT/ArrayRef.h"
#include "llvm/ADT/SmallVector.h"

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

/// The [N, C, H', W'] result of pooling the NCHW `input` with a 2-D
/// `kernel` (no dilation); `padding` is [top, left, bottom, right].
inline llvm::SmallVector<int64_t> poolOutputShape(llvm::ArrayRef<int64_t> input,
                                                  llvm::ArrayRef<int64_t> kernel,
                                                  llvm::ArrayRef<int64_t> strides,
                                                  llvm::ArrayRef<int64_t> padding, bool ceilMode) {
  llvm::SmallVector<int64_t> shape = {input[0], input[1]};
  for (int i = 0; i < 2; ++i)
    shape.push_back(windowOutputSize(input[2 + i], kernel[i], strides[i], padding[i],
                                     padding[2 + i], /*dilation=*/1, ceilMode));
  return shape;
}

} // namespace mlir::cleave

#endif // CLEAVE_DIALECT_WINDOWSHAPES_H
