//===- NonBlockingChecks.cpp - *_start and wait against the blocking calls ===//
//
// check_nonblocking starts several collectives at once (on one group and
// across groups), computes while they are in flight, waits for them out of
// order, and compares every result bit for bit with the blocking call on
// the same inputs (comm.h: a blocking call is its start and its wait), and
// across the ranks of each group (hashes through raw MPI). Both levels:
// Communicator::*_start and collective_api.inc's slot calls, whose layout
// work (outer > 1) runs before the start or after the wait. Then the slot
// table's mistakes, and that a start does not wait for the group. Under
// either CLEAVE_REDUCTION_ORDER.
//
//===----------------------------------------------------------------------===//
#include "NonBlockingChecks.h"

#include "cleave/rt/check.h"
#include "cleave/rt/collectives.h"

#include <mpi.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <memory>
#include <string>
#include <thread>
#include <vector>

namespace cleave::rt::test {
namespace {

int world_rank = 0;
int failures = 0;
int checks = 0;

void expect(bool ok, const std::string &what) {
  ++checks;
  if (!ok) {
    ++failures;
    std::fprintf(stderr, "rank %d: FAILED: %s\n", world_rank, what.c_str());
  }
}

/// Inputs whose sums show the order of additions in their bits.
std::vector<float> inputs(int64_t count, int salt) {
  std::vector<float> v(static_cast<size_t>(count));
  for (int64_t i = 0; i < count; ++i) {
    const float base = static_cast<float>((i * 7919 + (world_rank + salt) * 104729) % 1000) / 7.0f;
    v[i] = ((i + world_rank) % 2 ? -base : base) * ((i + salt) % 3 == 0 ? 1e4f : 1e-3f);
  }
  return v;
}

bool same_bits(const std::vector<float> &a, const std::vector<float> &b) {
  return a.size() == b.size() &&
         (a.empty() || std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0);
}

/// Whether every member of `comm` holds the same bits; collective over the world.
void expect_same_on_group(const Communicator &comm, const std::vector<float> &data,
                          const std::string &what) {
  uint64_t h = 1469598103934665603ULL;
  const auto *p = reinterpret_cast<const unsigned char *>(data.data());
  for (size_t i = 0; i < data.size() * sizeof(float); ++i)
    h = (h ^ p[i]) * 1099511628211ULL;
  int size = 0;
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  std::vector<uint64_t> all(size);
  MPI_Allgather(&h, 1, MPI_UINT64_T, all.data(), 1, MPI_UINT64_T, MPI_COMM_WORLD);
  bool same = true;
  for (int m : comm.world_ranks())
    same = same && all[m] == all[comm.world_ranks()[0]];
  expect(same, what + ": different bits on the ranks of " + comm.describe());
}

/// Work for the caller while collectives are in flight.
volatile float sink = 0;
void compute() {
  float acc = 0;
  for (int i = 0; i < 200000; ++i)
    acc = acc * 0.999f + std::sqrt(static_cast<float>(i));
  sink = sink + acc;
}

template <typename F> bool throws_error(F f, const std::string &needle) {
  try {
    f();
  } catch (const Error &e) {
    if (std::string(e.what()).find(needle) != std::string::npos)
      return true;
    std::fprintf(stderr, "rank %d: unexpected message: %s\n", world_rank, e.what());
  }
  return false;
}

/// Communicator level: three collectives on `a` and one on `b` in flight,
/// waited in another order, against the blocking calls.
void check_requests(Communicator &a, Communicator &b, const std::string &label) {
  const int64_t n = a.size(), count = 100003, block = 257, gather = 1001;
  std::vector<float> reduce = inputs(count, 1), scatter_in = inputs(n * block, 2),
                     gather_in = inputs(gather, 3), other = inputs(4099, 4);
  std::vector<float> scatter_out(block), gathered(n * gather);
  std::vector<float> reduce_ref = reduce, scatter_ref(block), gathered_ref(n * gather),
                     other_ref = other;
  const Communicator::Request r1 = a.all_reduce_start(reduce.data(), count, CommElement::f32);
  compute();
  const Communicator::Request r2 =
      a.reduce_scatter_start(scatter_in.data(), scatter_out.data(), block, CommElement::f32);
  const Communicator::Request r3 =
      a.all_gather_start(gather_in.data(), gathered.data(), gather, CommElement::f32);
  const Communicator::Request r4 = b.all_reduce_start(other.data(), 4099, CommElement::f32);
  compute();
  b.wait_collective(r4);
  a.wait_collective(r3);
  compute();
  a.wait_collective(r1);
  a.wait_collective(r2);
  a.all_reduce(reduce_ref.data(), count, CommElement::f32);
  a.reduce_scatter(scatter_in.data(), scatter_ref.data(), block, CommElement::f32);
  a.all_gather(gather_in.data(), gathered_ref.data(), gather, CommElement::f32);
  b.all_reduce(other_ref.data(), 4099, CommElement::f32);
  expect(same_bits(reduce, reduce_ref), label + ": all_reduce_start differs from all_reduce");
  expect(same_bits(scatter_out, scatter_ref),
         label + ": reduce_scatter_start differs from reduce_scatter");
  expect(same_bits(gathered, gathered_ref), label + ": all_gather_start differs from all_gather");
  expect(same_bits(other, other_ref), label + ": all_reduce_start on " + b.describe());
  expect_same_on_group(a, reduce, label + ": all_reduce_start");
  expect_same_on_group(b, other, label + ": all_reduce_start");
  expect_same_on_group(a, gathered, label + ": all_gather_start");

  // A blocking call while a start on the same group is in flight.
  std::vector<float> first = inputs(5000, 5), second = inputs(5000, 6);
  std::vector<float> first_ref = first, second_ref = second;
  const Communicator::Request r5 = a.all_reduce_start(first.data(), 5000, CommElement::f32);
  a.all_reduce(second.data(), 5000, CommElement::f32);
  a.wait_collective(r5);
  a.all_reduce(first_ref.data(), 5000, CommElement::f32);
  a.all_reduce(second_ref.data(), 5000, CommElement::f32);
  expect(same_bits(first, first_ref) && same_bits(second, second_ref),
         label + ": a blocking all_reduce behind a started one");
  expect(throws_error([&] { a.wait_collective(r5); }, "was never started or was already waited"),
         label + ": a request waited twice");
}

/// A start returns without waiting for the group: rank 0 starts while the
/// others are still asleep, and only its wait takes their delay. (Margins
/// of hundreds of milliseconds: an enqueue takes microseconds.)
void check_start_returns(Communicator &world) {
  using Clock = std::chrono::steady_clock;
  std::vector<float> data = inputs(1000, 11);
  if (world.rank() != 0)
    std::this_thread::sleep_for(std::chrono::milliseconds(400));
  const Clock::time_point start = Clock::now();
  const Communicator::Request request = world.all_reduce_start(data.data(), 1000, CommElement::f32);
  const double started = std::chrono::duration<double>(Clock::now() - start).count();
  world.wait_collective(request);
  const double waited = std::chrono::duration<double>(Clock::now() - start).count();
  if (world.rank() == 0 && world.size() > 1) {
    expect(started < 0.2,
           "all_reduce_start took " + std::to_string(started) + " s: it waited for the group");
    expect(waited > 0.2, "wait_collective returned after " + std::to_string(waited) +
                             " s, before the group started");
  }
}

/// collective_api.inc level, through the slot table: outer > 1 layouts.
void check_slots(CommGroups &groups, const char *axes, const char *other_axes,
                 const std::string &label) {
  Communicator &comm = groups.group(axes);
  const int64_t n = comm.size(), outer = 3, block = 257, row = 5;
  std::vector<float> reduce_in = inputs(10007, 7), reduce_out(10007);
  std::vector<float> scatter_in = inputs(outer * n * block, 8), scatter_out(outer * block);
  std::vector<float> gather_in = inputs(outer * row, 9), gather_out(outer * n * row);
  std::vector<float> other = inputs(333, 10);
  std::vector<float> reduce_ref(10007), scatter_ref(outer * block), gather_ref(outer * n * row),
      other_ref = other;
  using namespace collective;
  all_reduce_start(&groups, axes, reduce_in.data(), reduce_out.data(), 10007, CommElement::f32,
                   CommReduction::sum, 0);
  reduce_scatter_start(&groups, axes, scatter_in.data(), scatter_out.data(), outer, block,
                       CommElement::f32, CommReduction::sum, 1);
  compute();
  all_gather_start(&groups, axes, gather_in.data(), gather_out.data(), outer, row, 4, 2);
  all_reduce_start(&groups, other_axes, other.data(), other.data(), 333, CommElement::f32,
                   CommReduction::max, 3);
  compute();
  wait_collective(&groups, 2);
  wait_collective(&groups, 0);
  wait_collective(&groups, 3);
  compute();
  wait_collective(&groups, 1);
  all_reduce(&groups, axes, reduce_in.data(), reduce_ref.data(), 10007, CommElement::f32,
             CommReduction::sum);
  reduce_scatter(&groups, axes, scatter_in.data(), scatter_ref.data(), outer, block,
                 CommElement::f32, CommReduction::sum);
  all_gather(&groups, axes, gather_in.data(), gather_ref.data(), outer, row, 4);
  all_reduce(&groups, other_axes, other_ref.data(), other_ref.data(), 333, CommElement::f32,
             CommReduction::max);
  expect(same_bits(reduce_out, reduce_ref), label + ": slot all_reduce_start");
  expect(same_bits(scatter_out, scatter_ref), label + ": slot reduce_scatter_start, outer 3");
  expect(same_bits(gather_out, gather_ref), label + ": slot all_gather_start, outer 3");
  expect(same_bits(other, other_ref), label + ": slot all_reduce_start max in place");
  expect_same_on_group(comm, reduce_out, label + ": slot all_reduce_start");
  expect_same_on_group(comm, gather_out, label + ": slot all_gather_start");
  expect(groups.collective_wait_seconds() >= 0, label + ": collective_wait_seconds");

  // The slot table's mistakes: Errors on every rank, nothing started.
  expect(throws_error([&] { wait_collective(&groups, 1); }, "no collective was started in it"),
         label + ": wait on a free slot");
  all_reduce_start(&groups, axes, reduce_in.data(), reduce_out.data(), 10007, CommElement::f32,
                   CommReduction::sum, 4);
  expect(throws_error(
             [&] {
               all_gather_start(&groups, axes, gather_in.data(), gather_out.data(), outer, row, 4,
                                4);
             },
             "in slot 4: the slot still holds a collective over " + comm.describe()),
         label + ": start in a pending slot");
  expect(throws_error(
             [&] {
               all_reduce_start(&groups, axes, reduce_in.data(), reduce_out.data(), 1,
                                CommElement::f32, CommReduction::sum, -1);
             },
             "slot -1 is outside"),
         label + ": negative slot");
  wait_collective(&groups, 4);
  expect(same_bits(reduce_out, reduce_ref), label + ": the slot after a refused start");
}

} // namespace

int check_nonblocking(Communicator &world) {
  world_rank = world.rank();
  const int size = world.size();
  check_start_returns(world);
  check_requests(world, world, "world");
  CommGroups line(world, DeviceGrid::parse("dp=" + std::to_string(size)));
  check_slots(line, "dp", "dp", "dp=" + std::to_string(size));
  if (size == 4) {
    CommGroups grid(world, DeviceGrid::parse("dp=2,tp=2"));
    check_requests(grid.axis("tp"), grid.axis("dp"), "dp=2,tp=2 tp and dp");
    check_requests(grid.axes({"dp", "tp"}), grid.axis("tp"), "dp=2,tp=2 dp,tp and tp");
    check_slots(grid, "tp", "dp", "dp=2,tp=2 tp");
    check_slots(grid, "dp,tp", "tp", "dp=2,tp=2 dp,tp");
  }
  int total = 0;
  MPI_Allreduce(&failures, &total, 1, MPI_INT, MPI_SUM, MPI_COMM_WORLD);
  if (world_rank == 0)
    std::printf("%d non-blocking checks per rank on %d ranks, %d failures\n", checks, size, total);
  return total == 0 ? 0 : 1;
}

} // namespace cleave::rt::test
