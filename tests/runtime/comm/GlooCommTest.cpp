//===- GlooCommTest.cpp - the gloo communicator under launch.py ------------===//
//
// One program, run by every rank of `launch.py --nproc N` (torchrun-style
// variables, no mpirun); the first argument picks what it checks:
//
//   collectives     every collective on gloo_world and on the groups of
//                   dp=2,tp=2 (4 ranks) or dp=2 (2 ranks), against values
//                   each rank computes from every rank's inputs (which it
//                   can generate: they are a function of rank and index);
//                   sums in group-rank order bit for bit with
//                   CLEAVE_REDUCTION_ORDER=rank, within rounding and the
//                   same bits on every rank with `library`; point-to-point
//                   transfers around the ring
//   lose SIG RANK   all_reduce in a loop; on the 4th call RANK raises SIG
//                   (KILL: dies; STOP: stops responding) on itself
//   lose-grid SIG RANK   the same with tp then dp all_reduces on dp=2,tp=2
//   abort RANK      RANK fails alone and calls abort_job(1) while the
//                   others wait in all_reduce (60 s timeout): they must
//                   notice its closed connections at once
//   join            joins the world and prints its size (the launch
//                   variables' errors)
//
//===----------------------------------------------------------------------===//
#include "cleave/rt/check.h"
#include "cleave/rt/comm.h"
#include "cleave/rt/gloo_comm.h"

#include <chrono>
#include <cmath>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

using namespace cleave::rt;

