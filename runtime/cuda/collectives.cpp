//===- collectives.cpp - layout around the device communicators -----------===//
//
// Mirrors runtime/comm/collectives.cpp on device buffers. The permutations
// between the communicator's rank-major [n, outer, block] and the tensor's
// [outer, n, block] come from rank_major.h; each of its strided copies is
// one cudaMemcpy2D, through a device scratch buffer kept between calls (a
// step repeats its sizes).
//
//===----------------------------------------------------------------------===//
#include "cleave/rt/check.h"
#include "cleave/rt/cuda_check.h"
#include "cleave/rt/cuda_collectives.h"
#include "cleave/rt/rank_major.h"

#include <cuda_runtime.h>

namespace cleave::rt::cuda::collective {

using rt::collective::from_rank_major;
using rt::collective::rank_blocks;
using rt::collective::to_rank_major;

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

uint8_t *scratch(size_t bytes, int which = 0) {
  thread_local Scratch buffers[2];
  return buffers[which].get(bytes);
}

/// CopyRows (rank_major.h) device to device.
void copy_rows(uint8_t *dst, int64_t dst_pitch, const uint8_t *src, int64_t src_pitch, int64_t row,
               int64_t rows) {
  CLEAVE_CUDA_CHECK(cudaMemcpy2D(dst, static_cast<size_t>(dst_pitch), src,
                                 static_cast<size_t>(src_pitch), static_cast<size_t>(row),
                                 static_cast<size_t>(rows), cudaMemcpyDeviceToDevice));
}

} // namespace

void all_reduce(void *groups, const char *axes, const void *in, void *out, int64_t count,
                CommElement element, CommReduction reduction) {
  Communicator &comm = group(groups, axes);
  if (in != out && count > 0)
    CLEAVE_CUDA_CHECK(cudaMemcpy(out, in, static_cast<size_t>(count) * element_bytes(element),
                                 cudaMemcpyDeviceToDevice));
  comm.all_reduce(out, count, element, reduction);
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
  if (outer * row == 0)
    return;
  uint8_t *gathered = scratch(static_cast<size_t>(n * outer * row));
  comm.all_gather(in, gathered, outer * row, CommElement::u8);
  from_rank_major(static_cast<uint8_t *>(out), gathered, n, outer, row, copy_rows);
}

void reduce_scatter_sum(void *groups, const char *axes, const void *in, void *out, int64_t outer,
                        int64_t block, CommElement element) {
  reduce_scatter(groups, axes, in, out, outer, block, element, CommReduction::sum);
}

void reduce_scatter(void *groups, const char *axes, const void *in, void *out, int64_t outer,
                    int64_t block, CommElement element, CommReduction reduction) {
  Communicator &comm = group(groups, axes);
  int64_t n = comm.size();
  int64_t row = block * static_cast<int64_t>(cleave::rt::element_bytes(element));
  if (outer == 1) {
    comm.reduce_scatter(in, out, block, element, reduction);
    return;
  }
  if (outer * row == 0)
    return;
  uint8_t *packed = scratch(static_cast<size_t>(n * outer * row));
  to_rank_major(packed, static_cast<const uint8_t *>(in), n, outer, row, copy_rows);
  comm.reduce_scatter(packed, out, outer * block, element, reduction);
}

void all_slice(void *groups, const char *axes, const void *in, void *out, int64_t outer,
               int64_t block, int64_t element_bytes) {
  Communicator &comm = group(groups, axes);
  int64_t n = comm.size();
  int64_t row = block * element_bytes;
  if (outer * row == 0)
    return;
  rank_blocks(static_cast<uint8_t *>(out), static_cast<const uint8_t *>(in), n, comm.rank(), outer,
              row, copy_rows);
}

void all_to_all(void *groups, const char *axes, const void *in, void *out, int64_t send_outer,
                int64_t send_block, int64_t recv_outer, int64_t recv_block, int64_t element_bytes) {
  Communicator &comm = group(groups, axes);
  int64_t n = comm.size();
  int64_t send_row = send_block * element_bytes, recv_row = recv_block * element_bytes;
  int64_t chunk = send_outer * send_row; // bytes each rank sends each rank
  CLEAVE_CHECK(recv_outer * recv_row == chunk, "all_to_all receives ", recv_outer * recv_row,
               " bytes per rank but sends ", chunk);
  if (chunk == 0)
    return;
  uint8_t *packed = scratch(static_cast<size_t>(n * chunk), 0);
  to_rank_major(packed, static_cast<const uint8_t *>(in), n, send_outer, send_row, copy_rows);
  uint8_t *received = scratch(static_cast<size_t>(n * chunk), 1);
  comm.all_to_all(packed, received, chunk, CommElement::u8);
  from_rank_major(static_cast<uint8_t *>(out), received, n, recv_outer, recv_row, copy_rows);
}

} // namespace cleave::rt::cuda::collective
