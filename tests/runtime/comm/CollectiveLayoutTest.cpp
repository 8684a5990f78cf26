//===- CollectiveLayoutTest.cpp - which block goes where around a collective===//
#include "cleave/rt/collective_layout.h"

#include <catch2/catch.hpp>

#include <vector>

using namespace cleave::rt::collective;

namespace {

constexpr int64_t kRanks = 3, kOuter = 2, kRow = 2;

/// Byte b of block (o, r): tells where it came from.
uint8_t tag(int64_t o, int64_t r, int64_t b) { return static_cast<uint8_t>(100 * o + 10 * r + b); }

/// The blocks as [outer, n, row] (the tensor's layout) or, rank-major, as
/// [n, outer, row] (the communicators' layout).
std::vector<uint8_t> blocks_in_order(bool rank_major) {
  std::vector<uint8_t> bytes;
  for (int64_t block = 0; block < kOuter * kRanks; ++block) {
    const int64_t o = rank_major ? block % kOuter : block / kRanks;
    const int64_t r = rank_major ? block / kOuter : block % kRanks;
    for (int64_t b = 0; b < kRow; ++b)
      bytes.push_back(tag(o, r, b));
  }
  return bytes;
}

std::vector<uint8_t> tensor_layout() { return blocks_in_order(false); }
std::vector<uint8_t> rank_major_layout() { return blocks_in_order(true); }

int copies = 0;
void counting_copy(uint8_t *dst, int64_t dst_pitch, const uint8_t *src, int64_t src_pitch,
                   int64_t row, int64_t rows) {
  ++copies;
  copy_host_rows(dst, dst_pitch, src, src_pitch, row, rows);
}

} // namespace

TEST_CASE("collective layout: [outer, n, block] to [n, outer, block] and back",
          "[comm][collective-layout]") {
  std::vector<uint8_t> packed(kRanks * kOuter * kRow, 0);
  copies = 0;
  to_rank_major(packed.data(), tensor_layout().data(), kRanks, kOuter, kRow, counting_copy);
  CHECK(packed == rank_major_layout());
  CHECK(copies == kRanks); // one strided copy per rank: the backend only copies

  std::vector<uint8_t> unpacked(packed.size(), 0);
  copies = 0;
  from_rank_major(unpacked.data(), rank_major_layout().data(), kRanks, kOuter, kRow, counting_copy);
  CHECK(unpacked == tensor_layout());
  CHECK(copies == kRanks);
}

TEST_CASE("collective layout: a rank's blocks of [outer, n, block]", "[comm][collective-layout]") {
  for (int64_t rank = 0; rank < kRanks; ++rank) {
    std::vector<uint8_t> mine(kOuter * kRow, 0);
    rank_blocks(mine.data(), tensor_layout().data(), kRanks, rank, kOuter, kRow, copy_host_rows);
    std::vector<uint8_t> expected;
    for (int64_t o = 0; o < kOuter; ++o)
      for (int64_t b = 0; b < kRow; ++b)
        expected.push_back(tag(o, rank, b));
    CHECK(mine == expected);
  }
}
