//===- CudaCommAsyncTest.cpp - device collectives started, then waited -----===//
//
// The non-blocking collectives of the device communicators (comm.h's
// *_start and wait_collective) under mpirun, on the world group:
//
//   cleave-cuda-comm-async-test staged|nccl library|rank
//
// staged: host_staged(MPI), ranks may share a GPU; nccl: nccl_world, one
// rank per GPU; host: the MPI communicator on host buffers, without a GPU
// (the expectations themselves, checked where CI runs). The second
// argument is CommOptions::reduction_order.
// Per size (1, 1000, 262147 elements), the inputs are written by the step's
// stream behind a long matrix product (so a communication stream that ran
// ahead of the producer would read the NaN the buffers were filled with),
// then seven collectives are started back to back (all_reduce f32 sum, i64
// sum, f32 max and min with NaNs, reduce_scatter out of place and in
// place, all_gather out of place) behind a 64 MiB all_gather that keeps
// the communication busy, and waited in another order, each output read
// back by the step's stream right after the waits (a wait that did not
// order the step's stream would read NaN). Checks, against
// values computed here from every rank's inputs:
//   - max, min (NaN winning), i64 sums, all_gather: exact;
//   - f32 sums, rank order: the bits of the rank-order sum, and of the
//     host MPI communicator's (rank order) on the same inputs;
//   - f32 sums, library order: within 2 (n-1) 2^-24 sum |x| of the
//     rank-order sum (any order of n additions is within half that of the
//     exact sum);
//   - every result: the same bits as the blocking call on the same
//     inputs, and but for reduce_scatter's blocks the same on every rank.
// Then two groups (pairs and stripes of ranks) with all-reduces in flight
// on both at once, against their members' sums.
// Exits 0 when every rank passed, 1 otherwise, 77 (skipped) without a GPU
// (staged, nccl) or, for nccl, without NCCL.
//
//===----------------------------------------------------------------------===//
#include "cleave/rt/check.h"
#include "cleave/rt/cuda_check.h"
#include "cleave/rt/cuda_comm.h"
#include "cleave/rt/cuda_kernels.h"
#include "cleave/rt/mpi_comm.h"

#include <cuda_runtime.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <string>
#include <vector>

using namespace cleave::rt;

