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

/// out = `reduction` (sum, max, min) over the group of in (count
/// elements; in may equal out).
void all_reduce(void *groups, const char *axes, const void *in, void *out, int64_t count,
                CommElement element, CommReduction reduction);
/// all_reduce with CommReduction::sum.
void all_reduce_sum(void *groups, const char *axes, const void *in, void *out, int64_t count,
                    CommElement element);

/// out [outer, n, block] from every rank's in [outer, block].
void all_gather(void *groups, const char *axes, const void *in, void *out, int64_t outer,
                int64_t block, int64_t element_bytes);

/// out [outer, block] = this rank's block of `reduction` over the group of
/// in [outer, n, block].
void reduce_scatter(void *groups, const char *axes, const void *in, void *out, int64_t outer,
                    int64_t block, CommElement element, CommReduction reduction);
/// reduce_scatter with CommReduction::sum.
void reduce_scatter_sum(void *groups, const char *axes, const void *in, void *out, int64_t outer,
                        int64_t block, CommElement element);

/// out [outer, block] = this rank's block of in [outer, n, block]; no communication.
void all_slice(void *groups, const char *axes, const void *in, void *out, int64_t outer,
               int64_t block, int64_t element_bytes);

/// Moves grid axes from one tensor dimension to another: in seen as
/// [send_outer, n, send_block] along the dimension that becomes split
/// (chunk r goes to rank r), out as [recv_outer, n, recv_block] along the
/// dimension that becomes whole (chunk r came from rank r).
void all_to_all(void *groups, const char *axes, const void *in, void *out, int64_t send_outer,
                int64_t send_block, int64_t recv_outer, int64_t recv_block, int64_t element_bytes);

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
