//===- window.h - index ranges of sliding windows (conv, pool) ------------===//
#ifndef CLEAVE_RT_CPU_WINDOW_H
#define CLEAVE_RT_CPU_WINDOW_H

#include <algorithm>
#include <cstdint>

namespace cleave::rt::cpu {

/// The outputs o in [begin, end) whose window element at `offset` (a kernel
/// position times its dilation) lands inside the input, i.e.
/// 0 <= o * stride - pad_before + offset < input. Lets the conv loops run
/// branch-free over the valid part and fill the rest with padding.
struct OutputRange {
  int64_t begin, end;
};

inline OutputRange valid_outputs(int64_t input, int64_t output, int64_t stride, int64_t pad_before,
                                 int64_t offset) {
  auto ceil_div_clamped = [stride](int64_t numerator) {
    return numerator <= 0 ? 0 : (numerator + stride - 1) / stride;
  };
  const int64_t begin = std::min(output, ceil_div_clamped(pad_before - offset));
  const int64_t end = std::clamp(ceil_div_clamped(input + pad_before - offset), begin, output);
  return {begin, end};
}

} // namespace cleave::rt::cpu

#endif // CLEAVE_RT_CPU_WINDOW_H
