//===- collectives.cpp - the collectives on host buffers -------------------===//
//
// collectives.h for the CPU target: collective_layout.h does the work, with
// memcpy for the copies and host scratch buffers kept between calls.
//
//===----------------------------------------------------------------------===//
#include "cleave/rt/collectives.h"

#include "cleave/rt/collective_layout.h"

#include <cstring>
#include <vector>

namespace cleave::rt::collective {

namespace {

Communicator &group(void *groups, const char *axes) {
  return static_cast<CommGroups *>(groups)->group(axes);
}

uint8_t *host_scratch(int64_t bytes, int which) {
  thread_local std::vector<uint8_t> buffers[2];
  buffers[which].resize(static_cast<size_t>(bytes));
  return buffers[which].data();
}

constexpr LayoutOps kHost{copy_host_rows, host_scratch};

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
  gather_all(group(groups, axes), in, out, outer, block * element_bytes, kHost);
}

void reduce_scatter_sum(void *groups, const char *axes, const void *in, void *out, int64_t outer,
                        int64_t block, CommElement element) {
  reduce_scatter(groups, axes, in, out, outer, block, element, CommReduction::sum);
}

void reduce_scatter(void *groups, const char *axes, const void *in, void *out, int64_t outer,
                    int64_t block, CommElement element, CommReduction reduction) {
  reduce_scatter_blocks(group(groups, axes), in, out, outer, block, element, reduction, kHost);
}

void all_slice(void *groups, const char *axes, const void *in, void *out, int64_t outer,
               int64_t block, int64_t element_bytes) {
  slice_blocks(group(groups, axes), in, out, outer, block * element_bytes, kHost);
}

void all_to_all(void *groups, const char *axes, const void *in, void *out, int64_t send_outer,
                int64_t send_block, int64_t recv_outer, int64_t recv_block, int64_t element_bytes) {
  move_blocks(group(groups, axes), in, out, send_outer, send_block * element_bytes, recv_outer,
              recv_block * element_bytes, kHost);
}

} // namespace cleave::rt::collective
