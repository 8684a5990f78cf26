//===- collectives.cpp - the collectives on host buffers -------------------===//
//
// collectives.h for the CPU target: collective_layout.h does the work, with
// memcpy for the copies and host scratch buffers kept between calls.
//
//===----------------------------------------------------------------------===//
#include "cleave/rt/collectives.h"

#include "cleave/rt/check.h"
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

/// One buffer per slot, for the non-blocking collectives in flight.
uint8_t *host_slot_scratch(int64_t bytes, int64_t slot) {
  thread_local std::vector<std::vector<uint8_t>> buffers;
  if (buffers.size() <= static_cast<size_t>(slot))
    buffers.resize(static_cast<size_t>(slot) + 1); // moves keep the inner buffers in place
  buffers[static_cast<size_t>(slot)].resize(static_cast<size_t>(bytes));
  return buffers[static_cast<size_t>(slot)].data();
}

constexpr LayoutOps kLayoutOps{copy_host_rows, host_scratch, host_slot_scratch};

CommGroups &transfers(void *groups) {
  if (!groups)
    fail("a pipeline step ran without communicators: run it with its device grid");
  return *static_cast<CommGroups *>(groups);
}

} // namespace

void all_reduce(void *groups, const char *axes, const void *in, void *out, int64_t count,
                CommElement element, CommReduction reduction) {
  if (in != out)
    std::memcpy(out, in, static_cast<size_t>(count) * element_bytes(element));
  group(groups, axes).all_reduce(out, count, element, reduction);
}

#include "cleave/rt/collective_entry_points.inc"

void send_start(void *groups, const char *axis, int64_t peer, const void *data, int64_t bytes,
                int64_t tag, int64_t slot) {
  transfers(groups).start_send(axis, peer, data, bytes, tag, slot);
}

void recv_start(void *groups, const char *axis, int64_t peer, void *data, int64_t bytes,
                int64_t tag, int64_t slot) {
  transfers(groups).start_receive(axis, peer, data, bytes, tag, slot);
}

void wait(void *groups, int64_t slot) { transfers(groups).wait_transfer(slot); }

int64_t grid_coordinate(void *groups, const char *axis) {
  return transfers(groups).coordinate(axis);
}

} // namespace cleave::rt::collective