namespace {

uint64_t mix(uint64_t x) {
  x ^= x >> 33;
  x *= 0xff51afd7ed558ccdULL;
  x ^= x >> 33;
  x *= 0xc4ceb9fe1a85ec53ULL;
  return x ^ (x >> 33);
}

/// Rank `rank`'s input `salt` at i: signs and exponents vary, so that the
/// order of a sum shows in its bits.
float input_f32(int rank, int salt, int64_t i) {
  const uint64_t h = mix(uint64_t(rank) * 1000003 + uint64_t(salt) * 7919 + uint64_t(i) * 31 + 1);
  const float mantissa = static_cast<float>(static_cast<int64_t>(h % 2000001) - 1000000) / 1e6f;
  return std::ldexp(mantissa, static_cast<int>((h >> 32) % 24) - 12);
}

/// With a NaN here and there (element i % 97 == rank), for max and min.
float input_nan(int rank, int salt, int64_t i) {
  return i % 97 == rank ? std::numeric_limits<float>::quiet_NaN() : input_f32(rank, salt, i);
}

int64_t input_i64(int rank, int64_t i) {
  return static_cast<int64_t>(mix(uint64_t(rank) * 65537 + uint64_t(i)) % (uint64_t(1) << 40)) -
         (int64_t(1) << 39);
}

/// The host loop of mpi_communicator.cpp: NaN wins.
float combine(float acc, float b, CommReduction reduction) {
  switch (reduction) {
  case CommReduction::sum:
    return acc + b;
  case CommReduction::max:
    return (b > acc || b != b) ? b : acc;
  case CommReduction::min:
    return (b < acc || b != b) ? b : acc;
  }
  return acc;
}

/// Mode `host`: the checks on the MPI communicator itself, host buffers
/// (runs without a GPU: the expectations checked where CI can run them).
bool on_host = false;

/// Device memory of `bytes` (host memory in mode `host`), filled with 0xff
/// (NaN as f32, -1 as i64).
class Buffer {
public:
  explicit Buffer(int64_t bytes) : bytes_(bytes) {
    const size_t size = static_cast<size_t>(std::max<int64_t>(bytes, 1));
    if (on_host) {
      host_.assign(size, 0xff);
      data_ = host_.data();
      return;
    }
    CLEAVE_CUDA_CHECK(cudaMalloc(&data_, size));
    CLEAVE_CUDA_CHECK(cudaMemset(data_, 0xff, static_cast<size_t>(bytes)));
  }
  ~Buffer() {
    if (!on_host)
      (void)cudaFree(data_);
  }
  Buffer(const Buffer &) = delete;
  Buffer &operator=(const Buffer &) = delete;
  template <typename T = unsigned char> T *get() const { return static_cast<T *>(data_); }
  int64_t bytes() const { return bytes_; }
  /// Queued on the step's stream from pinned memory: lands after the work
  /// queued before it (the delay).
  void write_later(const void *host, std::vector<void *> &pinned) {
    if (on_host) {
      std::memcpy(data_, host, static_cast<size_t>(bytes_));
      return;
    }
    void *staging;
    CLEAVE_CUDA_CHECK(cudaMallocHost(&staging, static_cast<size_t>(std::max<int64_t>(bytes_, 1))));
    std::memcpy(staging, host, static_cast<size_t>(bytes_));
    pinned.push_back(staging);
    CLEAVE_CUDA_CHECK(cudaMemcpyAsync(data_, staging, static_cast<size_t>(bytes_),
                                      cudaMemcpyHostToDevice, nullptr));
  }
  template <typename T> std::vector<T> read() const {
    std::vector<T> out(static_cast<size_t>(bytes_) / sizeof(T));
    if (on_host) {
      std::memcpy(out.data(), data_, static_cast<size_t>(bytes_));
      return out;
    }
    CLEAVE_CUDA_CHECK(
        cudaMemcpy(out.data(), data_, static_cast<size_t>(bytes_), cudaMemcpyDeviceToHost));
    return out;
  }

private:
  void *data_ = nullptr;
  int64_t bytes_;
  std::vector<unsigned char> host_;
};

/// Milliseconds of work on the step's stream (a 4096^3 fp32 product).
class Delay {
public:
  Delay() : a_(on_host ? 0 : kSide * kSide * 4), b_(a_.bytes()), c_(a_.bytes()) {
    if (on_host)
      return;
    CLEAVE_CUDA_CHECK(cudaMemset(a_.get(), 0, static_cast<size_t>(a_.bytes())));
    CLEAVE_CUDA_CHECK(cudaMemset(b_.get(), 0, static_cast<size_t>(b_.bytes())));
  }
  void queue() {
    if (on_host)
      return;
    cuda::matmul(a_.get<float>(), b_.get<float>(), c_.get<float>(), 1, kSide, kSide, kSide, false,
                 false, 0, 0, false);
  }

private:
  static constexpr int64_t kSide = 4096;
  Buffer a_, b_, c_;
};

struct Checker {
  Communicator &host; // MPI world, host buffers
  int failures = 0;
  int checks = 0;

  void expect(bool ok, const std::string &what) {
    ++checks;
    if (!ok) {
      ++failures;
      std::printf("rank %d: FAILED: %s\n", host.rank(), what.c_str());
    }
  }

