//===- tensor.cpp - sizes, shapes and element conversions ------------------===//
#include "cleave/rt/tensor.h"

#include "cleave/rt/bf16.h"
#include "cleave/rt/check.h"
#include "cleave/rt/enum_table.h"
#include "cleave/rt/vmath.h"

#include <cmath>
#include <cstring>
#include <iterator>

namespace cleave::rt {

namespace {

/// Bytes and printed name of each DType, in the enum's order.
struct DTypeFacts {
  int64_t bytes;
  const char *name;
};
constexpr DTypeFacts kDTypeFacts[] = {
    {4, "float32"}, {8, "float64"}, {2, "float16"}, {2, "bfloat16"},
    {8, "int64"},   {4, "int32"},   {1, "int8"},    {1, "bool"},
};
static_assert(std::size(kDTypeFacts) == enum_count(DType::i1), "one entry per DType");

} // namespace

int64_t dtype_bytes(DType dtype) { return enum_entry(kDTypeFacts, dtype, "DType").bytes; }

const char *dtype_name(DType dtype) { return enum_entry(kDTypeFacts, dtype, "DType").name; }

int64_t num_elements(const std::vector<int64_t> &shape) {
  int64_t count = 1;
  for (int64_t dim : shape)
    count *= dim;
  return count;
}

int64_t num_elements(const TensorSpec &spec) { return num_elements(shape_of(spec)); }

int64_t byte_size(const TensorSpec &spec) { return num_elements(spec) * dtype_bytes(spec.dtype); }

std::vector<int64_t> shape_of(const TensorSpec &spec) {
  return std::vector<int64_t>(spec.shape, spec.shape + spec.rank);
}

std::string shape_string(const std::vector<int64_t> &shape) {
  std::string text = "[";
  for (size_t i = 0; i < shape.size(); ++i)
    text += (i ? ", " : "") + std::to_string(shape[i]);
  return text + "]";
}

std::string shape_string(const TensorSpec &spec) { return shape_string(shape_of(spec)); }

std::string type_string(const TensorSpec &spec) {
  return dtype_name(spec.dtype) + shape_string(spec);
}

bool is_integer(DType dtype) {
  return dtype == DType::i64 || dtype == DType::i32 || dtype == DType::i8 || dtype == DType::i1;
}

bool is_floating(DType dtype) { return !is_integer(dtype); }

uint16_t float_to_half(float value) {
  uint32_t bits = vmath_detail::bits(value);
  uint16_t sign = static_cast<uint16_t>((bits >> 16) & 0x8000);
  uint32_t magnitude = bits & 0x7FFFFFFF;
  if (magnitude >= 0x7F800000) // inf stays inf, NaN stays a (quiet) NaN
    return sign | 0x7C00 | (magnitude > 0x7F800000 ? 0x200 : 0);
  if (magnitude >= 0x477FF000) // 65520 and above round to inf
    return sign | 0x7C00;
  if (magnitude < 0x38800000) {
    // Below the smallest normal half (2^-14): a subnormal, in units of 2^-24.
    // Scaling by 2^24 is exact; nearbyint rounds half to even.
    float units = std::nearbyint(vmath_detail::from_bits(magnitude) * 16777216.0f);
    return sign | static_cast<uint16_t>(units);
  }
  // Normal: rebias the exponent (127 -> 15) and round the mantissa from 23
  // to 10 bits; a carry correctly bumps the exponent.
  uint32_t rounded = magnitude + 0xFFF + ((magnitude >> 13) & 1);
  return sign | static_cast<uint16_t>((rounded - 0x38000000) >> 13);
}

float half_to_float(uint16_t bits) {
  uint32_t sign = static_cast<uint32_t>(bits & 0x8000) << 16;
  uint32_t exponent = (bits >> 10) & 0x1F;
  uint32_t mantissa = bits & 0x3FF;
  if (exponent == 0) {
    float magnitude = std::ldexp(static_cast<float>(mantissa), -24);
    return sign ? -magnitude : magnitude;
  }
  if (exponent == 31)
    return vmath_detail::from_bits(sign | 0x7F800000 | (mantissa << 13));
  return vmath_detail::from_bits(sign | ((exponent + 112) << 23) | (mantissa << 13));
}

// bf16.h holds the one rounding rule, shared with the kernels and device code.
uint16_t float_to_bfloat16(float value) { return float_to_bf16_bits(value); }

float bfloat16_to_float(uint16_t bits) { return bf16_bits_to_float(bits); }

} // namespace cleave::rt
