//===- CommTest.cpp - the MPI communicator under mpirun --------------------===//
//
// One program, run by every rank of `mpirun -np N`; the first argument
// picks what it checks:
//
//   collectives     every collective on the MPI world and its grid groups
//                   (CommChecks.cpp)
//   collectives-in-pieces   the same with messages cut into 4 KiB pieces
//   world-size N    check_world_size(N): the mismatch message, exit 1
//   lose SIG RANK   all_reduce in a loop; on the 4th call RANK raises SIG
//                   (KILL: dies; STOP: stops responding) on itself
//   lose-grid SIG RANK   the same with tp then dp all_reduces on dp=2,tp=2
//   lose-nonblocking SIG RANK   the same with all_reduce_start, compute,
//                   wait_collective (collective_api.inc) on dp=N
//   nonblocking     the non-blocking collectives against the blocking ones
//                   (NonBlockingChecks.cpp)
//   overlap COUNT WORK REPEATS   times an all_reduce beside compute against
//                   blocking (OverlapBench.cpp; bench/overlap_collectives.py)
//   abort RANK      RANK fails alone (as with a bad file on one node) and
//                   calls abort_job(1) while the others wait in all_reduce
//   all-to-all      on dp=2,tp=2 (4 ranks), collective::all_to_all moving
//                   each group's axes between two dimensions of a 3-D
//                   block gives what gathering one and slicing the other
//                   gives (collectives.h)
//
//===----------------------------------------------------------------------===//
#include "cleave/rt/comm.h"
#include "CommChecks.h"
#include "NonBlockingChecks.h"
#include "OverlapBench.h"
#include "cleave/rt/check.h"
#include "cleave/rt/collectives.h"
#include "cleave/rt/mpi_comm.h"

#include <mpi.h>

#include <chrono>
#include <csignal>
#include <cstdio>
#include <string>
#include <thread>
#include <vector>

using namespace cleave::rt;