  /// The same bytes on every rank (hashes compared over MPI).
  void same_on_all_ranks(const void *data, size_t bytes, const std::string &what) {
    uint64_t hash = 1469598103934665603ULL;
    for (size_t i = 0; i < bytes; ++i)
      hash = (hash ^ static_cast<const unsigned char *>(data)[i]) * 1099511628211ULL;
    std::vector<int64_t> all(host.size());
    int64_t mine = static_cast<int64_t>(hash);
    host.all_gather(&mine, all.data(), 1);
    bool same = true;
    for (int64_t h : all)
      same = same && h == mine;
    expect(same, what + ": different bits on different ranks");
  }
};

bool same_bits(const void *a, const void *b, size_t bytes) {
  return bytes == 0 || std::memcmp(a, b, bytes) == 0;
}

/// The f32 sums of `got` against the rank-order sums `exact` of inputs
/// whose absolute sums are `magnitude`.
void check_sum(Checker &c, bool rank_order, const std::vector<float> &got,
               const std::vector<float> &exact, const std::vector<float> &magnitude, int n,
               const std::string &what) {
  if (rank_order) {
    c.expect(same_bits(got.data(), exact.data(), got.size() * 4),
             what + ": not the rank-order sum");
    return;
  }
  int64_t bad = -1;
  for (size_t i = 0; i < got.size() && bad < 0; ++i) {
    // Both sums are within (n-1) * 2^-24 * sum |x| of the exact one.
    const double bound = 2 * (n - 1) * std::ldexp(double(magnitude[i]), -24) * 1.01;
    if (!(std::fabs(double(got[i]) - double(exact[i])) <= bound))
      bad = static_cast<int64_t>(i);
  }
  c.expect(bad < 0, what + ": element " + std::to_string(bad) +
                        " is not within rounding of the rank-order sum");
}

/// One round of the seven collectives at `count`; `blocking` runs the
/// blocking calls instead. Returns the results read back, in call order.
std::vector<std::vector<unsigned char>> run_round(Communicator &comm, int64_t count, bool blocking,
                                                  Delay &delay) {
  const int n = comm.size(), me = comm.rank();
  const int64_t f = 4;
  std::vector<float> sum_in(count), max_in(count), min_in(count), rs_in(count * n),
      rs_place(count * n), ag_in(count);
  std::vector<int64_t> i64_in(count);
  for (int64_t i = 0; i < count; ++i) {
    sum_in[i] = input_f32(me, 0, i);
    max_in[i] = input_nan(me, 1, i);
    min_in[i] = input_nan(me, 2, i);
    ag_in[i] = input_f32(me, 4, i);
    i64_in[i] = input_i64(me, i);
  }
  for (int64_t i = 0; i < count * n; ++i) {
    rs_in[i] = input_f32(me, 3, i);
    rs_place[i] = input_f32(me, 5, i);
  }
  Buffer sum(count * f), i64(count * 8), max(count * f), min(count * f), rs_send(count * n * f),
      rs_recv(count * f), rs_inplace(count * n * f), ag_send(count * f), ag_recv(count * n * f);
  std::vector<void *> pinned;
  delay.queue();
  sum.write_later(sum_in.data(), pinned);
  i64.write_later(i64_in.data(), pinned);
  max.write_later(max_in.data(), pinned);
  min.write_later(min_in.data(), pinned);
  rs_send.write_later(rs_in.data(), pinned);
  rs_inplace.write_later(rs_place.data(), pinned);
  ag_send.write_later(ag_in.data(), pinned);
  float *rs_block = rs_inplace.get<float>() + me * count;
  // Read back by the step's stream right after the waits, the late
  // collectives' out-of-place outputs first: on one rank, where a sum is its
  // input, they are what shows a wait that did not order the step's stream.
  const Buffer *outputs[7] = {&sum, &rs_recv, &i64, &ag_recv, &max, &rs_inplace, &min};
  std::vector<std::vector<unsigned char>> results(7);
  if (blocking) {
    comm.all_reduce(sum.get(), count, CommElement::f32, CommReduction::sum);
    comm.reduce_scatter(rs_send.get(), rs_recv.get(), count, CommElement::f32);
    comm.all_reduce(i64.get(), count, CommElement::i64, CommReduction::sum);
    comm.all_gather(ag_send.get(), ag_recv.get(), count, CommElement::f32);
    comm.all_reduce(max.get(), count, CommElement::f32, CommReduction::max);
    comm.reduce_scatter(rs_inplace.get(), rs_block, count, CommElement::f32);
    comm.all_reduce(min.get(), count, CommElement::f32, CommReduction::min);
  } else {
    // A pacer ahead of them: 64 MiB gathered, so that the checked outputs
    // are written well after the step's stream could first read them.
    // (Nothing to pace on the host: a token one.)
    const int64_t pacer_count = on_host ? 1 : (int64_t(1) << 24) / n;
    Buffer pacer_send(pacer_count * f), pacer_recv(pacer_count * n * f);
    const Communicator::Request pacer =
        comm.all_gather_start(pacer_send.get(), pacer_recv.get(), pacer_count, CommElement::f32);
    Communicator::Request r[7] = {
        comm.all_reduce_start(sum.get(), count, CommElement::f32),
        comm.reduce_scatter_start(rs_send.get(), rs_recv.get(), count, CommElement::f32),
        comm.all_reduce_start(i64.get(), count, CommElement::i64),
        comm.all_gather_start(ag_send.get(), ag_recv.get(), count, CommElement::f32),
        comm.all_reduce_start(max.get(), count, CommElement::f32, CommReduction::max),
        comm.reduce_scatter_start(rs_inplace.get(), rs_block, count, CommElement::f32),
        comm.all_reduce_start(min.get(), count, CommElement::f32, CommReduction::min)};
    for (int k : {3, 6, 0, 5, 1, 4, 2})
      comm.wait_collective(r[k]);
    comm.wait_collective(pacer);
    // Read before the pacer's buffers go (cudaFree waits for the device).
    for (int k : {3, 1, 6, 5, 4, 2, 0})
      results[k] = outputs[k]->read<unsigned char>();
  }
  if (blocking)
    for (int k : {3, 1, 6, 5, 4, 2, 0})
      results[k] = outputs[k]->read<unsigned char>();
  // The in-place reduce_scatter's result is this rank's block only.
  auto &place = results[5];
  place = std::vector<unsigned char>(place.begin() + me * count * f,
                                     place.begin() + (me + 1) * count * f);
  if (!on_host)
    CLEAVE_CUDA_CHECK(cudaDeviceSynchronize());
  for (void *p : pinned)
    CLEAVE_CUDA_CHECK(cudaFreeHost(p));
  return results;
}

template <typename T> std::vector<T> as(const std::vector<unsigned char> &bytes) {
  std::vector<T> out(bytes.size() / sizeof(T));
  std::memcpy(out.data(), bytes.data(), bytes.size());
  return out;
}

void check_size(Checker &c, Communicator &comm, int64_t count, bool rank_order, Delay &delay) {
  const int n = comm.size(), me = comm.rank();
  const std::string at = std::to_string(count) + " elements";
  auto started = run_round(comm, count, false, delay);
  auto blocking = run_round(comm, count, true, delay);
  const char *names[7] = {"all_reduce sum", "reduce_scatter", "all_reduce i64",
                          "all_gather",     "all_reduce max", "in-place reduce_scatter",
                          "all_reduce min"};
  for (int k = 0; k < 7; ++k) {
    c.expect(started[k] == blocking[k],
             std::string(names[k]) + ", " + at + ": started + waited differs from blocking");
    if (k != 1 && k != 5) // a reduce_scatter's block differs by rank
      c.same_on_all_ranks(started[k].data(), started[k].size(), std::string(names[k]) + ", " + at);
  }

  // Expectations from every rank's inputs, rank order.
  std::vector<float> sum(count), sum_abs(count), max(count), min(count), rs(count), rs_abs(count),
      place(count), place_abs(count), gathered(count * n);
  std::vector<int64_t> i64(count, 0);
  for (int64_t i = 0; i < count; ++i) {
    sum[i] = input_f32(0, 0, i);
    max[i] = input_nan(0, 1, i);
    min[i] = input_nan(0, 2, i);
    rs[i] = input_f32(0, 3, me * count + i);
    place[i] = input_f32(0, 5, me * count + i);
    for (int r = 1; r < n; ++r) {
      sum[i] = combine(sum[i], input_f32(r, 0, i), CommReduction::sum);
      max[i] = combine(max[i], input_nan(r, 1, i), CommReduction::max);
      min[i] = combine(min[i], input_nan(r, 2, i), CommReduction::min);
      rs[i] = combine(rs[i], input_f32(r, 3, me * count + i), CommReduction::sum);
      place[i] = combine(place[i], input_f32(r, 5, me * count + i), CommReduction::sum);
    }
    for (int r = 0; r < n; ++r) {
      sum_abs[i] += std::fabs(input_f32(r, 0, i));
      rs_abs[i] += std::fabs(input_f32(r, 3, me * count + i));
      place_abs[i] += std::fabs(input_f32(r, 5, me * count + i));
      i64[i] += input_i64(r, i);
      gathered[r * count + i] = input_f32(r, 4, i);
    }
  }
  check_sum(c, rank_order, as<float>(started[0]), sum, sum_abs, n, "all_reduce sum, " + at);
  check_sum(c, rank_order, as<float>(started[1]), rs, rs_abs, n, "reduce_scatter, " + at);
  check_sum(c, rank_order, as<float>(started[5]), place, place_abs, n,
            "in-place reduce_scatter, " + at);
  c.expect(as<int64_t>(started[2]) == i64, "all_reduce i64, " + at + ": not the exact sum");
  c.expect(same_bits(started[3].data(), gathered.data(), gathered.size() * 4),
           "all_gather, " + at + ": not the ranks' blocks in rank order");
  c.expect(same_bits(started[4].data(), max.data(), max.size() * 4),
           "all_reduce max, " + at + ": not the rank-order max (NaN winning)");
  c.expect(same_bits(started[6].data(), min.data(), min.size() * 4),
           "all_reduce min, " + at + ": not the rank-order min (NaN winning)");

  if (rank_order) {
    // The host MPI communicator (rank order) on the same inputs.
    std::vector<float> host_sum(count);
    for (int64_t i = 0; i < count; ++i)
      host_sum[i] = input_f32(me, 0, i);
    c.host.all_reduce_sum(host_sum.data(), count);
    c.expect(same_bits(started[0].data(), host_sum.data(), host_sum.size() * 4),
             "all_reduce sum, " + at + ": not the host MPI communicator's bits");
  }
}

/// Two groups' collectives in flight at once (each group its own
/// communicator and, on NCCL, its own stream): pairs {0,1},{2,3}... and
/// stripes {0,2,..},{1,3,..}, two all_reduce sums started on each,
/// alternating, waited in another order.
void check_groups(Checker &c, Communicator &world, bool rank_order, Delay &delay) {
  const int me = world.rank();
  std::unique_ptr<Communicator> groups[2] = {world.split(me / 2, me, "pairs"),
                                             world.split(me % 2, me, "stripes")};
  constexpr int64_t count = 4099;
  std::vector<std::unique_ptr<Buffer>> buffers;
  std::vector<void *> pinned;
  delay.queue();
  for (int k = 0; k < 4; ++k) {
    std::vector<float> in(count);
    for (int64_t i = 0; i < count; ++i)
      in[i] = input_f32(me, 10 + k, i);
    buffers.push_back(std::make_unique<Buffer>(count * 4));
    buffers.back()->write_later(in.data(), pinned);
  }
  Communicator::Request r[4];
  for (int k = 0; k < 4; ++k)
    r[k] = groups[k % 2]->all_reduce_start(buffers[k]->get(), count, CommElement::f32);
  for (int k : {3, 0, 2, 1})
    groups[k % 2]->wait_collective(r[k]);
  for (int k = 0; k < 4; ++k) {
    Communicator &group = *groups[k % 2];
    const std::vector<int> &members = group.world_ranks();
    std::vector<float> exact(count), magnitude(count);
    for (int64_t i = 0; i < count; ++i) {
      exact[i] = input_f32(members[0], 10 + k, i);
      for (size_t m = 1; m < members.size(); ++m)
        exact[i] += input_f32(members[m], 10 + k, i);
      for (int member : members)
        magnitude[i] += std::fabs(input_f32(member, 10 + k, i));
    }
    check_sum(c, rank_order, buffers[k]->read<float>(), exact, magnitude, group.size(),
              "all_reduce sum " + std::to_string(k) + " over " + group.describe() +
                  ", beside the other group's");
  }
  if (!on_host)
    CLEAVE_CUDA_CHECK(cudaDeviceSynchronize());
  for (void *p : pinned)
    CLEAVE_CUDA_CHECK(cudaFreeHost(p));
}

int local_rank() {
  const char *value = std::getenv("OMPI_COMM_WORLD_LOCAL_RANK");
  return value ? std::atoi(value) : 0;
}

} // namespace

