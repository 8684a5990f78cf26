//===- mpi_library_collectives.cpp - MPI's own collectives, in pieces -----===//
#include "mpi_library_collectives.h"

#include <algorithm>
#include <cstring>

namespace cleave::rt {
namespace {

MPI_Datatype mpi_type(CommElement element) {
  return element == CommElement::f32 ? MPI_FLOAT : MPI_INT64_T;
}

/// Elements of `element` per piece of a message (at least one).
int64_t piece_elements(CommElement element, int64_t piece_bytes) {
  return std::max<int64_t>(1, piece_bytes / static_cast<int64_t>(element_bytes(element)));
}

void copy(void *dst, const void *src, int64_t bytes) {
  if (bytes > 0 && dst != src)
    std::memcpy(dst, src, static_cast<size_t>(bytes));
}

unsigned char *grow(std::vector<unsigned char> &scratch, int64_t bytes) {
  if (scratch.size() < static_cast<size_t>(bytes))
    scratch.resize(static_cast<size_t>(bytes));
  return scratch.data();
}

/// Posts one collective: start(request) calls MPI_I*.
template <typename Start> int post(std::vector<MPI_Request> &requests, Start start) {
  requests.push_back(MPI_REQUEST_NULL);
  return start(&requests.back());
}

} // namespace

int post_library_all_reduce(MPI_Comm comm, void *data, int64_t count, CommElement element,
                            int64_t piece_bytes, std::vector<MPI_Request> &requests) {
  const int64_t width = static_cast<int64_t>(element_bytes(element));
  const int64_t piece = piece_elements(element, piece_bytes);
  auto *p = static_cast<unsigned char *>(data);
  for (int64_t offset = 0; offset < count; offset += piece) {
    const int m = static_cast<int>(std::min(piece, count - offset));
    const int rc = post(requests, [&](MPI_Request *r) {
      return MPI_Iallreduce(MPI_IN_PLACE, p + offset * width, m, mpi_type(element), MPI_SUM, comm,
                            r);
    });
    if (rc != MPI_SUCCESS)
      return rc;
  }
  return MPI_SUCCESS;
}

int post_library_reduce_scatter(MPI_Comm comm, int rank, int size, const void *send, void *recv,
                                int64_t recv_count, CommElement element, int64_t piece_bytes,
                                std::vector<unsigned char> &scratch,
                                std::vector<MPI_Request> &requests) {
  const int64_t width = static_cast<int64_t>(element_bytes(element));
  const int64_t block = recv_count * width;
  const auto *in = static_cast<const unsigned char *>(send);
  auto *out = static_cast<unsigned char *>(recv);
  const int64_t piece = piece_elements(element, piece_bytes);
  if (recv_count <= piece) {
    // MPI forbids aliased buffers (and its MPI_IN_PLACE means another
    // layout): an in-place call goes through scratch.
    if (in + rank * block == out) {
      unsigned char *copied = grow(scratch, block * size);
      copy(copied, in, block * size);
      in = copied;
    }
    return post(requests, [&](MPI_Request *r) {
      return MPI_Ireduce_scatter_block(in, out, static_cast<int>(recv_count), mpi_type(element),
                                       MPI_SUM, comm, r);
    });
  }
  // Pieces: elements [a, a + m) of every rank's block, packed rank-major,
  // all before the first post (recv may be this rank's block of send).
  unsigned char *packed = grow(scratch, block * size);
  for (int64_t a = 0; a < recv_count; a += piece) {
    const int64_t m = std::min(piece, recv_count - a);
    for (int r = 0; r < size; ++r)
      copy(packed + (size * a + r * m) * width, in + r * block + a * width, m * width);
  }
  for (int64_t a = 0; a < recv_count; a += piece) {
    const int m = static_cast<int>(std::min(piece, recv_count - a));
    const int rc = post(requests, [&](MPI_Request *r) {
      return MPI_Ireduce_scatter_block(packed + size * a * width, out + a * width, m,
                                       mpi_type(element), MPI_SUM, comm, r);
    });
    if (rc != MPI_SUCCESS)
      return rc;
  }
  return MPI_SUCCESS;
}

int post_library_all_gather(MPI_Comm comm, int rank, int size, const void *send, void *recv,
                            int64_t block, int64_t piece_bytes, std::vector<unsigned char> &scratch,
                            std::vector<MPI_Request> &requests) {
  auto *out = static_cast<unsigned char *>(recv);
  const auto *in = static_cast<const unsigned char *>(send);
  if (block <= piece_bytes) {
    const int bytes = static_cast<int>(block);
    return post(requests, [&](MPI_Request *r) {
      return in == out + rank * block
                 ? MPI_Iallgather(MPI_IN_PLACE, 0, MPI_DATATYPE_NULL, out, bytes, MPI_BYTE, comm, r)
                 : MPI_Iallgather(in, bytes, MPI_BYTE, out, bytes, MPI_BYTE, comm, r);
    });
  }
  // Pieces: bytes [a, a + m) of every rank's block land rank-major in
  // scratch; finish_library_all_gather moves them to their blocks.
  unsigned char *gathered = grow(scratch, block * size);
  for (int64_t a = 0; a < block; a += piece_bytes) {
    const int m = static_cast<int>(std::min(piece_bytes, block - a));
    const int rc = post(requests, [&](MPI_Request *r) {
      return MPI_Iallgather(in + a, m, MPI_BYTE, gathered + size * a, m, MPI_BYTE, comm, r);
    });
    if (rc != MPI_SUCCESS)
      return rc;
  }
  return MPI_SUCCESS;
}

void finish_library_all_gather(int size, void *recv, int64_t block, int64_t piece_bytes,
                               const std::vector<unsigned char> &scratch) {
  if (block <= piece_bytes)
    return;
  auto *out = static_cast<unsigned char *>(recv);
  for (int64_t a = 0; a < block; a += piece_bytes) {
    const int64_t m = std::min(piece_bytes, block - a);
    for (int r = 0; r < size; ++r)
      copy(out + r * block + a, scratch.data() + size * a + r * m, m);
  }
}

} // namespace cleave::rt
