//===- collectives.cpp - layout around the communicator's collectives ------===//
//
// The generated step's collectives on host buffers: the permutations
// between the tensor's [outer, n, block] and the communicator's rank-major
// layout come from rank_major.h, copied with memcpy through a host scratch
// buffer kept between calls (a step repeats its sizes).
//
//===----------------------------------------------------------------------===//
#include "cleave/rt/collectives.h"

#include "cleave/rt/check.h"
#include "cleave/rt/rank_major.h"

#include <cstring>
#include <vector>

namespace cleave::rt::collective {

namespace {

Communicator &group(void *groups, const char *axes) {
  return static_cast<CommGroups *>(groups)->group(axes);
}

uint8_t *scratch(int64_t bytes, int which = 0) {
  thread_local std::vector<uint8_t> buffers[2];
  buffers[which].resize(static_cast<size_t>(bytes));
  return buffers[which].data();
}

} // namespace

void all_reduce(void *groups, const char *axes, const void *in, void *out, int64_t count,
                CommElement element, CommReduction reduction) {
  if (in != out)
    std::memcpy(out, in, static_cast<size_t>(count) * element_bytes(element));
  group(groups, axes).all_reduce(out, count, element, reduction);
}

void all_reduce_sum(void *groups, const char *axes, const void *in, void *out, int64_t count,
                    CommElement element) {
  all_reduce(groups, axes, in, out, count, element, CommReduction::sum);
}

void all_gather(void *groups, const char *axes, const void *in, void *out, int64_t outer,
                int64_t block, int64_t element_bytes) {
  Communicator &comm = group(groups, axes);
  int64_t n = comm.size();
  int64_t row = block * element_bytes; // bytes of one [block] row
  if (outer == 1) {
    comm.all_gather(in, out, row, CommElement::u8);
    return;
  }
  uint8_t *gathered = scratch(n * outer * row);
  comm.all_gather(in, gathered, outer * row, CommElement::u8);
  from_rank_major(static_cast<uint8_t *>(out), gathered, n, outer, row, copy_host_rows);
}

void reduce_scatter_sum(void *groups, const char *axes, const void *in, void *out, int64_t outer,
                        int64_t block, CommElement element) {
  reduce_scatter(groups, axes, in, out, outer, block, element, CommReduction::sum);
}

void reduce_scatter(void *groups, const char *axes, const void *in, void *out, int64_t outer,
                    int64_t block, CommElement element, CommReduction reduction) {
  Communicator &comm = group(groups, axes);
  int64_t n = comm.size();
  int64_t row = block * static_cast<int64_t>(element_bytes(element));
  if (outer == 1) {
    comm.reduce_scatter(in, out, block, element, reduction);
    return;
  }
  uint8_t *packed = scratch(n * outer * row);
  to_rank_major(packed, static_cast<const uint8_t *>(in), n, outer, row, copy_host_rows);
  comm.reduce_scatter(packed, out, outer * block, element, reduction);
}

void all_slice(void *groups, const char *axes, const void *in, void *out, int64_t outer,
               int64_t block, int64_t element_bytes) {
  Communicator &comm = group(groups, axes);
  rank_blocks(static_cast<uint8_t *>(out), static_cast<const uint8_t *>(in), comm.size(),
              comm.rank(), outer, block * element_bytes, copy_host_rows);
}

void all_to_all(void *groups, const char *axes, const void *in, void *out, int64_t send_outer,
                int64_t send_block, int64_t recv_outer, int64_t recv_block, int64_t element_bytes) {
  Communicator &comm = group(groups, axes);
  int64_t n = comm.size();
  int64_t send_row = send_block * element_bytes, recv_row = recv_block * element_bytes;
  int64_t chunk = send_outer * send_row; // bytes each rank sends each rank
  CLEAVE_CHECK(recv_outer * recv_row == chunk, "all_to_all receives ", recv_outer * recv_row,
               " bytes per rank but sends ", chunk);
  uint8_t *packed = scratch(n * chunk, 0);
  to_rank_major(packed, static_cast<const uint8_t *>(in), n, send_outer, send_row, copy_host_rows);
  uint8_t *received = scratch(n * chunk, 1);
  comm.all_to_all(packed, received, chunk, CommElement::u8);
  from_rank_major(static_cast<uint8_t *>(out), received, n, recv_outer, recv_row, copy_host_rows);
}

} // namespace cleave::rt::collective
