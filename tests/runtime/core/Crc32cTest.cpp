//===- Crc32cTest.cpp - CRC-32C against the published check values --------===//
#include "cleave/rt/crc32c.h"

#include <catch2/catch.hpp>

#include <cstdint>
#include <string>
#include <vector>

using namespace cleave::rt;

namespace {

/// Both implementations, so that the table is tested on a CPU with SSE4.2.
void check_both(const std::vector<uint8_t> &bytes, uint32_t expected) {
  CHECK(crc32c(bytes.data(), bytes.size()) == expected);
  CHECK(crc32c_portable(bytes.data(), bytes.size()) == expected);
}

} // namespace

TEST_CASE("crc32c: RFC 3720 (iSCSI) appendix B.4 test vectors", "[runtime][crc32c]") {
  std::vector<uint8_t> bytes(32, 0x00);
  check_both(bytes, 0x8A9136AA);
  bytes.assign(32, 0xFF);
  check_both(bytes, 0x62A8AB43);
  for (int i = 0; i < 32; ++i)
    bytes[static_cast<size_t>(i)] = static_cast<uint8_t>(i);
  check_both(bytes, 0x46DD794E);
  for (int i = 0; i < 32; ++i)
    bytes[static_cast<size_t>(i)] = static_cast<uint8_t>(31 - i);
  check_both(bytes, 0x113FDB5C);
  // An iSCSI SCSI Read (10) command PDU.
  check_both({0x01, 0xc0, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
              0x00, 0x00, 0x00, 0x00, 0x14, 0x00, 0x00, 0x00, 0x00, 0x00, 0x04, 0x00,
              0x00, 0x00, 0x00, 0x14, 0x00, 0x00, 0x00, 0x18, 0x28, 0x00, 0x00, 0x00,
              0x00, 0x00, 0x00, 0x00, 0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00},
             0xD9963A56);
  std::string check = "123456789";
  CHECK(crc32c(check.data(), check.size()) == 0xE3069283);
  CHECK(crc32c(nullptr, 0) == 0);
}

TEST_CASE("crc32c: continuing a CRC, every length and alignment, both paths agree",
          "[runtime][crc32c]") {
  std::vector<uint8_t> bytes(1000);
  uint32_t state = 12345;
  for (uint8_t &byte : bytes) {
    state = state * 1103515245u + 12345u;
    byte = static_cast<uint8_t>(state >> 16);
  }
  uint32_t whole = crc32c_portable(bytes.data(), bytes.size());
  for (size_t split : {0, 1, 7, 8, 9, 63, 500, 999, 1000})
    CHECK(crc32c(bytes.data() + split, bytes.size() - split, crc32c(bytes.data(), split)) == whole);
  for (size_t start = 0; start < 9; ++start)
    for (size_t length = 0; length < 40; ++length)
      CHECK(crc32c(bytes.data() + start, length) == crc32c_portable(bytes.data() + start, length));
  INFO("hardware path: " << (crc32c_hardware() ? "SSE4.2" : "none"));
  SUCCEED();
}
