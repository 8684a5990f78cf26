//===- random.cpp - Philox4x32-10 and dropout masks -----------------------===//
//
// Counter-based: a mask element is a pure function of (seed, its stream
// position), so any thread (or a CUDA thread) computes any element alone,
// and a CPU and a GPU run draw identical masks: both backends loop over
// philox.h's philox_mask_block.
//
//===----------------------------------------------------------------------===//

#include "cleave/rt/kernels.h"
#include "cleave/rt/philox.h"

#include "check.h"
#include "parallel.h"

namespace cleave::rt::cpu {

void philox4x32_10(const uint32_t counter[4], const uint32_t key[2], uint32_t out[4]) {
  philox_block(counter, key, out);
}

void bernoulli_mask(uint64_t seed, uint64_t offset, int64_t n, float keep_probability,
                    uint8_t *out) {
  KERNEL_CHECK(n >= 0, "negative mask size");
  // One Philox call yields the four elements of a block of stream positions
  // 4b..4b+3; a work item is one block (partial at either end).
  const uint64_t first_block = offset / 4;
  const uint64_t end = offset + static_cast<uint64_t>(n);
  const uint64_t last_block = (end + 3) / 4; // exclusive
  const int64_t blocks = n == 0 ? 0 : static_cast<int64_t>(last_block - first_block);
#pragma omp parallel for schedule(static) if (worth_parallel(n))
  for (int64_t b = 0; b < blocks; ++b)
    philox_mask_block(seed, first_block + static_cast<uint64_t>(b), offset, end, keep_probability,
                      out);
}

} // namespace cleave::rt::cpu
