//===- distributed_training.cpp - the training loop over MPI ranks --------===//
//
// The multi-rank side of a sharded run: the world (MPI under mpirun, gloo
// under torchrun-style variables, gloo_comm.h), the grid's communicators, and
// a Distribution (distribution.h) through which the training loop loads,
// checkpoints and exports whole tensors while each rank computes on its
// blocks. run_training_on_ranks is the frame both backends' multi-rank
// entry points share (distributed_training.h); cpu::run_training_distributed
// fills it with host buffers.
//
//===----------------------------------------------------------------------===//
#include "cleave/rt/distributed_training.h"

#include "cleave/rt/collectives.h"
#include "cleave/rt/comm_distribution.h"
#include "cleave/rt/gloo_comm.h"
#include "cleave/rt/mpi_comm.h"

#include <cstdio>
#include <cstdlib>
#include <new>

namespace cleave::rt {

int run_training_on_ranks(int argc, char **argv, const ModelInfo &model, const char *target,
                          const char *runtime, const RankTraining &train_rank) {
  std::string program = program_name(argc, argv);
  std::unique_ptr<Communicator> world;
  try {
    // torchrun-style variables and no MPI launcher: join over gloo (TCP).
    world = launched_without_mpi() ? gloo_world() : mpi_world(&argc, &argv);
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
    std::string wrong = wrong_target(model, target, runtime);
    if (!wrong.empty())
      fail(wrong);
    GridShape shape = GridShape::parse(model.grid);
    check_world_size(*world, shape.devices());
    std::optional<TrainConfig> config = parse_command_line(argc, argv, model);
    if (!config)
      return 0;
    train_rank(*world, shape, *config);
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

int cpu::run_training_distributed(int argc, char **argv, const ModelInfo &model,
                                  StepFunction step) {
  return run_training_on_ranks(
      argc, argv, model, "cpu", "the CPU runtime",
      [&](Communicator &world, const GridShape &shape, const TrainConfig &config) {
        CommGroups groups(world, DeviceGrid::parse(model.grid));
        CommDistribution distribution(shape, world, groups);
        train(config, model, step, host_memory(), stdout, &distribution);
      });
}

} // namespace cleave::rt
