//===- CommChecks.cpp - every collective against independent expectations -===//
//
// check_collectives runs every collective on the world and, on 4 ranks, on
// the groups of the grids dp=2,tp=2, dp=4 and a=1,b=2,c=2, comparing with
// values computed here from the ranks' inputs: exact bits for the
// rank-order sums and for max/min (NaN winning), and the same bits on every rank of a group (hashes
// compared through raw MPI, not the code under test). Under
// CLEAVE_REDUCTION_ORDER=library the sums are MPI's own, in MPI's order:
// then they must be within rounding of the rank-order sum, repeat bit for
// bit, and still be the same bits on every rank. A failed check prints
// and counts but never skips a collective: a rank that skipped one would
// leave the others waiting.
//
//===----------------------------------------------------------------------===//
#include "CommChecks.h"

#include "cleave/rt/check.h"

#include <mpi.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <string>
#include <thread>
#include <vector>

namespace cleave::rt::test {
namespace {

int world_rank = 0;
int failures = 0;
int checks = 0;
/// Whether sums must be the rank-order bits (else: MPI's own, to rounding).
bool rank_order = true;

void expect(bool ok, const std::string &what) {
  ++checks;
  if (!ok) {
    ++failures;
    std::fprintf(stderr, "rank %d: FAILED: %s\n", world_rank, what.c_str());
  }
}

/// Rank w's input element i: magnitudes from 1e-3 to 1e6 with both signs,
/// so that the order of additions shows in the bits.
float input(int w, int64_t i) {
  const float base = static_cast<float>((i * 7919 + w * 104729) % 1000) / 7.0f;
  const float scale = (w + i) % 3 == 0 ? 1e4f : ((w + i) % 3 == 1 ? 1e-3f : 1.0f);
  return ((w + i) % 2 ? -base : base) * scale + static_cast<float>(w) * 0.1f;
}

int64_t input_i64(int w, int64_t i) { return w * 1000003LL + i * 7 - 5; }

/// The rank-order sum over `members` (world ranks, in group order).
float rank_order_sum(const std::vector<int> &members, int64_t i) {
  float sum = input(members[0], i);
  for (size_t r = 1; r < members.size(); ++r)
    sum += input(members[r], i);
  return sum;
}

/// The sum's rounding budget: a few float ulps of the summands' magnitude.
float sum_tolerance(const std::vector<int> &members, int64_t i) {
  float magnitude = 0;
  for (int m : members)
    magnitude += std::fabs(input(m, i));
  return 1e-6f * magnitude;
}

uint64_t hash_bytes(const void *data, size_t bytes) {
  uint64_t h = 1469598103934665603ULL;
  const auto *p = static_cast<const unsigned char *>(data);
  for (size_t i = 0; i < bytes; ++i)
    h = (h ^ p[i]) * 1099511628211ULL;
  return h;
}

/// Every world rank's `h`, through raw MPI (not the code under test).
std::vector<uint64_t> gather_hashes(uint64_t h) {
  int size = 0;
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  std::vector<uint64_t> all(size);
  MPI_Allgather(&h, 1, MPI_UINT64_T, all.data(), 1, MPI_UINT64_T, MPI_COMM_WORLD);
  return all;
}

/// Whether every member of this rank's group got the same hash. Called by
/// every world rank (the gather is over the world).
void expect_same_on_group(const std::vector<int> &members, const void *data, size_t bytes,
                          const std::string &what) {
  const std::vector<uint64_t> all = gather_hashes(hash_bytes(data, bytes));
  bool same = true;
  for (int m : members)
    same = same && all[m] == all[members[0]];
  expect(same, what + ": different bits on the ranks of the group");
}

bool same_bits(const std::vector<float> &a, const std::vector<float> &b) {
  return a.size() == b.size() &&
         (a.empty() || std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0);
}

/// got[k] against the rank-order sum of input element first + k over
/// `members`: its bits under rank order, within rounding under library.
bool sum_matches(const float *got, int64_t count, const std::vector<int> &members, int64_t first) {
  for (int64_t k = 0; k < count; ++k) {
    const float want = rank_order_sum(members, first + k);
    const bool ok = rank_order ? std::memcmp(&got[k], &want, sizeof(float)) == 0
                               : std::fabs(got[k] - want) <= sum_tolerance(members, first + k);
    if (!ok)
      return false;
  }
  return true;
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

/// All collectives on `comm`, whose members (world ranks, group order)
/// the caller knows independently of the code under test.
void check_group(Communicator &comm, const std::vector<int> &members, const std::string &label) {
  const int n = static_cast<int>(members.size());
  int me = -1;
  for (int r = 0; r < n; ++r)
    if (members[r] == world_rank)
      me = r;
  expect(comm.world_ranks() == members, label + ": members");
  expect(comm.size() == n && comm.rank() == me, label + ": rank and size");
  if (comm.world_ranks() != members || me < 0)
    return; // the group itself is wrong: its collectives would not match

  for (int64_t count : {0, 1, 3, 7, 1000, 100003}) {
    const std::string what = label + ": all_reduce f32 of " + std::to_string(count);
    std::vector<float> data(count);
    for (int64_t i = 0; i < count; ++i)
      data[i] = input(world_rank, i);
    std::vector<float> again = data;
    comm.all_reduce_sum(data.data(), count);
    expect(sum_matches(data.data(), count, members, 0),
           what + (rank_order ? ": not the rank-order sum" : ": not the sum to rounding"));
    expect_same_on_group(members, data.data(), data.size() * sizeof(float), what);
    comm.all_reduce_sum(again.data(), count);
    expect(same_bits(data, again), what + ": a repeat gives other bits");
  }
  {
    const int64_t count = 1001;
    std::vector<int64_t> data(count), expected(count, 0);
    for (int64_t i = 0; i < count; ++i) {
      data[i] = input_i64(world_rank, i);
      for (int m : members)
        expected[i] += input_i64(m, i);
    }
    comm.all_reduce_sum(data.data(), count);
    expect(data == expected, label + ": all_reduce i64");
  }
  for (int64_t count : {1, 5, 1001}) {
    std::vector<float> send(count), expected(count * n);
    for (int64_t i = 0; i < count; ++i)
      send[i] = input(world_rank, i);
    for (int r = 0; r < n; ++r)
      for (int64_t i = 0; i < count; ++i)
        expected[r * count + i] = input(members[r], i);
    std::vector<float> recv(count * n, -1.0f);
    comm.all_gather(send.data(), recv.data(), count);
    expect(same_bits(recv, expected), label + ": all_gather of " + std::to_string(count));
    std::vector<float> in_place(count * n, -1.0f);
    std::copy(send.begin(), send.end(), in_place.begin() + me * count);
    comm.all_gather(in_place.data() + me * count, in_place.data(), count);
    expect(same_bits(in_place, expected), label + ": in-place all_gather");
    expect_same_on_group(members, recv.data(), recv.size() * sizeof(float), label + ": all_gather");
  }
  {
    std::vector<int64_t> send = {input_i64(world_rank, 0), input_i64(world_rank, 1)};
    std::vector<int64_t> recv(2 * n), expected(2 * n);
    for (int r = 0; r < n; ++r)
      for (int i = 0; i < 2; ++i)
        expected[2 * r + i] = input_i64(members[r], i);
    comm.all_gather(send.data(), recv.data(), 2);
    expect(recv == expected, label + ": all_gather i64");
  }
  for (int64_t count : {1, 3, 257}) {
    const std::string what = label + ": reduce_scatter of " + std::to_string(count);
    std::vector<float> send(count * n);
    for (int64_t i = 0; i < count * n; ++i)
      send[i] = input(world_rank, i);
    std::vector<float> recv(count, -1.0f);
    comm.reduce_scatter_sum(send.data(), recv.data(), count);
    expect(sum_matches(recv.data(), count, members, me * count),
           what + (rank_order ? ": not the rank-order sum" : ": not the sum to rounding"));
    comm.reduce_scatter_sum(send.data(), send.data() + me * count, count);
    expect(std::memcmp(send.data() + me * count, recv.data(), count * sizeof(float)) == 0,
           what + " in place");
  }
  // Max and min: exact, so the expectation is the plain fold; one element
  // in 97 is NaN on group rank 1 (rank 0 alone), which must win everywhere.
  for (CommReduction reduction : {CommReduction::max, CommReduction::min}) {
    const std::string name = reduction_name(reduction);
    const bool is_max = reduction == CommReduction::max;
    auto value = [&](int w, int64_t i) {
      const int group_rank =
          static_cast<int>(std::find(members.begin(), members.end(), w) - members.begin());
      const bool nan = i % 97 == 5 && group_rank == std::min(1, n - 1);
      return nan ? std::numeric_limits<float>::quiet_NaN() : input(w, i);
    };
    auto fold = [&](int64_t i) {
      float acc = value(members[0], i);
      for (int r = 1; r < n; ++r) {
        const float b = value(members[r], i);
        if (std::isnan(acc))
          continue;
        if (std::isnan(b) || (is_max ? b > acc : b < acc))
          acc = b;
      }
      return acc;
    };
    for (int64_t count : {1, 7, 1000, 100003}) {
      const std::string what = label + ": all_reduce " + name + " f32 of " + std::to_string(count);
      std::vector<float> data(count), expected(count);
      for (int64_t i = 0; i < count; ++i) {
        data[i] = value(world_rank, i);
        expected[i] = fold(i);
      }
      comm.all_reduce(data.data(), count, reduction);
      expect(same_bits(data, expected), what + ": not the group's " + name);
      expect_same_on_group(members, data.data(), data.size() * sizeof(float), what);
    }
    {
      const int64_t count = 1001;
      std::vector<int64_t> data(count), expected(count);
      for (int64_t i = 0; i < count; ++i) {
        // Rank order decides nothing here: the winner varies with i.
        auto v = [&](int w) { return (input_i64(w, i) * 31 + i * i) % 1009 - 500; };
        data[i] = v(world_rank);
        expected[i] = v(members[0]);
        for (int m : members)
          expected[i] = is_max ? std::max(expected[i], v(m)) : std::min(expected[i], v(m));
      }
      comm.all_reduce(data.data(), count, reduction);
      expect(data == expected, label + ": all_reduce " + name + " i64");
    }
    for (int64_t count : {1, 3, 257}) {
      const std::string what = label + ": reduce_scatter " + name + " of " + std::to_string(count);
      std::vector<float> send(count * n), expected(count);
      for (int64_t i = 0; i < count * n; ++i)
        send[i] = value(world_rank, i);
      for (int64_t i = 0; i < count; ++i)
        expected[i] = fold(me * count + i);
      std::vector<float> recv(count, -1.0f);
      comm.reduce_scatter(send.data(), recv.data(), count, reduction);
      expect(same_bits(recv, expected), what + ": not the group's " + name);
      comm.reduce_scatter(send.data(), send.data() + me * count, count, reduction);
      expect(std::memcmp(send.data() + me * count, expected.data(), count * sizeof(float)) == 0,
             what + " in place");
    }
    {
      std::vector<int64_t> send(2 * n), recv(2);
      for (int64_t i = 0; i < 2 * n; ++i)
        send[i] = input_i64(world_rank, i) * (world_rank % 2 ? -1 : 1);
      comm.reduce_scatter(send.data(), recv.data(), 2, reduction);
      bool ok = true;
      for (int64_t i = 0; i < 2; ++i) {
        auto v = [&](int w) { return input_i64(w, me * 2 + i) * (w % 2 ? -1 : 1); };
        int64_t want = v(members[0]);
        for (int m : members)
          want = is_max ? std::max(want, v(m)) : std::min(want, v(m));
        ok = ok && recv[i] == want;
      }
      expect(ok, label + ": reduce_scatter " + name + " i64");
    }
  }
  for (int64_t count : {1, 4, 333}) {
    // Block j of rank w's send: w*1e4 + j*1e3 + i, exact in float.
    auto value = [](int w, int j, int64_t i) {
      return static_cast<float>(w * 10000 + j * 1000 + i % 1000);
    };
    std::vector<float> send(count * n), recv(count * n, -1.0f), expected(count * n);
    for (int j = 0; j < n; ++j)
      for (int64_t i = 0; i < count; ++i) {
        send[j * count + i] = value(world_rank, j, i);
        expected[j * count + i] = value(members[j], me, i);
      }
    comm.all_to_all(send.data(), recv.data(), count);
    expect(same_bits(recv, expected), label + ": all_to_all of " + std::to_string(count));
  }
  for (int root = 0; root < n; ++root) {
    const int64_t count = 777;
    std::vector<float> data(count, -7.0f), expected(count);
    for (int64_t i = 0; i < count; ++i) {
      expected[i] = input(members[root], i);
      if (me == root)
        data[i] = expected[i];
    }
    comm.broadcast(data.data(), count, root);
    expect(same_bits(data, expected), label + ": broadcast from " + std::to_string(root));
  }
  {
    // Rank r arrives r*30 ms late; nobody may leave before the last arrives.
    using Clock = std::chrono::steady_clock; // system-wide on Linux: comparable across ranks
    std::this_thread::sleep_for(std::chrono::milliseconds(30 * me));
    const int64_t arrive = Clock::now().time_since_epoch().count();
    comm.barrier();
    const int64_t leave = Clock::now().time_since_epoch().count();
    int size = 0;
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    std::vector<int64_t> arrivals(size);
    MPI_Allgather(&arrive, 1, MPI_INT64_T, arrivals.data(), 1, MPI_INT64_T, MPI_COMM_WORLD);
    int64_t last = 0;
    for (int m : members)
      last = std::max(last, arrivals[m]);
    expect(leave >= last, label + ": barrier returned before every rank arrived");
  }
  // Mistakes are Errors on every rank (no collective starts).
  float x = 0;
  expect(throws_error([&] { comm.broadcast(&x, 1, n); },
                      "root " + std::to_string(n) + " is not a rank of the group"),
         label + ": bad broadcast root");
  std::vector<float> buffer(4 * n);
  expect(throws_error([&] { comm.all_gather(buffer.data() + 1, buffer.data(), 2); },
                      "overlaps the receive buffer"),
         label + ": overlapping all_gather");
  expect(throws_error([&] { comm.all_reduce(buffer.data(), 4, CommElement::u8); },
                      "cannot take the sum of raw bytes"),
         label + ": u8 all_reduce");
}

} // namespace

int check_collectives(Communicator &world_ref) {
  return check_collectives(world_ref, CommOptions::from_environment().reduction_order);
}

int check_collectives(Communicator &world_ref, CommOptions::ReductionOrder order) {
  rank_order = order == CommOptions::ReductionOrder::rank;
  Communicator *world = &world_ref;
  world_rank = world->rank();
  const int size = world->size();
  std::vector<int> all(size);
  for (int r = 0; r < size; ++r)
    all[r] = r;
  check_group(*world, all, "world");

  if (size == 4 && rank_order) {
    // The order-sensitive case: rank order gives ((1e8 + 1) - 1e8) + 1 = 1
    // in float; pairwise ((1e8 + 1) + (-1e8 + 1)) would give 0.
    const float parts[4] = {1e8f, 1.0f, -1e8f, 1.0f};
    float x = parts[world_rank];
    world->all_reduce_sum(&x, 1);
    expect(x == 1.0f, "world: all_reduce of {1e8, 1, -1e8, 1} is " + std::to_string(x) +
                          ", not 1 (rank order)");
  }
  if (size == 4) {

    CommGroups groups(*world, DeviceGrid::parse("dp=2,tp=2"));
    const std::vector<int> coords = groups.coordinates();
    expect(coords == std::vector<int>{world_rank / 2, world_rank % 2}, "dp=2,tp=2 coordinates");
    const std::vector<std::vector<int>> tp = {{0, 1}, {2, 3}}, dp = {{0, 2}, {1, 3}};
    check_group(groups.axis("tp"), tp[world_rank / 2], "dp=2,tp=2 tp group");
    check_group(groups.axis("dp"), dp[world_rank % 2], "dp=2,tp=2 dp group");
    check_group(groups.axes({"tp", "dp"}), all, "dp=2,tp=2 dp,tp group");
    expect(groups.axis("tp").describe() ==
               (world_rank < 2 ? "group 'tp' (ranks 0,1)" : "group 'tp' (ranks 2,3)"),
           "tp describe: " + groups.axis("tp").describe());
    expect(throws_error([&] { groups.axis("pp"); }, "the device grid dp=2,tp=2 has no axis 'pp'"),
           "unknown axis");

    CommGroups line(*world, DeviceGrid::parse("dp=4"));
    check_group(line.axis("dp"), all, "dp=4 dp group");
    CommGroups three(*world, DeviceGrid::parse("a=1,b=2,c=2"));
    check_group(three.axis("a"), {world_rank}, "a=1,b=2,c=2 a group");
    check_group(three.axes({"a", "c"}), {world_rank / 2 * 2, world_rank / 2 * 2 + 1},
                "a=1,b=2,c=2 a,c group");
  }
  expect(throws_error([&] { CommGroups(*world, DeviceGrid::parse("dp=5")); },
                      "the device grid dp=5 has 5 devices, but " + std::to_string(size)),
         "grid of the wrong size");
  {
    // The timeout from the environment (each rank alike; no collective).
    const char *saved = std::getenv("CLEAVE_COMM_TIMEOUT");
    const std::string saved_value = saved ? saved : "";
    setenv("CLEAVE_COMM_TIMEOUT", "2.5", 1);
    expect(CommOptions::from_environment().timeout_s == 2.5, "CLEAVE_COMM_TIMEOUT=2.5");
    setenv("CLEAVE_COMM_TIMEOUT", "soon", 1);
    expect(throws_error([] { CommOptions::from_environment(); },
                        "CLEAVE_COMM_TIMEOUT='soon' is not a number of seconds"),
           "malformed CLEAVE_COMM_TIMEOUT");
    unsetenv("CLEAVE_COMM_TIMEOUT");
    expect(CommOptions::from_environment().timeout_s == 60, "default timeout");
    if (saved)
      setenv("CLEAVE_COMM_TIMEOUT", saved_value.c_str(), 1);
  }
  {
    // The reduction order from the environment, likewise.
    using Order = CommOptions::ReductionOrder;
    const char *saved = std::getenv("CLEAVE_REDUCTION_ORDER");
    const std::string saved_value = saved ? saved : "";
    setenv("CLEAVE_REDUCTION_ORDER", "rank", 1);
    expect(CommOptions::from_environment().reduction_order == Order::rank,
           "CLEAVE_REDUCTION_ORDER=rank");
    setenv("CLEAVE_REDUCTION_ORDER", "library", 1);
    expect(CommOptions::from_environment().reduction_order == Order::library,
           "CLEAVE_REDUCTION_ORDER=library");
    setenv("CLEAVE_REDUCTION_ORDER", "sideways", 1);
    expect(throws_error([] { CommOptions::from_environment(); },
                        "CLEAVE_REDUCTION_ORDER='sideways' is neither 'library'"),
           "malformed CLEAVE_REDUCTION_ORDER");
    unsetenv("CLEAVE_REDUCTION_ORDER");
    expect(CommOptions::from_environment().reduction_order == Order::library,
           "default reduction order");
    if (saved)
      setenv("CLEAVE_REDUCTION_ORDER", saved_value.c_str(), 1);
  }
  expect(throws_error([] { DeviceGrid::parse("dp=2,tp"); }, "'tp' is not AXIS=SIZE"),
         "malformed grid");
  expect(throws_error([] { DeviceGrid::parse("dp=2,dp=2"); }, "axis 'dp' appears twice"),
         "repeated axis");

  int total_failures = 0;
  MPI_Allreduce(&failures, &total_failures, 1, MPI_INT, MPI_SUM, MPI_COMM_WORLD);
  if (world_rank == 0)
    std::printf("%d checks per rank on %d ranks (%s order), %d failures\n", checks, size,
                rank_order ? "rank" : "library", total_failures);
  return total_failures == 0 ? 0 : 1;
}

} // namespace cleave::rt::test
