//===- rank_major.cpp - which block goes where around a collective --------===//
#include "cleave/rt/rank_major.h"

#include <cstring>

namespace cleave::rt::collective {

void to_rank_major(uint8_t *dst, const uint8_t *src, int64_t n, int64_t outer, int64_t row,
                   CopyRows copy) {
  for (int64_t r = 0; r < n; ++r)
    copy(dst + r * outer * row, row, src + r * row, n * row, row, outer);
}

void from_rank_major(uint8_t *dst, const uint8_t *src, int64_t n, int64_t outer, int64_t row,
                     CopyRows copy) {
  for (int64_t r = 0; r < n; ++r)
    copy(dst + r * row, n * row, src + r * outer * row, row, row, outer);
}

void rank_blocks(uint8_t *dst, const uint8_t *src, int64_t n, int64_t rank, int64_t outer,
                 int64_t row, CopyRows copy) {
  copy(dst, row, src + rank * row, n * row, row, outer);
}

void copy_host_rows(uint8_t *dst, int64_t dst_pitch, const uint8_t *src, int64_t src_pitch,
                    int64_t row, int64_t rows) {
  for (int64_t i = 0; i < rows; ++i)
    std::memcpy(dst + i * dst_pitch, src + i * src_pitch, static_cast<size_t>(row));
}

} // namespace cleave::rt::collective
