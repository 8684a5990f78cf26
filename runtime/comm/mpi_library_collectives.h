//===- mpi_library_collectives.h - MPI's own collectives, in pieces -------===//
//
// Private to cleave_rt_comm: the posts of the MPI communicator's library
// collectives (ReductionOrder::library, mpi_communicator.cpp). Each posts
// MPI_I* collectives on `comm` into `requests` and returns MPI's error code
// (MPI_SUCCESS); the caller polls them against its timeout. A message
// whose per-rank block is longer than `piece_bytes` (at most INT_MAX, MPI's
// counts are ints) goes as one collective per piece; pieces that are not
// contiguous pass through `scratch` (which must then stay untouched until
// finish_library_all_gather). The sums are MPI's: its algorithm for each
// piece's size decides the order of the additions.
//
//===----------------------------------------------------------------------===//
#ifndef CLEAVE_RT_COMM_MPI_LIBRARY_COLLECTIVES_H
#define CLEAVE_RT_COMM_MPI_LIBRARY_COLLECTIVES_H

#include "cleave/rt/comm.h"

#include <mpi.h>

#include <vector>

namespace cleave::rt {

/// data = the group's sum of data, in place.
int post_library_all_reduce(MPI_Comm comm, void *data, int64_t count, CommElement element,
                            int64_t piece_bytes, std::vector<MPI_Request> &requests);

/// recv = block `rank` of the group's sum of send [size, recv_count];
/// recv may be that block of send.
int post_library_reduce_scatter(MPI_Comm comm, int rank, int size, const void *send, void *recv,
                                int64_t recv_count, CommElement element, int64_t piece_bytes,
                                std::vector<unsigned char> &scratch,
                                std::vector<MPI_Request> &requests);

/// recv [size, block bytes] = every rank's send; send may be block `rank`
/// of recv. Once the requests are done, finish_library_all_gather.
int post_library_all_gather(MPI_Comm comm, int rank, int size, const void *send, void *recv,
                            int64_t block, int64_t piece_bytes, std::vector<unsigned char> &scratch,
                            std::vector<MPI_Request> &requests);
void finish_library_all_gather(int size, void *recv, int64_t block, int64_t piece_bytes,
                               const std::vector<unsigned char> &scratch);

} // namespace cleave::rt

#endif // CLEAVE_RT_COMM_MPI_LIBRARY_COLLECTIVES_H
