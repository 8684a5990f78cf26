//===- collective_layout.h - which block goes where around a collective ---===//
//
// A sharded step keeps a tensor split along a dimension as [outer, n, block]
// (block r of each outer row belongs to rank r), while the communicators
// (comm.h) send and receive rank-major [n, outer, block] (rank r's part in
// one piece). The collectives of collectives.h move between the two; this
// file does so once for both backends, as one strided copy per rank. The
// backend supplies only the copies and scratch buffers in its memory
// (LayoutOps): memcpy per row on the host, cudaMemcpy2D on the device.
//
// Library cleave_rt_comm.
//
//===----------------------------------------------------------------------===//
#ifndef CLEAVE_RT_COLLECTIVE_LAYOUT_H
#define CLEAVE_RT_COLLECTIVE_LAYOUT_H

#include "cleave/rt/comm.h"

#include <cstdint>
#include <functional>

namespace cleave::rt::collective {

/// Copies `rows` rows of `row` bytes from src (rows `src_pitch` bytes
/// apart) to dst (rows `dst_pitch` apart), in the backend's memory.
using CopyRows = void (*)(uint8_t *dst, int64_t dst_pitch, const uint8_t *src, int64_t src_pitch,
                          int64_t row, int64_t rows);

/// What a backend supplies.
struct LayoutOps {
  CopyRows copy_rows;
  /// A buffer of at least `bytes` in the backend's memory, kept between
  /// calls (a step repeats its sizes); `which` (0 or 1) tells two apart.
  uint8_t *(*scratch)(int64_t bytes, int which);
  /// A buffer of at least `bytes` for the non-blocking collective of
  /// `slot` (collective_api.inc), kept between calls and apart from every
  /// other slot's and from scratch(): it is in use until the slot's wait.
  /// Null: a start whose blocks need moving finishes at once (no overlap).
  uint8_t *(*slot_scratch)(int64_t bytes, int64_t slot) = nullptr;
};

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

// The collectives of collectives.h that permute blocks (all_reduce does
// not), over `comm`, with `ops` for the copies; sizes in bytes where the
// element type does not matter. Nothing moves for an empty tensor.

/// out [outer, n, row] from every rank's in [outer, row].
void gather_all(Communicator &comm, const void *in, void *out, int64_t outer, int64_t row,
                const LayoutOps &ops);
/// out [outer, block] = this rank's block of `reduction` over in [outer, n, block].
void reduce_scatter_blocks(Communicator &comm, const void *in, void *out, int64_t outer,
                           int64_t block, CommElement element, CommReduction reduction,
                           const LayoutOps &ops);
/// out [outer, row] = this rank's blocks of in [outer, n, row].
void slice_blocks(Communicator &comm, const void *in, void *out, int64_t outer, int64_t row,
                  const LayoutOps &ops);
/// The non-blocking gather_all: starts the communicator's gather and sets
/// `finish` to what must run after its wait (the rank-major blocks moved
/// into out). Uses ops.slot_scratch(…, slot); without it, runs blocking.
Communicator::Request start_gather_all(Communicator &comm, const void *in, void *out, int64_t outer,
                                       int64_t row, const LayoutOps &ops, int64_t slot,
                                       std::function<void()> &finish);
/// The non-blocking reduce_scatter_blocks: in is packed rank-major into
/// ops.slot_scratch(…, slot) before the start (none to finish).
Communicator::Request start_reduce_scatter_blocks(Communicator &comm, const void *in, void *out,
                                                  int64_t outer, int64_t block, CommElement element,
                                                  CommReduction reduction, const LayoutOps &ops,
                                                  int64_t slot);
/// in [send_outer, n, send_row] (chunk r to rank r) to out [recv_outer, n,
/// recv_row] (chunk r from rank r).
void move_blocks(Communicator &comm, const void *in, void *out, int64_t send_outer,
                 int64_t send_row, int64_t recv_outer, int64_t recv_row, const LayoutOps &ops);

} // namespace cleave::rt::collective

#endif // CLEAVE_RT_COLLECTIVE_LAYOUT_H
