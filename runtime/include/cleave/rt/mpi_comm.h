//===- mpi_comm.h - the MPI communicator (host buffers) --------------------===//
//
// Library cleave_rt_comm. The CPU target's communicator, and the CUDA
// target's through host staging (cuda_comm.h). Sums under
// ReductionOrder::library are MPI's own non-blocking collectives. The rest
// (sums under ReductionOrder::rank, max, min, all_to_all, broadcast) are
// built from nonblocking point-to-point messages so that
//   - reductions add in rank order whatever MPI's own algorithms would do
//     (comm.h), with the bandwidth of a ring: each rank sends and receives
//     (n-1)/n of the buffer twice for all_reduce;
//   - a wait that passes CommOptions::timeout_s knows exactly which peers'
//     messages did not come, and names them before ending the job.
// Collectives run in start order on one thread per process, beside the
// caller (docs/runtime-comm.md, "Non-blocking collectives").
// Broadcast sends from the root to every rank directly (no tree): groups
// are small on the machines this path serves.
//
//===----------------------------------------------------------------------===//
#ifndef CLEAVE_RT_MPI_COMM_H
#define CLEAVE_RT_MPI_COMM_H

#include "cleave/rt/comm.h"

#include <memory>

namespace cleave::rt {

/// The world (a duplicate of MPI_COMM_WORLD, named "world"). Initialises
/// MPI unless the program already did, and then finalises it when the
/// returned communicator is destroyed: destroy every communicator split
/// from it (CommGroups) first. A program started without mpirun is a world
/// of one rank.
std::unique_ptr<Communicator>
mpi_world(int *argc, char ***argv, const CommOptions &options = CommOptions::from_environment());

} // namespace cleave::rt

#endif // CLEAVE_RT_MPI_COMM_H