namespace {

int run_world_size(int expected) {
  std::unique_ptr<Communicator> world = mpi_world(nullptr, nullptr);
  try {
    check_world_size(*world, expected);
  } catch (const Error &e) {
    std::fprintf(stderr, "comm-test: error: %s\n", e.what());
    return 1;
  }
  std::printf("rank %d: world size %d as compiled\n", world->rank(), world->size());
  return 0;
}

int run_lose(bool grid, bool nonblocking, const std::string &signal_name, int victim) {
  const int sig = signal_name == "KILL" ? SIGKILL : signal_name == "STOP" ? SIGSTOP : 0;
  if (!sig) {
    std::fprintf(stderr, "comm-test: error: signal must be KILL or STOP\n");
    return 2;
  }
  std::unique_ptr<Communicator> world = mpi_world(nullptr, nullptr);
  std::unique_ptr<CommGroups> groups;
  if (grid)
    groups = std::make_unique<CommGroups>(*world, DeviceGrid::parse("dp=2,tp=2"));
  if (nonblocking)
    groups = std::make_unique<CommGroups>(*world,
                                          DeviceGrid::parse("dp=" + std::to_string(world->size())));
  std::vector<float> data(4096, 1.0f);
  // 500 steps of 10 ms: a job that misses the loss runs ~5 s and exits 0.
  for (int step = 0; step < 500; ++step) {
    if (step == 3 && world->rank() == victim)
      std::raise(sig);
    if (nonblocking) {
      collective::all_reduce_start(groups.get(), "dp", data.data(), data.data(), 4096,
                                   CommElement::f32, CommReduction::sum, 0);
      std::this_thread::sleep_for(std::chrono::milliseconds(1)); // "compute"
      collective::wait_collective(groups.get(), 0);
    } else if (grid) {
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
  // A long timeout: only abort_job may end this job quickly.
  CommOptions options;
  options.timeout_s = 60;
  std::unique_ptr<Communicator> world = mpi_world(nullptr, nullptr, options);
  float x = 1;
  world->all_reduce_sum(&x, 1);
  if (world->rank() == failing) {
    std::fprintf(stderr, "comm-test: error: rank %d cannot read its shard\n", failing);
    world->abort_job(1);
  }
  world->all_reduce_sum(&x, 1);
  std::printf("rank %d: finished without noticing the failed rank\n", world->rank());
  return 0;
}

} // namespace

namespace {

int run_all_to_all() {
  std::unique_ptr<Communicator> world = mpi_world(nullptr, nullptr);
  CommGroups groups(*world, DeviceGrid::parse("dp=2,tp=2"));
  int failures = 0, checks = 0;
  const int64_t local[3] = {2, 4, 3}; // this rank's block; 4 splits over 2 or 4 ranks
  auto product = [](const int64_t *dims, int from, int to) {
    int64_t size = 1;
    for (int d = from; d < to; ++d)
      size *= dims[d];
    return size;
  };
  for (const char *axes : {"dp", "tp", "dp,tp"}) {
    const int64_t n = std::string(axes) == "dp,tp" ? 4 : 2;
    for (auto [concat, split] : {std::pair{0, 1}, {2, 1}, {1, 0}, {1, 2}}) {
      int64_t in_dims[3] = {local[0], local[1], local[2]};
      if (in_dims[split] % n)
        continue;
      std::vector<float> in(static_cast<size_t>(product(in_dims, 0, 3)));
      for (size_t i = 0; i < in.size(); ++i)
        in[i] = static_cast<float>(world->rank() * 1000 + static_cast<int>(i));
      // Expected: gather along `concat`, then keep this rank's part of `split`.
      int64_t gathered_dims[3] = {in_dims[0], in_dims[1], in_dims[2]};
      gathered_dims[concat] *= n;
      std::vector<float> gathered(in.size() * static_cast<size_t>(n));
      collective::all_gather(&groups, axes, in.data(), gathered.data(), product(in_dims, 0, concat),
                             product(in_dims, concat, 3), 4);
      int64_t out_dims[3] = {gathered_dims[0], gathered_dims[1], gathered_dims[2]};
      out_dims[split] /= n;
      std::vector<float> expected(in.size()), moved(in.size());
      collective::all_slice(&groups, axes, gathered.data(), expected.data(),
                            product(gathered_dims, 0, split), product(gathered_dims, split, 3) / n,
                            4);
      collective::all_to_all(&groups, axes, in.data(), moved.data(), product(in_dims, 0, split),
                             product(in_dims, split, 3) / n, product(out_dims, 0, concat),
                             product(out_dims, concat, 3) / n, 4);
      ++checks;
      if (moved != expected) {
        std::printf("rank %d: all_to_all over %s, concat %d split %d differs\n", world->rank(),
                    axes, concat, split);
        ++failures;
      }
    }
  }
  std::printf("rank %d: %d all_to_all checks, %d failures\n", world->rank(), checks, failures);
  return failures == 0 ? 0 : 1;
}

} // namespace

int main(int argc, char **argv) {
  const std::string mode = argc > 1 ? argv[1] : "";
  try {
    if ((mode == "collectives" || mode == "collectives-in-pieces") && argc == 2) {
      CommOptions options = CommOptions::from_environment();
      if (mode == "collectives-in-pieces")
        options.max_message_bytes = 4096;
      std::unique_ptr<Communicator> world = mpi_world(nullptr, nullptr, options);
      if (!world->is_host() || std::string(world->backend()) != "mpi") {
        std::fprintf(stderr, "comm-test: the MPI world is %s\n", world->backend());
        return 1;
      }
      return test::check_collectives(*world);
    }
    if (mode == "overlap" && argc == 5)
      return test::bench_overlap(*mpi_world(nullptr, nullptr), std::atoll(argv[2]),
                                 std::atoll(argv[3]), std::atoi(argv[4]));
    if (mode == "nonblocking" && argc == 2)
      return test::check_nonblocking(*mpi_world(nullptr, nullptr));
    if (mode == "all-to-all" && argc == 2)
      return run_all_to_all();
    if (mode == "world-size" && argc == 3)
      return run_world_size(std::atoi(argv[2]));
    if (mode == "abort" && argc == 3)
      return run_abort(std::atoi(argv[2]));
    if ((mode == "lose" || mode == "lose-grid" || mode == "lose-nonblocking") && argc == 4)
      return run_lose(mode == "lose-grid", mode == "lose-nonblocking", argv[2], std::atoi(argv[3]));
  } catch (const Error &e) {
    std::fprintf(stderr, "comm-test: error: %s\n", e.what());
    return 1;
  }
  std::fprintf(stderr,
               "usage: %s collectives[-in-pieces] | nonblocking | overlap COUNT WORK REPEATS | "
               "world-size N | "
               "lose[-grid|-nonblocking] KILL|STOP RANK | abort RANK\n",
               argv[0]);
  return 2;
}
