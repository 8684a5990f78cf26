//===- RandomTest.cpp - Philox and dropout masks --------------------------===//

#include "KernelTestUtils.h"

#include "cleave/rt/kernels.h"
#include "cleave/rt/philox.h"

#include <vector>

using namespace cleave::rt;
using namespace cleave::rt::test;

TEST_CASE("philox4x32_10: Random123's known answers", "[random]") {
  // The three philox4x32 10-round lines of Random123's kat_vectors.
  struct KnownAnswer {
    uint32_t counter[4], key[2], expected[4];
  };
  const KnownAnswer answers[] = {
      {{0, 0, 0, 0}, {0, 0}, {0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8}},
      {{0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff},
       {0xffffffff, 0xffffffff},
       {0x408f276d, 0x41c83b0e, 0xa20bc7c6, 0x6d5451fd}},
      {{0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344},
       {0xa4093822, 0x299f31d0},
       {0xd16cfe09, 0x94fdcceb, 0x5001e420, 0x24126ea1}},
  };
  for (const KnownAnswer &answer : answers) {
    uint32_t out[4];
    cpu::philox4x32_10(answer.counter, answer.key, out);
    for (int i = 0; i < 4; ++i)
      REQUIRE(out[i] == answer.expected[i]);
  }
}

TEST_CASE("bernoulli_mask: element i depends only on seed and offset + i", "[random]") {
  const uint64_t seed = 0x123456789abcdefull;
  std::vector<uint8_t> whole(1000);
  cpu::bernoulli_mask(seed, 0, 1000, 0.5f, whole.data());
  // Any window, at any alignment to Philox's blocks of four, agrees.
  for (auto [offset, n] :
       {std::pair<uint64_t, int64_t>{0, 1}, {1, 2}, {3, 5}, {5, 995}, {998, 2}, {512, 0}}) {
    std::vector<uint8_t> part(n + 1, 7);
    cpu::bernoulli_mask(seed, offset, n, 0.5f, part.data());
    for (int64_t i = 0; i < n; ++i)
      REQUIRE(part[i] == whole[offset + i]);
    REQUIRE(part[n] == 7); // nothing written past n
  }
}

TEST_CASE("bernoulli_mask: reproduces the Philox words it documents", "[random]") {
  // Element 6 of seed 42 is word 2 of block 1.
  const uint32_t counter[4] = {1, 0, 0, 0}, key[2] = {42, 0};
  uint32_t words[4];
  cpu::philox4x32_10(counter, key, words);
  const float uniform = static_cast<float>(words[2] >> 8) / 16777216.0f;
  for (float keep : {0.1f, 0.3f, 0.5f, 0.7f, 0.9f}) {
    uint8_t mask[7];
    cpu::bernoulli_mask(42, 0, 7, keep, mask);
    REQUIRE(mask[6] == (uniform < keep ? 1 : 0));
  }
}

TEST_CASE("bernoulli_mask: keeps the requested fraction", "[random]") {
  const int64_t n = 200000;
  std::vector<uint8_t> mask(n);
  for (float keep : {0.0f, 0.1f, 0.5f, 0.9f, 1.0f}) {
    cpu::bernoulli_mask(7, 0, n, keep, mask.data());
    int64_t kept = 0, not_binary = 0;
    for (uint8_t m : mask) {
      not_binary += m > 1;
      kept += m;
    }
    REQUIRE(not_binary == 0);
    // 5 standard deviations of a binomial count.
    const double expected = keep * n, deviation = std::sqrt(n * keep * (1 - keep));
    REQUIRE(std::fabs(kept - expected) <= 5 * deviation);
  }
}

TEST_CASE("bernoulli_mask: different seeds and offsets give different masks", "[random]") {
  std::vector<uint8_t> a(256), b(256), c(256);
  cpu::bernoulli_mask(1, 0, 256, 0.5f, a.data());
  cpu::bernoulli_mask(2, 0, 256, 0.5f, b.data());
  cpu::bernoulli_mask(1, 256, 256, 0.5f, c.data());
  REQUIRE(a != b);
  REQUIRE(a != c);
}

TEST_CASE("philox.h (used inside generated loops) draws the bernoulli_mask kernel's bits",
          "[random]") {
  // Generated fused loops compute dropout masks element by element with the
  // inline header; the mask kernel must agree bit for bit, or a mask drawn
  // by one and reused by the other would differ.
  const uint64_t seed = 0x243f6a8885a308d3ull, offset = (uint64_t(3) << 40) + 5;
  const float keep = 0.7f;
  const int64_t n = 1027;
  std::vector<uint8_t> mask(n);
  cpu::bernoulli_mask(seed, offset, n, keep, mask.data());
  for (int64_t i = 0; i < n; ++i) {
    INFO("element " << i);
    REQUIRE(static_cast<bool>(mask[i]) == philox_keep(seed, offset + i, keep));
  }
}
