//===- crc32c.cpp - CRC-32C (Castagnoli) ------------------------------------===//
#include "cleave/rt/crc32c.h"

#include <array>
#include <cstring>

namespace cleave::rt {

namespace {

constexpr uint32_t kPolynomial = 0x82F63B78; // 0x1EDC6F41 reflected

/// kTables[k][b]: the CRC of byte b followed by k zero bytes, so that eight
/// bytes fold in with eight look-ups (slicing-by-8).
struct Tables {
  std::array<std::array<uint32_t, 256>, 8> t;
  Tables() {
    for (uint32_t b = 0; b < 256; ++b) {
      uint32_t crc = b;
      for (int bit = 0; bit < 8; ++bit)
        crc = (crc >> 1) ^ (crc & 1 ? kPolynomial : 0);
      t[0][b] = crc;
    }
    for (uint32_t b = 0; b < 256; ++b)
      for (size_t k = 1; k < 8; ++k)
        t[k][b] = (t[k - 1][b] >> 8) ^ t[0][t[k - 1][b] & 0xFF];
  }
};

const Tables &tables() {
  static const Tables instance;
  return instance;
}

/// `state` is the raw register (no final XOR).
uint32_t update_portable(uint32_t state, const uint8_t *p, size_t n) {
  const auto &t = tables().t;
  while (n >= 8) {
    uint32_t low, high;
    std::memcpy(&low, p, 4);
    std::memcpy(&high, p + 4, 4);
    // The table folds bytes in little-endian order.
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
    low = __builtin_bswap32(low);
    high = __builtin_bswap32(high);
#endif
    low ^= state;
    state = t[7][low & 0xFF] ^ t[6][(low >> 8) & 0xFF] ^ t[5][(low >> 16) & 0xFF] ^
            t[4][low >> 24] ^ t[3][high & 0xFF] ^ t[2][(high >> 8) & 0xFF] ^
            t[1][(high >> 16) & 0xFF] ^ t[0][high >> 24];
    p += 8;
    n -= 8;
  }
  while (n--)
    state = (state >> 8) ^ t[0][(state ^ *p++) & 0xFF];
  return state;
}

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define CLEAVE_CRC32C_SSE42 1
__attribute__((target("sse4.2"))) uint32_t update_sse42(uint32_t state, const uint8_t *p,
                                                        size_t n) {
  uint64_t wide = state;
  while (n >= 8) {
    uint64_t word;
    std::memcpy(&word, p, 8);
    wide = __builtin_ia32_crc32di(wide, word);
    p += 8;
    n -= 8;
  }
  state = static_cast<uint32_t>(wide);
  while (n--)
    state = __builtin_ia32_crc32qi(state, *p++);
  return state;
}

bool have_sse42() {
  static const bool have = __builtin_cpu_supports("sse4.2");
  return have;
}
#endif

} // namespace

uint32_t crc32c_portable(const void *data, size_t bytes, uint32_t crc) {
  return ~update_portable(~crc, static_cast<const uint8_t *>(data), bytes);
}

uint32_t crc32c(const void *data, size_t bytes, uint32_t crc) {
#ifdef CLEAVE_CRC32C_SSE42
  if (have_sse42())
    return ~update_sse42(~crc, static_cast<const uint8_t *>(data), bytes);
#endif
  return crc32c_portable(data, bytes, crc);
}

bool crc32c_hardware() {
#ifdef CLEAVE_CRC32C_SSE42
  return have_sse42();
#else
  return false;
#endif
}

} // namespace cleave::rt
