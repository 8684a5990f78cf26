//===- tensor.h - sizes, shapes and element conversions of TensorSpecs -----===//
//
// Small helpers every part of the runtime needs to talk about a TensorSpec:
// element and byte counts, a printable shape, and the half-precision
// conversions that random initialisation and tests use.
//
//===----------------------------------------------------------------------===//
#ifndef CLEAVE_RT_TENSOR_H
#define CLEAVE_RT_TENSOR_H

#include "cleave/rt/model.h"

#include <cstdint>
#include <string>
#include <vector>

namespace cleave::rt {

/// Product of the dimensions (1 for a scalar).
int64_t num_elements(const TensorSpec &spec);
int64_t num_elements(const std::vector<int64_t> &shape);

/// num_elements * dtype_bytes.
int64_t byte_size(const TensorSpec &spec);

std::vector<int64_t> shape_of(const TensorSpec &spec);

/// "[8, 16]"; "[]" for a scalar.
std::string shape_string(const std::vector<int64_t> &shape);
std::string shape_string(const TensorSpec &spec);

/// "float32[8, 16]": how messages name a tensor's type.
std::string type_string(const TensorSpec &spec);

bool is_integer(DType dtype);  // i64, i32, i8, i1
bool is_floating(DType dtype); // f32, f64, f16, bf16

/// IEEE binary16 and bfloat16 from and to float, rounding to nearest even.
uint16_t float_to_half(float value);
float half_to_float(uint16_t bits);
uint16_t float_to_bfloat16(float value);
float bfloat16_to_float(uint16_t bits);

/// A tensor of the model bound to memory: a parameter, an optimizer state
/// tensor or a batch input, with its pointer in the target's memory.
struct BoundTensor {
  const TensorSpec *spec;
  void *data;
};

} // namespace cleave::rt

#endif // CLEAVE_RT_TENSOR_H
