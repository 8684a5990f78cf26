//===- random.cpp - Philox4x32-10 and dropout masks -----------------------===//
//
// Counter-based: a mask element is a pure function of (seed, its stream
// position), so any thread (or a CUDA thread) computes any element alone,
// and a CPU and a GPU run draw identical masks.
//
//===----------------------------------------------------------------------===//

#include "cleave/rt/kernels.h"

#include "check.h"
#include "parallel.h"

#include <algorithm>

namespace cleave::rt::cpu {
namespace {

// Random123's constants for philox4x32: the round multipliers and the
// Weyl-sequence key increments (golden ratio and sqrt(3) - 1).
constexpr uint32_t kMultiplier0 = 0xD2511F53u;
constexpr uint32_t kMultiplier1 = 0xCD9E8D57u;
constexpr uint32_t kKeyIncrement0 = 0x9E3779B9u;
constexpr uint32_t kKeyIncrement1 = 0xBB67AE85u;
constexpr int kRounds = 10;

// 2^-24: (word >> 8) * kUnitScale spans [0, 1) in float's exact 24-bit steps.
constexpr float kUnitScale = 1.0f / 16777216.0f;

} // namespace

void philox4x32_10(const uint32_t counter[4], const uint32_t key[2], uint32_t out[4]) {
  uint32_t c0 = counter[0], c1 = counter[1], c2 = counter[2], c3 = counter[3];
  uint32_t k0 = key[0], k1 = key[1];
  for (int round = 0; round < kRounds; ++round) {
    if (round > 0) {
      k0 += kKeyIncrement0;
      k1 += kKeyIncrement1;
    }
    const uint64_t product0 = static_cast<uint64_t>(kMultiplier0) * c0;
    const uint64_t product1 = static_cast<uint64_t>(kMultiplier1) * c2;
    const uint32_t next0 = static_cast<uint32_t>(product1 >> 32) ^ c1 ^ k0;
    const uint32_t next2 = static_cast<uint32_t>(product0 >> 32) ^ c3 ^ k1;
    c1 = static_cast<uint32_t>(product1);
    c3 = static_cast<uint32_t>(product0);
    c0 = next0;
    c2 = next2;
  }
  out[0] = c0;
  out[1] = c1;
  out[2] = c2;
  out[3] = c3;
}

void bernoulli_mask(uint64_t seed, uint64_t offset, int64_t n, float keep_probability,
                    uint8_t *out) {
  KERNEL_CHECK(n >= 0, "negative mask size");
  const uint32_t key[2] = {static_cast<uint32_t>(seed), static_cast<uint32_t>(seed >> 32)};
  // One Philox call yields the four elements of a block of stream positions
  // 4b..4b+3; a work item is one block (partial at either end).
  const uint64_t first_block = offset / 4;
  const uint64_t last_block = (offset + static_cast<uint64_t>(n) + 3) / 4; // exclusive
  const int64_t blocks = n == 0 ? 0 : static_cast<int64_t>(last_block - first_block);
#pragma omp parallel for schedule(static) if (worth_parallel(n))
  for (int64_t b = 0; b < blocks; ++b) {
    const uint64_t block = first_block + static_cast<uint64_t>(b);
    const uint32_t counter[4] = {static_cast<uint32_t>(block), static_cast<uint32_t>(block >> 32),
                                 0, 0};
    uint32_t words[4];
    philox4x32_10(counter, key, words);
    const uint64_t begin = std::max(block * 4, offset);
    const uint64_t end = std::min(block * 4 + 4, offset + static_cast<uint64_t>(n));
    for (uint64_t position = begin; position < end; ++position) {
      const float uniform = static_cast<float>(words[position % 4] >> 8) * kUnitScale;
      out[position - offset] = uniform < keep_probability ? 1 : 0;
    }
  }
}

} // namespace cleave::rt::cpu
