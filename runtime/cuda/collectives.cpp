//===- collectives.cpp - layout around the device communicators -----------===//
//
// Mirrors runtime/comm/collectives.cpp on device buffers. Permutations
// between the communicator's rank-major [n, outer, block] and the tensor's
// [outer, n, block] are one strided copy per rank (cudaMemcpy2D), through
// a device scratch buffer kept between calls (a step repeats its sizes).
//
//===----------------------------------------------------------------------===//
#include "cleave/rt/check.h"
#include "cleave/rt/cuda_check.h"
#include "cleave/rt/cuda_collectives.h"

#include <cuda_runtime.h>

#include <sstream>
#include <string>
#include <vector>

namespace cleave::rt::cuda::collective {

namespace {

Communicator &group(void *groups, const char *axes) {
  CLEAVE_CHECK(groups, "a sharded step ran without communicators");
  auto *comm_groups = static_cast<CommGroups *>(groups);
  std::vector<std::string> names;
  std::string name;
  std::istringstream stream(axes);
  while (std::getline(stream, name, ','))
    names.push_back(name);
  Communicator &comm = names.size() == 1 ? comm_groups->axis(names[0]) : comm_groups->axes(names);
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

/// Copies `rows` rows of `row` bytes from src (rows `src_pitch` apart) to
/// dst (rows `dst_pitch` apart), device to device.
void copy_rows(void *dst, int64_t dst_pitch, const void *src, int64_t src_pitch, int64_t row,
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
  // The communicator concatenates rank-major: [n, outer, block] -> [outer, n, block].
  uint8_t *gathered = scratch(static_cast<size_t>(n * outer * row));
  comm.all_gather(in, gathered, outer * row, CommElement::u8);
  auto *dst = static_cast<uint8_t *>(out);
  for (int64_t r = 0; r < n; ++r)
    copy_rows(dst + r * row, n * row, gathered + r * outer * row, row, row, outer);
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
  // [outer, n, block] -> rank-major [n, outer, block] for the communicator.
  uint8_t *packed = scratch(static_cast<size_t>(n * outer * row));
  auto *src = static_cast<const uint8_t *>(in);
  for (int64_t r = 0; r < n; ++r)
    copy_rows(packed + r * outer * row, row, src + r * row, n * row, row, outer);
  comm.reduce_scatter(packed, out, outer * block, element, reduction);
}

void all_slice(void *groups, const char *axes, const void *in, void *out, int64_t outer,
               int64_t block, int64_t element_bytes) {
  Communicator &comm = group(groups, axes);
  int64_t n = comm.size();
  int64_t row = block * element_bytes;
  if (outer * row == 0)
    return;
  copy_rows(out, row, static_cast<const uint8_t *>(in) + comm.rank() * row, n * row, row, outer);
}

void all_to_all(void *groups, const char *axes, const void *in, void *out, int64_t send_outer,
                int64_t send_block, int64_t recv_outer, int64_t recv_block, int64_t element_bytes) {
  Communicator &comm = group(groups, axes);
  int64_t n = comm.size();
  int64_t send_row = send_block * element_bytes, recv_row = recv_block * element_bytes;
  int64_t chunk = send_outer * send_row; // bytes each rank sends each rank
  if (chunk == 0)
    return;
  // [send_outer, n, send_block] -> rank-major [n, send_outer, send_block].
  uint8_t *packed = scratch(static_cast<size_t>(n * chunk), 0);
  auto *src = static_cast<const uint8_t *>(in);
  for (int64_t r = 0; r < n; ++r)
    copy_rows(packed + r * chunk, send_row, src + r * send_row, n * send_row, send_row, send_outer);
  uint8_t *received = scratch(static_cast<size_t>(n * chunk), 1);
  comm.all_to_all(packed, received, chunk, CommElement::u8);
  // Rank-major [n, recv_outer, recv_block] -> [recv_outer, n, recv_block].
  auto *dst = static_cast<uint8_t *>(out);
  for (int64_t r = 0; r < n; ++r)
    copy_rows(dst + r * recv_row, n * recv_row, received + r * chunk, recv_row, recv_row,
              recv_outer);
}

} // namespace cleave::rt::cuda::collective
