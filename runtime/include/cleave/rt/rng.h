//===- rng.h - the runtime's one random number generator -------------------===//
//
// Everything random in the runtime (data shuffling, --init random) draws
// from xoshiro256** seeded through splitmix64, so that a run is a pure
// function of --seed and resuming needs no generator state: each consumer
// derives a fresh generator from (seed, stream, index), e.g. the shuffle of
// epoch e from (seed, kShuffleStream, e). docs/formats.md spells the
// algorithms out so other tools can reproduce them.
//
//===----------------------------------------------------------------------===//
#ifndef CLEAVE_RT_RNG_H
#define CLEAVE_RT_RNG_H

#include <cstdint>
#include <vector>

namespace cleave::rt {

/// One splitmix64 step: advances `state` by 0x9E3779B97F4A7C15 and returns
/// the mixed value.
uint64_t splitmix64(uint64_t &state);

/// xoshiro256** 1.0 (Blackman and Vigna).
class Rng {
public:
  /// The four state words are four successive splitmix64 outputs starting
  /// from state = seed (the seeding the xoshiro authors recommend).
  explicit Rng(uint64_t seed);

  uint64_t next();
  /// Uniform in [0, n) without modulo bias: draws x until
  /// x >= 2^64 mod n, then returns x mod n. n > 0.
  uint64_t below(uint64_t n);
  /// Uniform in [0, 1): the top 53 bits of next() times 2^-53.
  double uniform();
  /// Standard normal by Box-Muller from two uniforms u1, u2:
  /// sqrt(-2 ln(1 - u1)) * cos(2 pi u2). One value per call.
  double normal();

private:
  uint64_t state_[4];
};

/// Seeds of the independent streams the runtime uses.
enum class RngStream : uint64_t {
  shuffle = 1, // data order, one generator per epoch
  init = 2,    // --init random, one generator per parameter
};

/// The seed of generator `index` of `stream` for run seed `seed`:
/// m(m(m(seed) ^ stream) ^ index), where m(x) is one splitmix64 step from
/// state x.
uint64_t derive_seed(uint64_t seed, RngStream stream, uint64_t index);

/// The order in which epoch `epoch` visits n samples: Fisher-Yates on the
/// identity, for i = n-1 down to 1 swapping p[i] with p[below(i + 1)], with
/// Rng(derive_seed(seed, RngStream::shuffle, epoch)).
std::vector<int64_t> epoch_permutation(int64_t n, uint64_t seed, int64_t epoch);

} // namespace cleave::rt

#endif // CLEAVE_RT_RNG_H
