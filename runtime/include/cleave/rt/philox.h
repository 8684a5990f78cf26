//===- philox.h - counter-based random bits for host and device code ------===//
//
// Philox4x32-10 (Salmon et al., SC'11), the runtime's one implementation:
// inline and callable from host and CUDA device code, so that generated
// loops, CUDA kernels and both backends' bernoulli_mask kernels compute
// dropout masks element by element, identical on every backend. Element e
// of a stream uses word e % 4 of the block for counter {lo32(e / 4),
// hi32(e / 4), 0, 0} under key {lo32(seed), hi32(seed)}.
//
//===----------------------------------------------------------------------===//
#ifndef CLEAVE_RT_PHILOX_H
#define CLEAVE_RT_PHILOX_H

#include <cstdint>

#if defined(__CUDACC__)
#define CLEAVE_HOST_DEVICE __host__ __device__
#else
#define CLEAVE_HOST_DEVICE
#endif

namespace cleave::rt {

/// out = philox4x32_10(counter, key), with Random123's constants: the
/// round multipliers and the Weyl-sequence key increments (golden ratio
/// and sqrt(3) - 1).
CLEAVE_HOST_DEVICE inline void philox_block(const uint32_t counter[4], const uint32_t key[2],
                                            uint32_t out[4]) {
  uint32_t c0 = counter[0], c1 = counter[1], c2 = counter[2], c3 = counter[3];
  uint32_t k0 = key[0], k1 = key[1];
  for (int round = 0; round < 10; ++round) {
    if (round > 0) {
      k0 += 0x9E3779B9u;
      k1 += 0xBB67AE85u;
    }
    const uint64_t product0 = static_cast<uint64_t>(0xD2511F53u) * c0;
    const uint64_t product1 = static_cast<uint64_t>(0xCD9E8D57u) * c2;
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

/// The four words of stream block `block` (elements 4*block .. 4*block+3).
CLEAVE_HOST_DEVICE inline void philox_stream_block(uint64_t seed, uint64_t block, uint32_t out[4]) {
  const uint32_t counter[4] = {static_cast<uint32_t>(block), static_cast<uint32_t>(block >> 32), 0,
                               0};
  const uint32_t key[2] = {static_cast<uint32_t>(seed), static_cast<uint32_t>(seed >> 32)};
  philox_block(counter, key, out);
}

/// Word `element` of the stream under `seed`.
CLEAVE_HOST_DEVICE inline uint32_t philox_word(uint64_t seed, uint64_t element) {
  uint32_t words[4];
  philox_stream_block(seed, element / 4, words);
  // Constant indices keep `words` in registers inside CUDA kernels.
  switch (element % 4) {
  case 0:
    return words[0];
  case 1:
    return words[1];
  case 2:
    return words[2];
  default:
    return words[3];
  }
}

/// The top 24 bits of `word` as a uniform in [0, 1), in float's exact
/// 2^-24 steps.
CLEAVE_HOST_DEVICE inline float philox_uniform(uint32_t word) {
  return static_cast<float>(word >> 8) * (1.0f / 16777216.0f);
}

/// True with probability `keep`.
CLEAVE_HOST_DEVICE inline bool philox_keep(uint64_t seed, uint64_t element, float keep) {
  return philox_uniform(philox_word(seed, element)) < keep;
}

/// The part of a bernoulli mask that stream block `block` covers: for each
/// of its elements e in [offset, end), out[e - offset] = 1 with probability
/// `keep`, else 0. One Philox call per block, whichever backend loops.
CLEAVE_HOST_DEVICE inline void philox_mask_block(uint64_t seed, uint64_t block, uint64_t offset,
                                                 uint64_t end, float keep, uint8_t *out) {
  uint32_t words[4];
  philox_stream_block(seed, block, words);
  const uint64_t begin = block * 4 > offset ? block * 4 : offset;
  const uint64_t stop = block * 4 + 4 < end ? block * 4 + 4 : end;
  for (uint64_t element = begin; element < stop; ++element)
    out[element - offset] = philox_uniform(words[element % 4]) < keep ? 1 : 0;
}

/// The key of one step's masks: the run's seed mixed with the step number.
CLEAVE_HOST_DEVICE inline uint64_t philox_step_key(uint64_t seed, int64_t step) {
  return seed ^ (static_cast<uint64_t>(step) * 0x9E3779B97F4A7C15ull);
}

} // namespace cleave::rt

#endif // CLEAVE_RT_PHILOX_H
