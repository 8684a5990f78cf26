//===- random.cu - Philox4x32-10 and dropout masks -------------------------===//
//
// Counter-based: a mask element is a pure function of (seed, its stream
// position), so one GPU thread computes one Philox block (four elements) on
// its own and draws exactly the CPU's mask: both backends loop over
// philox.h's philox_mask_block.
//
//===----------------------------------------------------------------------===//

#include "common.cuh"

#include "cleave/rt/philox.h"

namespace cleave::rt::cuda {
namespace {

/// Thread b draws Philox block first_block + b: stream positions
/// 4*(first_block + b) .. +3, of which those in [offset, offset + n) land.
__global__ void bernoulli_mask_kernel(uint64_t seed, uint64_t offset, int64_t n, int64_t blocks,
                                      float keep_probability, uint8_t *out) {
  const uint64_t first_block = offset / 4;
  const uint64_t end = offset + static_cast<uint64_t>(n);
  for (int64_t b = global_thread(); b < blocks; b += grid_threads())
    philox_mask_block(seed, first_block + static_cast<uint64_t>(b), offset, end, keep_probability,
                      out);
}

} // namespace

void philox4x32_10(const uint32_t counter[4], const uint32_t key[2], uint32_t out[4]) {
  philox_block(counter, key, out);
}

void bernoulli_mask(uint64_t seed, uint64_t offset, int64_t n, float keep_probability,
                    uint8_t *out) {
  KERNEL_CHECK(n >= 0, "negative mask size");
  if (n == 0)
    return;
  const uint64_t first_block = offset / 4;
  const uint64_t last_block = (offset + static_cast<uint64_t>(n) + 3) / 4; // exclusive
  const int64_t blocks = static_cast<int64_t>(last_block - first_block);
  bernoulli_mask_kernel<<<blocks_for(blocks), kBlockSize>>>(seed, offset, n, blocks,
                                                            keep_probability, out);
  CLEAVE_CUDA_CHECK_LAUNCH();
}

} // namespace cleave::rt::cuda
