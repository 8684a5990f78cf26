//===- distributed_training.cpp - the CPU training loop over MPI ranks ----===//
//
// The MPI side of a sharded run: the world, the grid's communicators, and
// a Distribution (distribution.h) through which the training loop loads,
// checkpoints and exports whole tensors while each rank computes on its
// blocks. An error on any rank ends the whole job (abort_job), so no rank
// waits on a collective its peers will never join.
//
//===----------------------------------------------------------------------===//
#include "cleave/rt/collectives.h"
#include "cleave/rt/comm_distribution.h"
#include "cleave/rt/distribution.h"
#include "cleave/rt/mpi_comm.h"
#include "cleave/rt/training_loop.h"

#include <cstdio>
#include <cstdlib>
#include <new>

namespace cleave::rt {

namespace {

std::string program_name(int argc, char **argv) {
  std::string program = argc > 0 && argv[0] ? argv[0] : "train";
  size_t slash = program.find_last_of('/');
  return slash == std::string::npos ? program : program.substr(slash + 1);
}

} // namespace

int run_training_distributed(int argc, char **argv, const ModelInfo &model, StepFunction step) {
  std::string program = program_name(argc, argv);
  std::unique_ptr<Communicator> world;
  try {
    world = mpi_world(&argc, &argv);
  } catch (const std::exception &error) {
    std::fprintf(stderr, "%s: error: %s\n", program.c_str(), error.what());
    return 1;
  }
  int rank = world->rank();
  bool several = world->size() > 1;
  auto report = [&](const char *message) {
    std::fflush(stdout);
    if (several)
      std::fprintf(stderr, "%s: error (rank %d): %s\n", program.c_str(), rank, message);
    else
      std::fprintf(stderr, "%s: error: %s\n", program.c_str(), message);
    std::fflush(stderr);
  };
  int status = 0;
  try {
    GridShape shape = GridShape::parse(model.grid);
    check_world_size(*world, shape.devices());
    std::optional<TrainConfig> config = parse_command_line(argc, argv, model);
    if (!config)
      return 0;
    CommGroups groups(*world, DeviceGrid::parse(model.grid));
    CommDistribution distribution(shape, *world, groups);
    train(*config, model, step, host_memory(), stdout, &distribution);
    return 0;
  } catch (const UsageError &error) {
    report(error.what());
    if (rank == 0)
      std::fprintf(stderr, "Run '%s --help' for the options.\n", program.c_str());
    status = 2;
  } catch (const std::bad_alloc &) {
    report("out of host memory");
    status = 1;
  } catch (const std::exception &error) {
    report(error.what());
    status = 1;
  }
  // The other ranks may be waiting in a collective this rank will not
  // join: end them too rather than let them run into the timeout.
  if (several)
    world->abort_job(status);
  return status;
}

} // namespace cleave::rt
