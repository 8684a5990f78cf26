//===- rank_major.h - which block goes where around a collective ----------===//
//
// A sharded step keeps a tensor split along a dimension as [outer, n, block]
// (block r of each outer row belongs to rank r), while the communicators
// (comm.h) send and receive rank-major [n, outer, block] (rank r's part in
// one piece). all_gather, reduce_scatter, all_slice and all_to_all move
// between the two; these functions say which rows go where, once for both
// backends, as one strided copy per rank. The backend only copies: memcpy
// per row on the host, cudaMemcpy2D on the device.
//
// Library cleave_rt_comm.
//
//===----------------------------------------------------------------------===//
#ifndef CLEAVE_RT_RANK_MAJOR_H
#define CLEAVE_RT_RANK_MAJOR_H

#include <cstdint>

namespace cleave::rt::collective {

/// Copies `rows` rows of `row` bytes from src (rows `src_pitch` bytes
/// apart) to dst (rows `dst_pitch` apart), in the backend's memory.
using CopyRows = void (*)(uint8_t *dst, int64_t dst_pitch, const uint8_t *src, int64_t src_pitch,
                          int64_t row, int64_t rows);

/// dst [n, outer, row] (rank-major) = src [outer, n, row].
void to_rank_major(uint8_t *dst, const uint8_t *src, int64_t n, int64_t outer, int64_t row,
                   CopyRows copy);

/// dst [outer, n, row] = src [n, outer, row] (rank-major).
void from_rank_major(uint8_t *dst, const uint8_t *src, int64_t n, int64_t outer, int64_t row,
                     CopyRows copy);

/// dst [outer, row] = rank `rank`'s blocks of src [outer, n, row].
void rank_blocks(uint8_t *dst, const uint8_t *src, int64_t n, int64_t rank, int64_t outer,
                 int64_t row, CopyRows copy);

/// CopyRows on host memory, one memcpy per row.
void copy_host_rows(uint8_t *dst, int64_t dst_pitch, const uint8_t *src, int64_t src_pitch,
                    int64_t row, int64_t rows);

} // namespace cleave::rt::collective

#endif // CLEAVE_RT_RANK_MAJOR_H
