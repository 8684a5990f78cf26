//===- bf16.h - fp32 -> bfloat16 rounding for host and device code --------===//
//
// The one rounding every backend's `--precision bf16` uses for matrix
// product operands: round to nearest, ties to even, on the top 16 bits of
// the fp32 pattern (what PyTorch's Tensor.bfloat16() and CUDA's
// __float2bfloat16_rn do). Infinities stay infinite, values that round past
// the largest bfloat16 become infinite, and NaN becomes the quiet NaN
// 0x7FC0 with its sign (never rounded into infinity). Inline and
// host/device, so that the CPU kernel and the CUDA conversion kernel give
// bit-identical operands.
//
//===----------------------------------------------------------------------===//
#ifndef CLEAVE_RT_BF16_H
#define CLEAVE_RT_BF16_H

#include <cstdint>
#include <cstring>

#if defined(__CUDACC__)
#define CLEAVE_BF16_HOST_DEVICE __host__ __device__
#else
#define CLEAVE_BF16_HOST_DEVICE
#endif

namespace cleave::rt {

/// The bfloat16 bit pattern nearest to `value`.
CLEAVE_BF16_HOST_DEVICE inline uint16_t float_to_bf16_bits(float value) {
  uint32_t bits;
  std::memcpy(&bits, &value, sizeof bits);
  if ((bits & 0x7FFFFFFFu) > 0x7F800000u) // NaN: keep the sign, quiet it
    return static_cast<uint16_t>((bits >> 16) | 0x0040u);
  // Adding 0x7FFF plus the lowest kept bit rounds half to even; a carry
  // out of the mantissa correctly bumps the exponent (up to infinity).
  bits += 0x7FFFu + ((bits >> 16) & 1u);
  return static_cast<uint16_t>(bits >> 16);
}

/// The fp32 value of a bfloat16 bit pattern (exact).
CLEAVE_BF16_HOST_DEVICE inline float bf16_bits_to_float(uint16_t bits) {
  uint32_t wide = static_cast<uint32_t>(bits) << 16;
  float value;
  std::memcpy(&value, &wide, sizeof value);
  return value;
}

/// `value` rounded to bfloat16 and back: what a bf16 operand holds.
CLEAVE_BF16_HOST_DEVICE inline float round_to_bf16(float value) {
  return bf16_bits_to_float(float_to_bf16_bits(value));
}

} // namespace cleave::rt

#undef CLEAVE_BF16_HOST_DEVICE

#endif // CLEAVE_RT_BF16_H