namespace {

int checks = 0, failures = 0;

void expect(bool ok, const std::string &what, int rank) {
  ++checks;
  if (!ok) {
    ++failures;
    std::printf("rank %d: FAILED: %s\n", rank, what.c_str());
  }
}

/// Rank r's input element i: small integers and fractions whose sums
/// round differently in different orders, and a NaN now and then for max
/// and min.
float input(int r, int64_t i, bool nan) {
  if (nan && i % 97 == 5 && r == 1)
    return NAN;
  return static_cast<float>((i * 7 + r * 13) % 101) * 0.1f + 1.0f / static_cast<float>(r + 3);
}

bool same_bits(const std::vector<float> &a, const std::vector<float> &b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0;
}

float combine(float a, float b, CommReduction reduction) {
  switch (reduction) {
  case CommReduction::sum:
    return a + b;
  case CommReduction::max:
    return (b > a || b != b) ? b : a;
  case CommReduction::min:
    return (b < a || b != b) ? b : a;
  }
  return a;
}

/// What a reduction over `comm`'s members of inputs offset by `base` gives,
/// added in group-rank order.
std::vector<float> expected_reduce(const Communicator &comm, int64_t count, int64_t base,
                                   CommReduction reduction, bool nan) {
  std::vector<float> out(static_cast<size_t>(count));
  for (int64_t i = 0; i < count; ++i) {
    float value = input(comm.world_ranks()[0], base + i, nan);
    for (int m = 1; m < comm.size(); ++m)
      value = combine(value, input(comm.world_ranks()[m], base + i, nan), reduction);
    out[i] = value;
  }
  return out;
}

void check_group(Communicator &comm, int world_rank, bool rank_order) {
  const int n = comm.size(), me = comm.rank();
  const std::string label = comm.describe();
  for (int64_t count : {1, 3, 1000, 100003}) {
    for (CommReduction reduction : {CommReduction::sum, CommReduction::max, CommReduction::min}) {
      const bool nan = reduction != CommReduction::sum;
      std::vector<float> data(static_cast<size_t>(count));
      for (int64_t i = 0; i < count; ++i)
        data[i] = input(world_rank, i, nan);
      comm.all_reduce(data.data(), count, reduction);
      std::vector<float> expected = expected_reduce(comm, count, 0, reduction, nan);
      const std::string what =
          label + ": all_reduce " + reduction_name(reduction) + " of " + std::to_string(count);
      if (rank_order || reduction != CommReduction::sum) {
        expect(same_bits(data, expected), what + " (rank order, bit for bit)", world_rank);
      } else {
        bool close = true;
        for (int64_t i = 0; i < count; ++i)
          close = close && std::fabs(data[i] - expected[i]) <= 1e-5f * (1 + std::fabs(expected[i]));
        expect(close, what + " (library order, within rounding)", world_rank);
        // Every member holds the same bits: compare with member 0's.
        std::vector<float> first(data);
        comm.broadcast(first.data(), count, 0);
        expect(same_bits(data, first), what + ": the same bits on every rank", world_rank);
      }
    }
    std::vector<int64_t> ints(static_cast<size_t>(count));
    for (int64_t i = 0; i < count; ++i)
      ints[i] = i * (world_rank + 1) - 7;
    comm.all_reduce_sum(ints.data(), count);
    bool ok = true;
    for (int64_t i = 0; i < count; ++i) {
      int64_t sum = 0;
      for (int w : comm.world_ranks())
        sum += i * (w + 1) - 7;
      ok = ok && ints[i] == sum;
    }
    expect(ok, label + ": all_reduce i64 of " + std::to_string(count), world_rank);
  }
  // reduce_scatter: block p of the sum to rank p, in place and not.
  for (int64_t block : {1, 777}) {
    std::vector<float> send(static_cast<size_t>(block * n)), recv(static_cast<size_t>(block));
    for (int64_t i = 0; i < block * n; ++i)
      send[i] = input(world_rank, i, false);
    comm.reduce_scatter_sum(send.data(), recv.data(), block);
    std::vector<float> all = expected_reduce(comm, block * n, 0, CommReduction::sum, false);
    std::vector<float> mine(all.begin() + me * block, all.begin() + (me + 1) * block);
    expect(same_bits(recv, mine), label + ": reduce_scatter of " + std::to_string(block),
           world_rank);
    comm.reduce_scatter_sum(send.data(), send.data() + me * block, block);
    expect(std::memcmp(send.data() + me * block, mine.data(), block * sizeof(float)) == 0,
           label + ": reduce_scatter in place", world_rank);
  }
  // all_gather and all_to_all: exact copies.
  for (int64_t block : {1, 5000}) {
    std::vector<float> send(static_cast<size_t>(block)), recv(static_cast<size_t>(block * n));
    for (int64_t i = 0; i < block; ++i)
      send[i] = input(world_rank, i, false);
    comm.all_gather(send.data(), recv.data(), block);
    bool ok = true;
    for (int m = 0; m < n; ++m)
      for (int64_t i = 0; i < block; ++i)
        ok = ok && recv[m * block + i] == input(comm.world_ranks()[m], i, false);
    expect(ok, label + ": all_gather of " + std::to_string(block), world_rank);
    std::vector<float> to(static_cast<size_t>(block * n)), from(to.size());
    for (int m = 0; m < n; ++m)
      for (int64_t i = 0; i < block; ++i)
        to[m * block + i] = input(world_rank, m * 100000 + i, false);
    comm.all_to_all(to.data(), from.data(), block);
    ok = true;
    for (int m = 0; m < n; ++m)
      for (int64_t i = 0; i < block; ++i)
        ok = ok && from[m * block + i] == input(comm.world_ranks()[m], me * 100000 + i, false);
    expect(ok, label + ": all_to_all of " + std::to_string(block), world_rank);
  }
  for (int root = 0; root < n; ++root) {
    std::vector<int64_t> data(300, world_rank);
    comm.broadcast(data.data(), 300, root);
    expect(data == std::vector<int64_t>(300, comm.world_ranks()[root]),
           label + ": broadcast from " + std::to_string(root), world_rank);
  }
  {
    // Rank r arrives r*30 ms late; nobody may leave before the last arrives.
    using Clock = std::chrono::steady_clock; // system-wide on Linux
    std::this_thread::sleep_for(std::chrono::milliseconds(30 * me));
    int64_t arrive = Clock::now().time_since_epoch().count();
    comm.barrier();
    const int64_t leave = Clock::now().time_since_epoch().count();
    std::vector<int64_t> arrivals(static_cast<size_t>(n));
    comm.all_gather(&arrive, arrivals.data(), 1);
    expect(leave >= *std::max_element(arrivals.begin(), arrivals.end()),
           label + ": barrier returned before every rank arrived", world_rank);
  }
  // Transfers around the ring, both ways at once, of several sizes.
  if (n > 1) {
    const int next = (me + 1) % n, previous = (me + n - 1) % n;
    for (int64_t bytes : {0, 1, 70000}) {
      std::vector<unsigned char> out(static_cast<size_t>(bytes)), in(out.size(), 0);
      for (int64_t i = 0; i < bytes; ++i)
        out[i] = static_cast<unsigned char>(i * 7 + world_rank);
      int64_t r = comm.recv_start(in.data(), bytes, previous, 3);
      int64_t s = comm.send_start(out.data(), bytes, next, 3);
      comm.wait_transfer(s);
      comm.wait_transfer(r);
      bool ok = true;
      for (int64_t i = 0; i < bytes; ++i)
        ok = ok && in[i] == static_cast<unsigned char>(i * 7 + comm.world_ranks()[previous]);
      expect(ok, label + ": transfer of " + std::to_string(bytes) + " bytes", world_rank);
    }
  }
}

int run_collectives() {
  CommOptions options = CommOptions::from_environment();
  std::unique_ptr<Communicator> world = gloo_world(options);
  const int me = world->rank();
  expect(std::string(world->backend()) == "gloo" && world->is_host(), "backend", me);
  const bool rank_order = options.reduction_order == CommOptions::ReductionOrder::rank;
  check_group(*world, me, rank_order);
  if (world->size() == 4 || world->size() == 2) {
    CommGroups groups(*world, DeviceGrid::parse(world->size() == 4 ? "dp=2,tp=2" : "dp=2"));
    for (const char *axes : world->size() == 4 ? std::vector<const char *>{"tp", "dp", "dp,tp"}
                                               : std::vector<const char *>{"dp"})
      check_group(groups.group(axes), me, rank_order);
    if (world->size() == 4) {
      const std::vector<int> tp = groups.axis("tp").world_ranks();
      expect(tp == (me < 2 ? std::vector<int>{0, 1} : std::vector<int>{2, 3}), "tp members", me);
      const std::vector<int> dp = groups.axis("dp").world_ranks();
      expect(dp == (me % 2 ? std::vector<int>{1, 3} : std::vector<int>{0, 2}), "dp members", me);
    }
  }
  int64_t total[2] = {checks, failures};
  world->all_reduce_sum(total, 2);
  if (me == 0)
    std::printf("%lld checks on %d ranks (reduction order %s), %lld failures\n",
                static_cast<long long>(total[0]), world->size(), rank_order ? "rank" : "library",
                static_cast<long long>(total[1]));
  return total[1] == 0 ? 0 : 1;
}

int run_lose(bool grid, const std::string &signal_name, int victim) {
  const int sig = signal_name == "KILL" ? SIGKILL : signal_name == "STOP" ? SIGSTOP : 0;
  if (!sig) {
    std::fprintf(stderr, "gloo-comm-test: error: signal must be KILL or STOP\n");
    return 2;
  }
  std::unique_ptr<Communicator> world = gloo_world();
  std::unique_ptr<CommGroups> groups;
  if (grid)
    groups = std::make_unique<CommGroups>(*world, DeviceGrid::parse("dp=2,tp=2"));
  std::vector<float> data(4096, 1.0f);
  // 500 steps of 10 ms: a job that misses the loss runs ~5 s and exits 0.
  for (int step = 0; step < 500; ++step) {
    if (step == 3 && world->rank() == victim)
      std::raise(sig);
    if (grid) {
      groups->axis("tp").all_reduce_sum(data.data(), 4096);
      groups->axis("dp").all_reduce_sum(data.data(), 4096);
    } else {
      world->all_reduce_sum(data.data(), 4096);
    }
    std::fill(data.begin(), data.end(), 1.0f);
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  std::printf("rank %d: finished without noticing the lost rank\n", world->rank());
  return 0;
}

int run_abort(int failing) {
  CommOptions options;
  options.timeout_s = 60;
  std::unique_ptr<Communicator> world = gloo_world(options);
  float x = 1;
  world->all_reduce_sum(&x, 1);
  if (world->rank() == failing) {
    std::fprintf(stderr, "gloo-comm-test: error: rank %d cannot read its shard\n", failing);
    world->abort_job(1);
  }
  world->all_reduce_sum(&x, 1);
  std::printf("rank %d: finished without noticing the failed rank\n", world->rank());
  return 0;
}

} // namespace

int main(int argc, char **argv) {
  const std::string mode = argc > 1 ? argv[1] : "";
  try {
    if (mode == "collectives" && argc == 2)
      return run_collectives();
    if ((mode == "lose" || mode == "lose-grid") && argc == 4)
      return run_lose(mode == "lose-grid", argv[2], std::atoi(argv[3]));
    if (mode == "abort" && argc == 3)
      return run_abort(std::atoi(argv[2]));
    if (mode == "join" && argc == 2) {
      std::unique_ptr<Communicator> world = gloo_world();
      world->barrier();
      std::printf("rank %d of %d joined\n", world->rank(), world->size());
      return 0;
    }
  } catch (const Error &e) {
    std::fprintf(stderr, "gloo-comm-test: error: %s\n", e.what());
    return 1;
  }
  std::fprintf(stderr, "usage: %s collectives | lose[-grid] KILL|STOP RANK | abort RANK | join\n",
               argv[0]);
  return 2;
}
