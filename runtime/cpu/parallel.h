//===- parallel.h - when a kernel should use its OpenMP team --------------===//
#ifndef CLEAVE_RT_CPU_PARALLEL_H
#define CLEAVE_RT_CPU_PARALLEL_H

#include <cstdint>

namespace cleave::rt::cpu {

/// Work (about one unit per element read or written) below which a kernel
/// stays on the calling thread. Starting an OpenMP team costs microseconds
/// on an idle machine and up to a scheduler time slice (milliseconds) on a
/// loaded one, where a woken worker must wait for a core; small tensors --
/// biases, norms of a few rows, a tiny test model -- finish sooner alone.
constexpr int64_t kParallelWork = int64_t{1} << 15;

inline bool worth_parallel(int64_t work) { return work >= kParallelWork; }

} // namespace cleave::rt::cpu

#endif // CLEAVE_RT_CPU_PARALLEL_H
