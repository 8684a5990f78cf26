//===- TensorTest.cpp - dtype sizes, shapes, half-precision conversions ----===//
#include "cleave/rt/tensor.h"

#include <catch2/catch.hpp>

#include <cmath>
#include <limits>

using namespace cleave::rt;

TEST_CASE("tensor: sizes and names of every dtype", "[runtime][tensor]") {
  CHECK(dtype_bytes(DType::f32) == 4);
  CHECK(dtype_bytes(DType::f64) == 8);
  CHECK(dtype_bytes(DType::f16) == 2);
  CHECK(dtype_bytes(DType::bf16) == 2);
  CHECK(dtype_bytes(DType::i64) == 8);
  CHECK(dtype_bytes(DType::i32) == 4);
  CHECK(dtype_bytes(DType::i8) == 1);
  CHECK(dtype_bytes(DType::i1) == 1);
  CHECK(std::string(dtype_name(DType::bf16)) == "bfloat16");
  CHECK(std::string(dtype_name(DType::i1)) == "bool");

  const int64_t shape[] = {8, 16};
  TensorSpec spec{"w", DType::f16, 2, shape};
  CHECK(num_elements(spec) == 128);
  CHECK(byte_size(spec) == 256);
  CHECK(type_string(spec) == "float16[8, 16]");
  TensorSpec scalar{"s", DType::f32, 0, nullptr};
  CHECK(num_elements(scalar) == 1);
  CHECK(shape_string(scalar) == "[]");
}

TEST_CASE("tensor: float16 conversion rounds to nearest even", "[runtime][tensor]") {
  CHECK(float_to_half(1.0f) == 0x3C00);
  CHECK(float_to_half(-2.0f) == 0xC000);
  CHECK(float_to_half(65504.0f) == 0x7BFF);              // largest half
  CHECK(float_to_half(65519.0f) == 0x7BFF);              // rounds down
  CHECK(float_to_half(65520.0f) == 0x7C00);              // rounds to inf
  CHECK(float_to_half(std::ldexp(1.0f, -24)) == 0x0001); // smallest subnormal
  CHECK(float_to_half(std::ldexp(1.0f, -25)) == 0x0000); // ties to even: 0
  CHECK(float_to_half(std::ldexp(3.0f, -25)) == 0x0002); // 1.5 units: ties to even 2
  CHECK(float_to_half(0.1f) == 0x2E66);
  CHECK(float_to_half(1.0f + std::ldexp(1.0f, -11)) == 0x3C00); // tie: even mantissa
  CHECK(float_to_half(1.0f + std::ldexp(3.0f, -11)) == 0x3C02); // tie: up to even
  CHECK((float_to_half(std::numeric_limits<float>::quiet_NaN()) & 0x7C00) == 0x7C00);
  CHECK((float_to_half(std::numeric_limits<float>::quiet_NaN()) & 0x03FF) != 0);
  for (uint32_t bits = 0; bits < 0x7C00; ++bits) // every finite half round-trips
    REQUIRE(float_to_half(half_to_float(static_cast<uint16_t>(bits))) == bits);
  CHECK(half_to_float(0x0001) == std::ldexp(1.0f, -24));
  CHECK(std::isinf(half_to_float(0xFC00)));
}

TEST_CASE("tensor: bfloat16 conversion rounds to nearest even", "[runtime][tensor]") {
  CHECK(float_to_bfloat16(1.0f) == 0x3F80);
  CHECK(float_to_bfloat16(-2.5f) == 0xC020);
  CHECK(float_to_bfloat16(1.0f + std::ldexp(1.0f, -8)) == 0x3F80); // tie: even
  CHECK(float_to_bfloat16(1.0f + std::ldexp(3.0f, -8)) == 0x3F82); // tie: up to even
  CHECK(bfloat16_to_float(0x3F80) == 1.0f);
  CHECK(std::isnan(bfloat16_to_float(float_to_bfloat16(std::numeric_limits<float>::quiet_NaN()))));
}
