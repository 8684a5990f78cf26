//===- process.cpp - process-wide settings of a training executable -------===//
#include "cleave/rt/model.h"

#include <cstdlib>

#include <unistd.h>

namespace cleave::rt {

// OpenMP's threads spin between parallel regions by default. When another
// process (a parallel build, a second rank) holds a core, a spinning barrier
// makes every fused loop wait for a descheduled thread: steps ran 10x
// slower on 2 shared cores. Sleeping waiters cost microseconds per region
// instead. libgomp reads the policy once, before main(), so the program
// re-executes itself once with it set; a user's own setting wins.
void prepare_process(char **argv) {
  if (std::getenv("OMP_WAIT_POLICY") || std::getenv("GOMP_SPINCOUNT"))
    return;
  setenv("OMP_WAIT_POLICY", "PASSIVE", 1);
  execv("/proc/self/exe", argv);
  // If re-execution is impossible, run as we are: only slower.
}

} // namespace cleave::rt
