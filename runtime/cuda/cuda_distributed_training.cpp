//===- cuda_distributed_training.cpp - sharded CUDA training over MPI ranks -===//
//
// cuda::run_training_distributed: the frame of distributed_training.h with
// what the CUDA target does on a rank:
//   - each rank drives GPU local_rank % device count (select_device);
//   - the grid's communicators take device buffers: NCCL when the runtime
//     has it and every rank has a GPU of its own, else the MPI
//     communicator behind host staging (ranks may share a GPU). Both add in
//     rank order, so the choice does not change the bits.
//     CLEAVE_CUDA_COMM=nccl or =host overrides the choice;
//   - the training loop trains with the CUDA DeviceMemory and the step
//     wrapped for its device invalid-index flag (cuda_memory.h).
// Whole tensors (initial weights, checkpoints, the ONNX export, batches)
// go through the Distribution on host buffers over the plain MPI world;
// the training loop copies each rank's block to and from the GPU.
//
//===----------------------------------------------------------------------===//
#include "cleave/rt/comm_distribution.h"
#include "cleave/rt/cuda_check.h"
#include "cleave/rt/cuda_collectives.h"
#include "cleave/rt/cuda_comm.h"
#include "cleave/rt/cuda_memory.h"
#include "cleave/rt/distributed_training.h"
#include "cleave/rt/distribution.h"
#include "cleave/rt/mpi_comm.h"
#include "cleave/rt/training_loop.h"

#include <cuda_runtime.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <new>
#include <string>
#include <vector>

namespace cleave::rt::cuda {

namespace {

/// Collective: whether two ranks of `world` drive the same GPU.
bool ranks_share_a_gpu(Communicator &world, int device) {
  struct Identity {
    unsigned char uuid[16];
    char host[64];
  } mine{};
  cudaDeviceProp properties;
  CLEAVE_CUDA_CHECK(cudaGetDeviceProperties(&properties, device));
  std::memcpy(mine.uuid, &properties.uuid, sizeof mine.uuid);
  gethostname(mine.host, sizeof mine.host - 1);
  std::vector<Identity> all(static_cast<size_t>(world.size()));
  world.all_gather(&mine, all.data(), sizeof mine, CommElement::u8);
  for (size_t a = 0; a < all.size(); ++a)
    for (size_t b = a + 1; b < all.size(); ++b)
      if (std::memcmp(all[a].uuid, all[b].uuid, sizeof mine.uuid) == 0 &&
          std::strcmp(all[a].host, all[b].host) == 0)
        return true;
  return false;
}

/// The device-buffer world: NCCL or host-staged MPI (see the file comment).
/// Collective over `world`, which must outlive the result.
std::unique_ptr<Communicator> device_world(Communicator &world, int device) {
  const char *forced = std::getenv("CLEAVE_CUDA_COMM");
  std::string choice = forced && *forced ? forced : "auto";
  if (choice != "auto" && choice != "nccl" && choice != "host")
    fail("CLEAVE_CUDA_COMM='", choice, "' is not one of auto, nccl, host");
  // Every rank makes the same decision from the same gathered facts.
  bool shared = ranks_share_a_gpu(world, device);
  bool nccl = choice == "nccl" || (choice == "auto" && have_nccl() && !shared);
  if (nccl)
    return nccl_world(world);
  return host_staged(world.split(0, world.rank(), "world"));
}

} // namespace

int run_training_distributed(int argc, char **argv, const ModelInfo &model, StepFunction step) {
  return run_training_on_ranks(
      argc, argv, model, "cuda", "the CUDA runtime",
      [&](Communicator &world, const GridShape &shape, const TrainConfig &config) {
        int device = select_device();
        std::unique_ptr<Communicator> devices = device_world(world, device);
        if (world.rank() == 0)
          std::printf("collectives: %s over %d ranks\n", devices->backend(), devices->size());
        CommGroups groups(*devices, DeviceGrid::parse(model.grid));
        CommDistribution distribution(shape, world, groups);
        train(config, with_device_flag(model), with_device_flag(step), device_memory(), stdout,
              &distribution);
      });
}

} // namespace cleave::rt::cuda
