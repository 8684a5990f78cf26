//===- OverlapBench.cpp - an all-reduce beside compute, against blocking --===//
//
// cleave-comm-test's `overlap COUNT WORK REPEATS` mode, run by
// bench/overlap_collectives.py (not a test: it measures time). Each rank
// times, per repeat, with a barrier before each:
//   compute   WORK iterations of a dependent float loop (no communication)
//   comm      all_reduce of COUNT floats (blocking)
//   blocking  all_reduce, then the compute
//   overlap   all_reduce_start, the compute, wait_collective
// and rank 0 prints the medians (of the slowest rank's times) as one JSON line.
//
//===----------------------------------------------------------------------===//
#include "OverlapBench.h"

#include <mpi.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <vector>

namespace cleave::rt::test {
namespace {

volatile float sink = 0;

void compute(int64_t work) {
  float acc = 0;
  for (int64_t i = 0; i < work; ++i)
    acc = acc * 0.999f + std::sqrt(static_cast<float>(i & 1023));
  sink = sink + acc;
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

} // namespace

int bench_overlap(Communicator &world, int64_t count, int64_t work, int repeats) {
  std::vector<float> data(static_cast<size_t>(count), 1.0f);
  std::vector<double> times[4];
  auto timed = [&](int which, auto body) {
    world.barrier();
    const auto start = std::chrono::steady_clock::now();
    body();
    double t = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    double slowest = 0;
    MPI_Allreduce(&t, &slowest, 1, MPI_DOUBLE, MPI_MAX, MPI_COMM_WORLD);
    times[which].push_back(slowest);
  };
  for (int r = 0; r < repeats + 1; ++r) { // the first round warms up
    timed(0, [&] { compute(work); });
    timed(1, [&] { world.all_reduce(data.data(), count, CommElement::f32); });
    timed(2, [&] {
      world.all_reduce(data.data(), count, CommElement::f32);
      compute(work);
    });
    timed(3, [&] {
      const Communicator::Request request =
          world.all_reduce_start(data.data(), count, CommElement::f32);
      compute(work);
      world.wait_collective(request);
    });
    if (r == 0)
      for (auto &t : times)
        t.clear();
  }
  if (world.rank() == 0)
    std::printf("{\"ranks\": %d, \"count\": %lld, \"compute_s\": %.6f, \"comm_s\": %.6f, "
                "\"blocking_s\": %.6f, \"overlap_s\": %.6f}\n",
                world.size(), static_cast<long long>(count), median(times[0]), median(times[1]),
                median(times[2]), median(times[3]));
  return 0;
}

} // namespace cleave::rt::test
