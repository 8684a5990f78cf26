//===- DistributionMpiTest.cpp - CommDistribution with stage lists, 4 ranks -===//
//
// Under `mpirun -np 4`: the Distribution the multi-rank drivers use
// (CommDistribution over MPI) on grid pp=2,dp=2, with the sharding strings
// a pipeline program's ModelInfo holds ("@<stages>:<dims>",
// distribution.h): each rank's block, extract and assemble, where the
// ranks of stages other than the first listed hold stale values that
// assemble must not take; the gather of per-rank values the busy-time
// report uses; and the receive-wait time, 0 without transfers.
//
//===----------------------------------------------------------------------===//
#include "cleave/rt/check.h"
#include "cleave/rt/comm.h"
#include "cleave/rt/comm_distribution.h"
#include "cleave/rt/mpi_comm.h"

#include <cmath>
#include <cstdio>
#include <string>
#include <vector>

using namespace cleave::rt;

namespace {

int failures = 0, checks = 0;
int my_rank = 0;

void check(bool ok, const std::string &what) {
  ++checks;
  if (!ok) {
    ++failures;
    std::printf("rank %d: FAILED: %s\n", my_rank, what.c_str());
  }
}

int run() {
  std::unique_ptr<Communicator> world = mpi_world(nullptr, nullptr);
  my_rank = world->rank();
  const char *grid = "pp=2,dp=2";
  check_world_size(*world, 4);
  CommGroups groups(*world, DeviceGrid::parse(grid));
  CommDistribution distribution(GridShape::parse(grid), *world, groups);
  const int stage = my_rank / 2, dp = my_rank % 2;

  static const int64_t shape[] = {4, 6};
  const TensorSpec spec{"w", DType::f32, 2, shape};
  std::vector<float> full(24);
  for (size_t i = 0; i < full.size(); ++i)
    full[i] = static_cast<float>(i) * 0.5f;

  struct Case {
    const char *sharding;
    std::vector<int> stages; // holders; the first is the owner
    int64_t held_floats;
  };
  for (const Case &c :
       {Case{"@0:dp,-", {0}, 12}, Case{"@1:-,dp", {1}, 12}, Case{"@1,0:", {1, 0}, 24},
        Case{"@0,1:-,dp", {0, 1}, 12}, Case{"dp,-", {}, 12}}) {
    std::string what = std::string(c.sharding) + ": ";
    bool holds = c.stages.empty();
    for (int s : c.stages)
      holds |= s == stage;
    bool owner = c.stages.empty() || c.stages.front() == stage;
    check(distribution.holds(spec, c.sharding) == holds, what + "holds");
    check(distribution.local_bytes(spec, c.sharding) == (holds ? c.held_floats * 4 : 0),
          what + "local bytes");
    std::vector<float> local(static_cast<size_t>(c.held_floats), -1.0f);
    distribution.extract(spec, c.sharding, full.data(), local.data());
    if (!holds) {
      bool untouched = true;
      for (float value : local)
        untouched &= value == -1.0f;
      check(untouched, what + "extract leaves a rank that holds nothing alone");
    } else if (std::string(c.sharding) == "@0:dp,-") {
      check(local[0] == full[static_cast<size_t>(dp) * 12], what + "rows of dp");
    }
    if (!owner)
      for (float &value : local)
        value = NAN; // a stale copy assemble must not read
    std::vector<float> whole(24, 0.0f);
    distribution.assemble(spec, c.sharding, local.data(), whole.data());
    check(whole == full, what + "assemble rebuilds the tensor from the first listed stage");
  }

  std::vector<double> values = distribution.all_gather(my_rank * 1.5);
  check(values == std::vector<double>{0.0, 1.5, 3.0, 4.5}, "all_gather of doubles");
  check(distribution.take_receive_wait_seconds() == 0, "no transfers, no waiting");

  try {
    distribution.local_bytes(spec, "@2:dp,-");
    check(false, "a stage beyond the pp axis is refused");
  } catch (const Error &error) {
    check(std::string(error.what()).find("lists stage 2, but the grid's pp axis has 2 stages") !=
              std::string::npos,
          "the message names the stage and the axis");
  }
  std::printf("rank %d: %d distribution checks, %d failures\n", my_rank, checks, failures);
  return failures == 0 ? 0 : 1;
}

} // namespace

int main() {
  try {
    return run();
  } catch (const Error &e) {
    std::fprintf(stderr, "distribution-test: error: %s\n", e.what());
    return 1;
  }
}
