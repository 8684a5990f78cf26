//===- gloo_comm.h - the communicator of a launch without mpirun ----------===//
//
// Clusters run by torchrun or Kubernetes start each rank themselves and
// describe the job in the environment: RANK, WORLD_SIZE, LOCAL_RANK,
// MASTER_ADDR, MASTER_PORT. A program started that way (and by no MPI
// launcher) joins the job over TCP with gloo, PyTorch's CPU collective
// library: rank 0 serves a small key-value store at MASTER_ADDR:MASTER_PORT
// where the ranks exchange their addresses, then every pair of ranks
// connects (docs/runtime-comm.md, "Launching without mpirun").
//
// The gloo communicator keeps comm.h's contract: host buffers; sums in
// group-rank order with CLEAVE_REDUCTION_ORDER=rank (the same rounds, hence
// the same bits, as the MPI communicator), gloo's own ring all-reduce for
// sums with `library`; max, min, reduce-scatter, all-gather, all-to-all and
// broadcast always take the rank-order rounds. A peer that dies (its
// connections close) or stops (CommOptions::timeout_s passes) is named by
// every rank waiting on it, which then exits with kCommFailureExit.
//
// Library cleave_rt_comm; gloo_world throws Error when it was built
// without gloo (libgloo-dev).
//
//===----------------------------------------------------------------------===//
#ifndef CLEAVE_RT_GLOO_COMM_H
#define CLEAVE_RT_GLOO_COMM_H

#include "cleave/rt/comm.h"

#include <memory>
#include <string>

namespace cleave::rt {

/// The job as the launcher's variables describe it.
struct LaunchEnvironment {
  int rank = 0;
  int world_size = 1;
  /// -1 when LOCAL_RANK is not set.
  int local_rank = -1;
  std::string master_addr;
  int master_port = 0;

  /// Reads and checks the variables; throws Error naming the variable that
  /// is missing or malformed and what a launch without mpirun needs.
  static LaunchEnvironment from_environment();
};

/// True when the environment asks for a launch without mpirun: one of
/// WORLD_SIZE, MASTER_ADDR, MASTER_PORT is set and no MPI launcher's own
/// variable is (OMPI_COMM_WORLD_SIZE, PMIX_RANK, PMI_RANK, PMI_SIZE: a
/// program under mpirun or srun --mpi keeps the MPI world).
bool launched_without_mpi();

/// The world of such a launch (named "world"), from LaunchEnvironment.
/// Collective: returns once every rank has joined, or throws Error after
/// options.timeout_s (none when that is 0 or less) naming what did not
/// happen. Communicators split from it must be destroyed first.
std::unique_ptr<Communicator>
gloo_world(const CommOptions &options = CommOptions::from_environment());

/// Whether this build has gloo (gloo_world throws Error otherwise).
bool have_gloo();

} // namespace cleave::rt

#endif // CLEAVE_RT_GLOO_COMM_H
