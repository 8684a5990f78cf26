//===- cuda_collectives.h - a sharded CUDA step's collectives -------------===//
//
// The --target cuda twin of collectives.h: the same calls with the
// same arguments and layout rules, on device buffers. `groups` is the
// CommGroups in StepBuffers::collectives, whose communicators take device
// buffers (NCCL, or MPI behind host staging; cuda_comm.h), so the sums keep
// the communicators' rank-order guarantee. The [outer, n, block]
// permutations are strided device copies (cudaMemcpy2D) on the legacy
// default stream, ordered after the step's kernels like the communicators.
//
// Library cleave_rt_cuda_comm; a generated sharded CUDA program's main
// calls cuda::run_training_distributed.
//
//===----------------------------------------------------------------------===//
#ifndef CLEAVE_RT_CUDA_COLLECTIVES_H
#define CLEAVE_RT_CUDA_COLLECTIVES_H

#include "cleave/rt/comm.h"
#include "cleave/rt/model.h"

#include <cstdint>

namespace cleave::rt::cuda::collective {
#include "cleave/rt/collective_api.inc"
} // namespace cleave::rt::cuda::collective

namespace cleave::rt::cuda {

/// run_training_distributed (collectives.h) for the CUDA target: joins the
/// MPI job, puts this rank on GPU local_rank % device count, and builds the
/// grid's communicators over NCCL when every rank has a GPU of its own and
/// the runtime has NCCL, else over MPI with host staging (several ranks may
/// then share a GPU). CLEAVE_CUDA_COMM=nccl or =host forces one. Trains
/// with the CUDA DeviceMemory; returns the exit code like run_training.
int run_training_distributed(int argc, char **argv, const ModelInfo &model, StepFunction step);

} // namespace cleave::rt::cuda

#endif // CLEAVE_RT_CUDA_COLLECTIVES_H
