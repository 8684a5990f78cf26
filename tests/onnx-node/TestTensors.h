//===- TestTensors.h - node-test tensors <-> runtime buffers ----------------===//
//
// The forward runner feeds a generated program the test's input_N.pb
// tensors and compares what it writes with output_N.pb, the way ONNX's
// backend test runner (onnx/backend/test/runner) does: dtypes and shapes
// equal, floats within numpy.testing.assert_allclose(rtol=1e-3, atol=1e-7)
// with NaN where the reference has NaN and infinities of the same sign,
// integers and booleans exact.
//
//===----------------------------------------------------------------------===//
#ifndef CLEAVE_TESTS_ONNX_NODE_TESTTENSORS_H
#define CLEAVE_TESTS_ONNX_NODE_TESTTENSORS_H

#include "cleave/rt/model.h"

#include "onnx/onnx_pb.h"

#include <cstdint>
#include <string>
#include <vector>

namespace mlir::cleave::nodetests {

/// The backend test runner's default tolerances (onnx/backend/test/runner:
/// rtol=1e-3, atol=1e-7).
constexpr double kRelativeTolerance = 1e-3;
constexpr double kAbsoluteTolerance = 1e-7;

/// A runtime buffer's element type and shape.
struct BufferType {
  ::cleave::rt::DType dtype;
  std::vector<int64_t> shape;

  int64_t elements() const;
  int64_t bytes() const;
  std::string str() const; // "f32[3,4]"
};

/// The runtime dtype of an ONNX element type, or false when it has none.
bool dtypeOfOnnx(int32_t onnxType, ::cleave::rt::DType &dtype);

/// Writes `tensor` into `dst` (type.bytes() bytes) as `type`; returns the
/// reason when its element type or shape differs from `type`.
std::string writeTestTensor(const onnx::TensorProto &tensor, const BufferType &type, void *dst);

/// Compares `actual` (a buffer of `type`) with the reference `expected`;
/// returns the first difference (and how many elements differ), or "".
std::string compareWithReference(const void *actual, const BufferType &type,
                                 const onnx::TensorProto &expected);

} // namespace mlir::cleave::nodetests

#endif // CLEAVE_TESTS_ONNX_NODE_TESTTENSORS_H
