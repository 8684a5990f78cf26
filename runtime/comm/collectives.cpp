//===- collectives.cpp - layout around the communicator's collectives ------===//
#include "cleave/rt/collectives.h"

#include <cstring>
#include <sstream>
#include <string>
#include <vector>

namespace cleave::rt::collective {

namespace {

Communicator &group(void *groups, const char *axes) {
  auto *comm_groups = static_cast<CommGroups *>(groups);
  std::vector<std::string> names;
  std::string name;
  std::istringstream stream(axes);
  while (std::getline(stream, name, ','))
    names.push_back(name);
  return names.size() == 1 ? comm_groups->axis(names[0]) : comm_groups->axes(names);
}

std::vector<uint8_t> &scratch(int which = 0) {
  thread_local std::vector<uint8_t> buffers[2];
  return buffers[which];
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
  // The communicator concatenates rank-major: [n, outer, block] -> [outer, n, block].
  std::vector<uint8_t> &gathered = scratch();
  gathered.resize(static_cast<size_t>(n * outer * row));
  comm.all_gather(in, gathered.data(), outer * row, CommElement::u8);
  auto *dst = static_cast<uint8_t *>(out);
  for (int64_t r = 0; r < n; ++r)
    for (int64_t o = 0; o < outer; ++o)
      std::memcpy(dst + (o * n + r) * row, gathered.data() + (r * outer + o) * row,
                  static_cast<size_t>(row));
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
  // [outer, n, block] -> rank-major [n, outer, block] for the communicator.
  std::vector<uint8_t> &packed = scratch();
  packed.resize(static_cast<size_t>(n * outer * row));
  auto *src = static_cast<const uint8_t *>(in);
  for (int64_t r = 0; r < n; ++r)
    for (int64_t o = 0; o < outer; ++o)
      std::memcpy(packed.data() + (r * outer + o) * row, src + (o * n + r) * row,
                  static_cast<size_t>(row));
  comm.reduce_scatter(packed.data(), out, outer * block, element, reduction);
}

void all_slice(void *groups, const char *axes, const void *in, void *out, int64_t outer,
               int64_t block, int64_t element_bytes) {
  Communicator &comm = group(groups, axes);
  int64_t n = comm.size();
  int64_t row = block * element_bytes;
  auto *src = static_cast<const uint8_t *>(in);
  auto *dst = static_cast<uint8_t *>(out);
  for (int64_t o = 0; o < outer; ++o)
    std::memcpy(dst + o * row, src + (o * n + comm.rank()) * row, static_cast<size_t>(row));
}

void all_to_all(void *groups, const char *axes, const void *in, void *out, int64_t send_outer,
                int64_t send_block, int64_t recv_outer, int64_t recv_block, int64_t element_bytes) {
  Communicator &comm = group(groups, axes);
  int64_t n = comm.size();
  int64_t send_row = send_block * element_bytes, recv_row = recv_block * element_bytes;
  int64_t chunk = send_outer * send_row; // bytes each rank sends each rank
  // [send_outer, n, send_block] -> rank-major [n, send_outer, send_block].
  std::vector<uint8_t> &packed = scratch(0);
  packed.resize(static_cast<size_t>(n * chunk));
  auto *src = static_cast<const uint8_t *>(in);
  for (int64_t r = 0; r < n; ++r)
    for (int64_t o = 0; o < send_outer; ++o)
      std::memcpy(packed.data() + r * chunk + o * send_row, src + (o * n + r) * send_row,
                  static_cast<size_t>(send_row));
  std::vector<uint8_t> &received = scratch(1);
  received.resize(static_cast<size_t>(n * chunk));
  comm.all_to_all(packed.data(), received.data(), chunk, CommElement::u8);
  // Rank-major [n, recv_outer, recv_block] -> [recv_outer, n, recv_block].
  auto *dst = static_cast<uint8_t *>(out);
  for (int64_t r = 0; r < n; ++r)
    for (int64_t o = 0; o < recv_outer; ++o)
      std::memcpy(dst + (o * n + r) * recv_row, received.data() + r * chunk + o * recv_row,
                  static_cast<size_t>(recv_row));
}

} // namespace cleave::rt::collective
