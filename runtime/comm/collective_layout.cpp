//===- collective_layout.cpp - which block goes where around a collective -===//
#include "cleave/rt/collective_layout.h"

#include "cleave/rt/check.h"

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

void gather_all(Communicator &comm, const void *in, void *out, int64_t outer, int64_t row,
                const LayoutOps &ops) {
  const int64_t n = comm.size();
  if (outer == 1) {
    comm.all_gather(in, out, row, CommElement::u8);
    return;
  }
  if (outer * row == 0)
    return;
  uint8_t *gathered = ops.scratch(n * outer * row, 0);
  comm.all_gather(in, gathered, outer * row, CommElement::u8);
  from_rank_major(static_cast<uint8_t *>(out), gathered, n, outer, row, ops.copy_rows);
}

void reduce_scatter_blocks(Communicator &comm, const void *in, void *out, int64_t outer,
                           int64_t block, CommElement element, CommReduction reduction,
                           const LayoutOps &ops) {
  const int64_t n = comm.size();
  const int64_t row = block * static_cast<int64_t>(element_bytes(element));
  if (outer == 1) {
    comm.reduce_scatter(in, out, block, element, reduction);
    return;
  }
  if (outer * row == 0)
    return;
  uint8_t *packed = ops.scratch(n * outer * row, 0);
  to_rank_major(packed, static_cast<const uint8_t *>(in), n, outer, row, ops.copy_rows);
  comm.reduce_scatter(packed, out, outer * block, element, reduction);
}

Communicator::Request start_gather_all(Communicator &comm, const void *in, void *out, int64_t outer,
                                       int64_t row, const LayoutOps &ops, int64_t slot,
                                       std::function<void()> &finish) {
  const int64_t n = comm.size();
  if (outer == 1)
    return comm.all_gather_start(in, out, row, CommElement::u8);
  if (outer * row == 0)
    return Communicator::kFinishedRequest;
  if (!ops.slot_scratch) {
    gather_all(comm, in, out, outer, row, ops);
    return Communicator::kFinishedRequest;
  }
  uint8_t *gathered = ops.slot_scratch(n * outer * row, slot);
  const Communicator::Request request =
      comm.all_gather_start(in, gathered, outer * row, CommElement::u8);
  const CopyRows copy = ops.copy_rows;
  finish = [=] { from_rank_major(static_cast<uint8_t *>(out), gathered, n, outer, row, copy); };
  return request;
}

Communicator::Request start_reduce_scatter_blocks(Communicator &comm, const void *in, void *out,
                                                  int64_t outer, int64_t block, CommElement element,
                                                  CommReduction reduction, const LayoutOps &ops,
                                                  int64_t slot) {
  const int64_t n = comm.size();
  const int64_t row = block * static_cast<int64_t>(element_bytes(element));
  if (outer == 1)
    return comm.reduce_scatter_start(in, out, block, element, reduction);
  if (outer * row == 0)
    return Communicator::kFinishedRequest;
  if (!ops.slot_scratch) {
    reduce_scatter_blocks(comm, in, out, outer, block, element, reduction, ops);
    return Communicator::kFinishedRequest;
  }
  uint8_t *packed = ops.slot_scratch(n * outer * row, slot);
  to_rank_major(packed, static_cast<const uint8_t *>(in), n, outer, row, ops.copy_rows);
  return comm.reduce_scatter_start(packed, out, outer * block, element, reduction);
}

void slice_blocks(Communicator &comm, const void *in, void *out, int64_t outer, int64_t row,
                  const LayoutOps &ops) {
  if (outer * row == 0)
    return;
  rank_blocks(static_cast<uint8_t *>(out), static_cast<const uint8_t *>(in), comm.size(),
              comm.rank(), outer, row, ops.copy_rows);
}

void move_blocks(Communicator &comm, const void *in, void *out, int64_t send_outer,
                 int64_t send_row, int64_t recv_outer, int64_t recv_row, const LayoutOps &ops) {
  const int64_t n = comm.size();
  const int64_t chunk = send_outer * send_row; // bytes each rank sends each rank
  CLEAVE_CHECK(recv_outer * recv_row == chunk, "all_to_all receives ", recv_outer * recv_row,
               " bytes per rank but sends ", chunk);
  if (chunk == 0)
    return;
  uint8_t *packed = ops.scratch(n * chunk, 0);
  to_rank_major(packed, static_cast<const uint8_t *>(in), n, send_outer, send_row, ops.copy_rows);
  uint8_t *received = ops.scratch(n * chunk, 1);
  comm.all_to_all(packed, received, chunk, CommElement::u8);
  from_rank_major(static_cast<uint8_t *>(out), received, n, recv_outer, recv_row, ops.copy_rows);
}

} // namespace cleave::rt::collective
