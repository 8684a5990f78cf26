//===- distributed_training.h - the frame of the multi-rank entry points --===//
//
// cpu::run_training_distributed (collectives.h) and
// cuda::run_training_distributed (cuda_collectives.h) differ only in what a
// rank does once the job is up: which communicators it builds and which
// memory it trains in. The rest is one frame: join the MPI job, check the
// world size against the grid, parse the command line, report an error as
// "<program>: error (rank r): ..." and end the whole job on it, so that no
// rank waits on a collective its peers will never join.
//
// Library cleave_rt_comm.
//
//===----------------------------------------------------------------------===//
#ifndef CLEAVE_RT_DISTRIBUTED_TRAINING_H
#define CLEAVE_RT_DISTRIBUTED_TRAINING_H

#include "cleave/rt/comm.h"
#include "cleave/rt/distribution.h"
#include "cleave/rt/training_loop.h"

#include <functional>

namespace cleave::rt {

/// A backend's part of a rank's run: builds the grid's communicators over
/// (or beside) `world` and trains. Throws Error for anything the user can fix.
using RankTraining =
    std::function<void(Communicator &world, const GridShape &shape, const TrainConfig &config)>;

/// Runs `train_rank` on every rank of the MPI job inside the frame above;
/// refuses a model compiled for a target other than `target`
/// (wrong_target). Returns the exit code like run_training.
int run_training_on_ranks(int argc, char **argv, const ModelInfo &model, const char *target,
                          const char *runtime, const RankTraining &train_rank);

} // namespace cleave::rt

#endif // CLEAVE_RT_DISTRIBUTED_TRAINING_H
