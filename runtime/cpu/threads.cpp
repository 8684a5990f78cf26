//===- threads.cpp - one thread count for OpenMP and OpenBLAS -------------===//

#include "cleave/rt/kernels.h"

#include "check.h"

#include <cblas.h>
#include <omp.h>

namespace cleave::rt::cpu {

void set_num_threads(int64_t num_threads) {
  KERNEL_CHECK(num_threads >= 1, "thread count must be positive");
  // OpenBLAS (pthread build) keeps its own pool: without setting both, a
  // user asking for 1 thread would still get a full-width sgemm.
  omp_set_num_threads(static_cast<int>(num_threads));
  openblas_set_num_threads(static_cast<int>(num_threads));
}

int64_t get_num_threads() { return omp_get_max_threads(); }

} // namespace cleave::rt::cpu
