//===- collectives.cpp - layout around the device communicators -----------===//
//
// Mirrors runtime/comm/collectives.cpp on device buffers: collective_layout.h
// does the work; each of its strided copies is one cudaMemcpy2D, through a
// device scratch buffer kept between calls (a step repeats its sizes).
//
//===----------------------------------------------------------------------===//
#include "cleave/rt/check.h"
#include "cleave/rt/collective_layout.h"
#include "cleave/rt/cuda_check.h"
#include "cleave/rt/cuda_collectives.h"

#include <cuda_runtime.h>

#include <memory>
#include <vector>

namespace cleave::rt::cuda::collective {

using rt::collective::gather_all;
using rt::collective::LayoutOps;
using rt::collective::move_blocks;
using rt::collective::reduce_scatter_blocks;
using rt::collective::slice_blocks;

namespace {

Communicator &group(void *groups, const char *axes) {
  CLEAVE_CHECK(groups, "a sharded step ran without communicators");
  Communicator &comm = static_cast<CommGroups *>(groups)->group(axes);
  CLEAVE_CHECK(!comm.is_host(), comm.describe(), " (", comm.backend(),
               ") takes host buffers, but the CUDA step's tensors are on the GPU");
  return comm;
}

/// Device scratch for the permutations; grows, never shrinks.
class Scratch {
public:
  ~Scratch() {
    if (data_)
      (void)cudaFree(data_); // the CUDA runtime may already be gone at exit
  }
  uint8_t *get(size_t bytes) {
    if (bytes > size_) {
      if (data_)
        CLEAVE_CUDA_CHECK(cudaFree(data_));
      data_ = nullptr;
      size_ = 0;
      CLEAVE_CUDA_CHECK(cudaMalloc(reinterpret_cast<void **>(&data_), bytes));
      size_ = bytes;
    }
    return data_;
  }

private:
  uint8_t *data_ = nullptr;
  size_t size_ = 0;
};

uint8_t *device_scratch(int64_t bytes, int which) {
  thread_local Scratch buffers[2];
  return buffers[which].get(static_cast<size_t>(bytes));
}

/// CopyRows (collective_layout.h) device to device.
void copy_rows(uint8_t *dst, int64_t dst_pitch, const uint8_t *src, int64_t src_pitch, int64_t row,
               int64_t rows) {
  CLEAVE_CUDA_CHECK(cudaMemcpy2D(dst, static_cast<size_t>(dst_pitch), src,
                                 static_cast<size_t>(src_pitch), static_cast<size_t>(row),
                                 static_cast<size_t>(rows), cudaMemcpyDeviceToDevice));
}

/// One device buffer per slot, for the non-blocking collectives in flight
/// (a gather's blocks land here until its wait moves them into place).
/// Growing one frees the old buffer, which cudaFree does only once the
/// device is idle, so a collective still reading it is never cut short.
uint8_t *device_slot_scratch(int64_t bytes, int64_t slot) {
  thread_local std::vector<std::unique_ptr<Scratch>> buffers;
  if (buffers.size() <= static_cast<size_t>(slot))
    buffers.resize(static_cast<size_t>(slot) + 1);
  std::unique_ptr<Scratch> &buffer = buffers[static_cast<size_t>(slot)];
  if (!buffer)
    buffer = std::make_unique<Scratch>();
  return buffer->get(static_cast<size_t>(bytes));
}

constexpr LayoutOps kLayoutOps{copy_rows, device_scratch, device_slot_scratch};

} // namespace

void all_reduce(void *groups, const char *axes, const void *in, void *out, int64_t count,
                CommElement element, CommReduction reduction) {
  Communicator &comm = group(groups, axes);
  if (in != out && count > 0)
    CLEAVE_CUDA_CHECK(cudaMemcpy(out, in, static_cast<size_t>(count) * element_bytes(element),
                                 cudaMemcpyDeviceToDevice));
  comm.all_reduce(out, count, element, reduction);
}

#include "cleave/rt/collective_entry_points.inc"

namespace {

/// The groups of a pipeline step whose `axis` communicator takes device buffers.
CommGroups &transfers(void *groups, const char *axis) {
  group(groups, axis);
  return *static_cast<CommGroups *>(groups);
}

} // namespace

void send_start(void *groups, const char *axis, int64_t peer, const void *data, int64_t bytes,
                int64_t tag, int64_t slot) {
  transfers(groups, axis).start_send(axis, peer, data, bytes, tag, slot);
}

void recv_start(void *groups, const char *axis, int64_t peer, void *data, int64_t bytes,
                int64_t tag, int64_t slot) {
  transfers(groups, axis).start_receive(axis, peer, data, bytes, tag, slot);
}

void wait(void *groups, int64_t slot) {
  CLEAVE_CHECK(groups, "a pipeline step ran without communicators");
  static_cast<CommGroups *>(groups)->wait_transfer(slot);
}

int64_t grid_coordinate(void *groups, const char *axis) {
  CLEAVE_CHECK(groups, "a pipeline step ran without communicators");
  return static_cast<CommGroups *>(groups)->coordinate(axis);
}

} // namespace cleave::rt::cuda::collective
