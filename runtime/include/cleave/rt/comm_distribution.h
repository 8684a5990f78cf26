//===- comm_distribution.h - a Distribution over a communicator world -----===//
//
// The Distribution (distribution.h) both multi-rank drivers hand the core
// driver: whole-tensor traffic goes over the MPI world with host buffers;
// the step's collectives use the grid's CommGroups (host buffers for the
// CPU target; NCCL or host-staged device buffers for CUDA).
//
//===----------------------------------------------------------------------===//
#ifndef CLEAVE_RT_COMM_DISTRIBUTION_H
#define CLEAVE_RT_COMM_DISTRIBUTION_H

#include "cleave/rt/comm.h"
#include "cleave/rt/distribution.h"

namespace cleave::rt {

class CommDistribution : public Distribution {
public:
  CommDistribution(GridShape grid, Communicator &world, CommGroups &groups)
      : Distribution(std::move(grid)), world_(world), groups_(groups) {}

  int rank() const override { return world_.rank(); }
  bool any(bool flag) override;
  void *step_context() override { return &groups_; }
  double take_receive_wait_seconds() override;
  [[noreturn]] void abort_job(int exit_status) override;

protected:
  void all_gather_bytes(const void *send, void *recv, int64_t bytes) override;

private:
  Communicator &world_; // MPI, host buffers
  CommGroups &groups_;  // the step's communicators
};

} // namespace cleave::rt

#endif // CLEAVE_RT_COMM_DISTRIBUTION_H