int main(int argc, char **argv) {
  const std::string mode = argc == 3 ? argv[1] : "", order = argc == 3 ? argv[2] : "";
  if ((mode != "staged" && mode != "nccl" && mode != "host") ||
      (order != "library" && order != "rank")) {
    std::fprintf(stderr, "usage: %s staged|nccl|host library|rank\n", argv[0]);
    return 2;
  }
  on_host = mode == "host";
  int devices = 0;
  if (!on_host && (cudaGetDeviceCount(&devices) != cudaSuccess || devices == 0)) {
    std::printf("no GPU visible: skipped\n");
    return 77;
  }
  if (mode == "nccl" && !cuda::have_nccl()) {
    std::printf("built without NCCL: skipped\n");
    return 77;
  }
  try {
    CommOptions options = CommOptions::from_environment();
    options.reduction_order =
        order == "rank" ? CommOptions::ReductionOrder::rank : CommOptions::ReductionOrder::library;
    std::unique_ptr<Communicator> mpi = mpi_world(&argc, &argv, options);
    std::unique_ptr<Communicator> world;
    if (on_host) {
      world = mpi->split(0, mpi->rank(), "world");
    } else if (mode == "staged") {
      CLEAVE_CUDA_CHECK(cudaSetDevice(local_rank() % devices));
      world = cuda::host_staged(mpi->split(0, mpi->rank(), "world"));
    } else {
      world = cuda::nccl_world(*mpi, options);
    }
    Checker checker{*mpi};
    Delay delay;
    for (int64_t count : {int64_t(1), int64_t(1000), int64_t(262147)})
      check_size(checker, *world, count, order == "rank", delay);
    check_groups(checker, *world, order == "rank", delay);
    world->barrier();
    int64_t failures = checker.failures;
    mpi->all_reduce_sum(&failures, 1);
    if (mpi->rank() == 0)
      std::printf("%s, %s order, %d ranks: %d checks per rank, %lld failures\n", mode.c_str(),
                  order.c_str(), mpi->size(), checker.checks, static_cast<long long>(failures));
    world.reset();
    return failures == 0 ? 0 : 1;
  } catch (const Error &e) {
    std::fprintf(stderr, "cuda-comm-async-test: error: %s\n", e.what());
    return 1;
  }
}
