//===- cuda_comm.h - communicators over device buffers ---------------------===//
//
// Library cleave_rt_cuda_comm (with cleave_rt_cuda and cleave_rt_comm).
// Two ways for a --target cuda program to run its collectives on device
// buffers (comm.h):
//
//   * nccl_world: NCCL, one rank per GPU. The unique id is made by rank 0
//     and broadcast over an MPI communicator (as llm.c does); the MPI side
//     also splits groups and names ranks in messages. Sums call
//     ncclAllReduce / ncclReduceScatter under CommOptions::reduction_order
//     `library` (the default); under `rank`, and for max and min, they add
//     in rank order like the MPI communicator (send/receive rounds plus one
//     add kernel), so both give the same bits.
//   * host_staged: any host communicator (MPI) behind copies to and from
//     the host. Slower, but several ranks may share one GPU, which is how
//     plans are checked on a one-GPU machine.
//
// The step's device work runs on the legacy default stream, like the CUDA
// kernels. An NCCL communicator's collectives run on its own communication
// stream, ordered against the step's by events (a start follows the work
// queued before it; a wait makes the step's stream follow the collective).
// A watchdog thread ends the job (kCommFailureExit) when one has not
// finished CommOptions::timeout_s after its stream reached it, or when NCCL
// reports an asynchronous error.
//
//===----------------------------------------------------------------------===//
#ifndef CLEAVE_RT_CUDA_COMM_H
#define CLEAVE_RT_CUDA_COMM_H

#include "cleave/rt/comm.h"

#include <memory>

namespace cleave::rt::cuda {

/// True when this runtime was built with NCCL.
bool have_nccl();

/// The NCCL world over this process's GPU (select_device(), cuda_memory.h),
/// bootstrapped over `host_world`, an MPI world that must outlive it.
/// Throws Error when two ranks would drive the same GPU (naming them and
/// the GPU), when NCCL fails to start, or when built without NCCL.
std::unique_ptr<Communicator>
nccl_world(Communicator &host_world, const CommOptions &options = CommOptions::from_environment());

/// `host` (is_host()) for device buffers: each collective copies its device
/// input to the host, runs there and copies the result back (a started one
/// at its wait). Waits for the device work queued before it.
std::unique_ptr<Communicator> host_staged(std::unique_ptr<Communicator> host);

} // namespace cleave::rt::cuda

#endif // CLEAVE_RT_CUDA_COMM_H
