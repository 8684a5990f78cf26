//===- gloo_unavailable.cpp - gloo_world in a build without gloo -----------===//
//
// The launch variables are still read and checked, so a job that sets them
// learns first what it got wrong, then what the build lacks.
//
//===----------------------------------------------------------------------===//
#include "cleave/rt/check.h"
#include "cleave/rt/gloo_comm.h"

namespace cleave::rt {

bool have_gloo() { return false; }

std::unique_ptr<Communicator> gloo_world(const CommOptions &) {
  LaunchEnvironment::from_environment();
  fail("this program was built without gloo, so it cannot join a job launched without mpirun "
       "(RANK, WORLD_SIZE, MASTER_ADDR, MASTER_PORT): install libgloo-dev and rebuild Cleave, "
       "or launch with mpirun");
}

} // namespace cleave::rt
