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

constexpr LayoutOps kLayoutOps{copy_host_rows, host_scratch};

} // namespace

void all_reduce(void *groups, const char *axes, const void *in, void *out, int64_t count,
                CommElement element, CommReduction reduction) {
  if (in != out)
    std::memcpy(out, in, static_cast<size_t>(count) * element_bytes(element));
  group(groups, axes).all_reduce(out, count, element, reduction);
}

#include "cleave/rt/collective_entry_points.inc"

} // namespace cleave::rt::collective
