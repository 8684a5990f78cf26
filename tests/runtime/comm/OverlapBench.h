//===- OverlapBench.h - an all-reduce beside compute, against blocking ----===//
#ifndef CLEAVE_TESTS_OVERLAP_BENCH_H
#define CLEAVE_TESTS_OVERLAP_BENCH_H

#include "cleave/rt/comm.h"

namespace cleave::rt::test {

/// Times compute alone, an all_reduce of `count` floats alone, the two one
/// after the other, and the all_reduce started before the compute and
/// waited after it (OverlapBench.cpp). Rank 0 prints one JSON line.
int bench_overlap(Communicator &world, int64_t count, int64_t work, int repeats);

} // namespace cleave::rt::test

#endif // CLEAVE_TESTS_OVERLAP_BENCH_H
