//===- launch_environment.cpp - the torchrun-style variables of a job ------===//
//
// Read without gloo too: the driver decides between the MPI and the gloo
// world from them, and a build without gloo still names what is missing.
//
//===----------------------------------------------------------------------===//
#include "cleave/rt/check.h"
#include "cleave/rt/gloo_comm.h"

#include <cerrno>
#include <climits>
#include <cstdlib>

namespace cleave::rt {
namespace {

constexpr const char *kNeeds = "a launch without mpirun (torchrun style) sets RANK, WORLD_SIZE, "
                               "MASTER_ADDR and MASTER_PORT for every rank (docs/runtime-comm.md)";

const char *variable(const char *name) {
  const char *value = std::getenv(name);
  return value && *value ? value : nullptr;
}

std::string required(const char *name) {
  const char *value = variable(name);
  if (!value)
    fail(name, " is not set: ", kNeeds);
  return value;
}

/// The whole value as a decimal integer in [low, high].
int integer(const char *name, const std::string &value, long low, long high, const char *range) {
  char *end = nullptr;
  errno = 0;
  long parsed = std::strtol(value.c_str(), &end, 10);
  if (*end != '\0' || errno != 0 || parsed < low || parsed > high)
    fail(name, "='", value, "' is not ", range);
  return static_cast<int>(parsed);
}

} // namespace

LaunchEnvironment LaunchEnvironment::from_environment() {
  LaunchEnvironment job;
  job.world_size =
      integer("WORLD_SIZE", required("WORLD_SIZE"), 1, INT_MAX, "a number of ranks (1 or more)");
  job.rank =
      integer("RANK", required("RANK"), 0, job.world_size - 1,
              ("a rank of the job (0 to WORLD_SIZE-1 = " + std::to_string(job.world_size - 1) + ")")
                  .c_str());
  job.master_addr = required("MASTER_ADDR");
  job.master_port =
      integer("MASTER_PORT", required("MASTER_PORT"), 1, 65535, "a TCP port (1 to 65535)");
  if (const char *local = variable("LOCAL_RANK"))
    job.local_rank = integer("LOCAL_RANK", local, 0, INT_MAX, "a rank on this node (0 or more)");
  return job;
}

bool launched_without_mpi() {
  for (const char *mpi : {"OMPI_COMM_WORLD_SIZE", "PMIX_RANK", "PMI_RANK", "PMI_SIZE"})
    if (variable(mpi))
      return false;
  for (const char *launch : {"WORLD_SIZE", "MASTER_ADDR", "MASTER_PORT"})
    if (variable(launch))
      return true;
  return false;
}

} // namespace cleave::rt
