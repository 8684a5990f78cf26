//===- philox.h - counter-based random bits for host and device code ------===//
//
// Philox4x32-10 (Salmon et al., SC'11), inline so that generated loops and
// CUDA kernels compute dropout masks element by element, identical on every
// backend: element e of a stream uses word e % 4 of the block for counter
// e / 4 under key `seed`. The runtime's bernoulli_mask kernel draws the same
// bits.
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

CLEAVE_HOST_DEVICE inline uint32_t philox_word(uint64_t seed, uint64_t element) {
  uint64_t block = element / 4;
  uint32_t c0 = static_cast<uint32_t>(block), c1 = static_cast<uint32_t>(block >> 32), c2 = 0,
           c3 = 0;
  uint32_t k0 = static_cast<uint32_t>(seed), k1 = static_cast<uint32_t>(seed >> 32);
  for (int round = 0; round < 10; ++round) {
    uint64_t p0 = static_cast<uint64_t>(0xD2511F53u) * c0;
    uint64_t p1 = static_cast<uint64_t>(0xCD9E8D57u) * c2;
    uint32_t n0 = static_cast<uint32_t>(p1 >> 32) ^ c1 ^ k0;
    uint32_t n1 = static_cast<uint32_t>(p1);
    uint32_t n2 = static_cast<uint32_t>(p0 >> 32) ^ c3 ^ k1;
    uint32_t n3 = static_cast<uint32_t>(p0);
    c0 = n0;
    c1 = n1;
    c2 = n2;
    c3 = n3;
    k0 += 0x9E3779B9u;
    k1 += 0xBB67AE85u;
  }
  switch (element % 4) {
  case 0:
    return c0;
  case 1:
    return c1;
  case 2:
    return c2;
  default:
    return c3;
  }
}

/// True with probability `keep`: the top 24 bits as a uniform in [0, 1).
CLEAVE_HOST_DEVICE inline bool philox_keep(uint64_t seed, uint64_t element, float keep) {
  return static_cast<float>(philox_word(seed, element) >> 8) * (1.0f / 16777216.0f) < keep;
}

/// The key of one step's masks: the run's seed mixed with the step number.
CLEAVE_HOST_DEVICE inline uint64_t philox_step_key(uint64_t seed, int64_t step) {
  return seed ^ (static_cast<uint64_t>(step) * 0x9E3779B97F4A7C15ull);
}

} // namespace cleave::rt

#endif // CLEAVE_RT_PHILOX_H
