//===- nccl_watchdog.h - deadlines for asynchronous NCCL collectives -------===//
//
// NCCL collectives return at once and run later on a stream; a lost peer
// shows up as a kernel that never ends, and the rank blocks in whatever
// next waits for the stream. So one thread per process watches: after each
// collective the communicator records an event on the stream that runs it
// (the communicator's communication stream, or the step's for a transfer's
// wait); the thread polls the oldest unfinished one and, once it has been
// the oldest for longer than the timeout, prints which collective on which
// group is stuck and ends the process with kCommFailureExit, which makes
// mpirun end the job. Events of several streams share the one queue, in
// the order they were queued: one that finishes behind an older unfinished
// one stays until that one is retired, and the deadline is the oldest's.
// It also polls each communicator's asynchronous NCCL error (a peer's
// connection lost, say).
//
//===----------------------------------------------------------------------===//
#ifndef CLEAVE_RT_CUDA_NCCL_WATCHDOG_H
#define CLEAVE_RT_CUDA_NCCL_WATCHDOG_H

#include "cleave/rt/comm.h"

#include <cuda_runtime.h>
#include <nccl.h>

#include <memory>
#include <string>

namespace cleave::rt::cuda::detail {

/// What a message needs to say about a communicator: "rank 3: ... over
/// group 'tp' (ranks 2,3)".
struct WatchedGroup {
  ncclComm_t comm;
  int world_rank;
  std::string description;
  double timeout_s;
};

/// Starts watching `group` (its asynchronous errors) on `device`.
void watch(std::shared_ptr<const WatchedGroup> group, int device);
/// Waits for the group's collectives and stops watching it. The caller
/// first synchronizes the non-blocking streams the group queued work on
/// (the legacy default stream does not wait for them).
void unwatch(const WatchedGroup *group);
/// Records that collective number `call` (`op`) was just queued on
/// `stream` for `group` (nullptr: the legacy default stream). For a
/// point-to-point wait, `peer` is the world rank of the other side ("recv
/// from" / "send to" as `op`), named in the timeout message; -1 for
/// collectives.
void queued(const std::shared_ptr<const WatchedGroup> &group, const char *op, CommElement element,
            int64_t call, int peer = -1, cudaStream_t stream = nullptr);

} // namespace cleave::rt::cuda::detail

#endif // CLEAVE_RT_CUDA_NCCL_WATCHDOG_H
