//===- collectives.h - the collectives a generated sharded step calls -----===//
//
// cleave-partition leaves shard.all_reduce / reduce_scatter / all_gather /
// all_slice / all_to_all ops in the per-device program; codegen turns each into one
// call here. `groups` is StepBuffers::collectives (a CommGroups); `axes`
// names the grid axes of the group in grid order ("dp", "dp,tp").
//
// Tensors are row-major. A collective along tensor dimension d sees the
// tensor as [outer, block] per rank, outer = the product of the dimensions
// before d and block = the rest (this rank's part of d times the
// dimensions after it); the whole tensor is [outer, group size, block].
// Gathering or scattering along d > 0 is thus a permutation of the
// communicator's rank-major buffers, done here.
//
//===----------------------------------------------------------------------===//
#ifndef CLEAVE_RT_COLLECTIVES_H
#define CLEAVE_RT_COLLECTIVES_H

#include "cleave/rt/comm.h"
#include "cleave/rt/model.h"

#include <cstdint>

namespace cleave::rt::collective {
#include "cleave/rt/collective_api.inc"
} // namespace cleave::rt::collective

namespace cleave::rt::cpu {

/// cpu::run_training (model.h) for a program compiled for a device grid
/// (ModelInfo::grid): joins the MPI job, checks that it has as many ranks
/// as the grid has devices, builds the grid's communicators and trains
/// with each rank on its blocks (distributed_training.h). Returns the exit
/// code like run_training.
int run_training_distributed(int argc, char **argv, const ModelInfo &model, StepFunction step);

} // namespace cleave::rt::cpu

#endif // CLEAVE_RT_COLLECTIVES_H
