//===- rng.cpp - splitmix64, xoshiro256** and the epoch permutation --------===//
#include "cleave/rt/rng.h"

#include "cleave/rt/check.h"

#include <cmath>
#include <numeric>

namespace cleave::rt {

uint64_t splitmix64(uint64_t &state) {
  uint64_t z = (state += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

Rng::Rng(uint64_t seed) {
  for (uint64_t &word : state_)
    word = splitmix64(seed);
}

static uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

uint64_t Rng::next() {
  uint64_t result = rotl(state_[1] * 5, 7) * 9;
  uint64_t t = state_[1] << 17;
  state_[2] ^= state_[0];
  state_[3] ^= state_[1];
  state_[1] ^= state_[2];
  state_[0] ^= state_[3];
  state_[2] ^= t;
  state_[3] = rotl(state_[3], 45);
  return result;
}

uint64_t Rng::below(uint64_t n) {
  CLEAVE_CHECK(n > 0, "Rng::below(0)");
  // 2^64 mod n, computed in 64-bit arithmetic as (2^64 - n) mod n.
  uint64_t threshold = (0 - n) % n;
  for (;;) {
    uint64_t x = next();
    if (x >= threshold)
      return x % n;
  }
}

double Rng::uniform() { return static_cast<double>(next() >> 11) * 0x1.0p-53; }

double Rng::normal() {
  double u1 = uniform();
  double u2 = uniform();
  return std::sqrt(-2.0 * std::log(1.0 - u1)) * std::cos(2.0 * M_PI * u2);
}

uint64_t derive_seed(uint64_t seed, RngStream stream, uint64_t index) {
  uint64_t state = seed;
  state = splitmix64(state) ^ static_cast<uint64_t>(stream);
  state = splitmix64(state) ^ index;
  return splitmix64(state);
}

std::vector<int64_t> epoch_permutation(int64_t n, uint64_t seed, int64_t epoch) {
  std::vector<int64_t> order(static_cast<size_t>(n));
  std::iota(order.begin(), order.end(), int64_t{0});
  Rng rng(derive_seed(seed, RngStream::shuffle, static_cast<uint64_t>(epoch)));
  for (int64_t i = n - 1; i > 0; --i)
    std::swap(order[i], order[rng.below(static_cast<uint64_t>(i) + 1)]);
  return order;
}

} // namespace cleave::rt
