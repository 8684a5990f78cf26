//===- random.cu - Philox4x32-10 and dropout masks -------------------------===//
//
// Counter-based: a mask element is a pure function of (seed, its stream
// position), so one GPU thread computes one Philox block (four elements) on
// its own and draws exactly the CPU's mask (runtime/cpu/random.cpp).
//
//===----------------------------------------------------------------------===//

#include "common.cuh"

namespace cleave::rt::cuda {
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

/// out = philox4x32_10(counter, key), on the host or the device.
__host__ __device__ inline void philox_block(const uint32_t counter[4], const uint32_t key[2],
                                             uint32_t out[4]) {
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

/// Thread b draws Philox block first_block + b: stream positions
/// 4*(first_block + b) .. +3, of which those in [offset, offset + n) land.
__global__ void bernoulli_mask_kernel(uint64_t seed, uint64_t offset, int64_t n, int64_t blocks,
                                      float keep_probability, uint8_t *out) {
  const uint32_t key[2] = {static_cast<uint32_t>(seed), static_cast<uint32_t>(seed >> 32)};
  const uint64_t first_block = offset / 4;
  const uint64_t end_position = offset + static_cast<uint64_t>(n);
  for (int64_t b = global_thread(); b < blocks; b += grid_threads()) {
    const uint64_t block = first_block + static_cast<uint64_t>(b);
    const uint32_t counter[4] = {static_cast<uint32_t>(block), static_cast<uint32_t>(block >> 32),
                                 0, 0};
    uint32_t words[4];
    philox_block(counter, key, words);
    const uint64_t begin = block * 4 > offset ? block * 4 : offset;
    const uint64_t end = block * 4 + 4 < end_position ? block * 4 + 4 : end_position;
    for (uint64_t position = begin; position < end; ++position) {
      const float uniform = static_cast<float>(words[position % 4] >> 8) * kUnitScale;
      out[position - offset] = uniform < keep_probability ? 1 : 0;
    }
  }
}

} // namespace

void philox4x32_10(const uint32_t counter[4], const uint32_t key[2], uint32_t out[4]) {
  philox_block(counter, key, out);
}

void bernoulli_mask(uint64_t seed, uint64_t offset, int64_t n, float keep_probability,
                    uint8_t *out) {
  KERNEL_CHECK(n >= 0, "negative mask size");
  if (n == 0)
    return;
  const uint64_t first_block = offset / 4;
  const uint64_t last_block = (offset + static_cast<uint64_t>(n) + 3) / 4; // exclusive
  const int64_t blocks = static_cast<int64_t>(last_block - first_block);
  bernoulli_mask_kernel<<<blocks_for(blocks), kBlockSize>>>(seed, offset, n, blocks,
                                                            keep_probability, out);
  CLEAVE_CUDA_CHECK_LAUNCH();
}

} // namespace cleave::rt::cuda
