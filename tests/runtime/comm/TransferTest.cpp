//===- TransferTest.cpp - point-to-point transfers under mpirun ------------===//
//
// One program, run by every rank of `mpirun -np N`; the first argument
// picks what it checks (docs/runtime-comm.md, "Point to point"):
//
//   transfers       on pp=N (and pp=2,dp=2 on 4 ranks): every rank sends
//                   to and receives from both ring neighbours at once,
//                   messages of many sizes in 4 KiB pieces, waited in a
//                   scrambled order; checks the bytes and the errors of
//                   the slot table (collective_api.inc's entry points)
//   lose SIG RANK   neighbours exchange in a loop on pp=N; on the 4th
//                   round RANK raises SIG (KILL or STOP) on itself
//   schedules FILE...   runs each pipeline schedule (the text form of
//                   cleave-print-pipeline-schedule, on as many ranks as it
//                   has stages) twice, with the transfers the schedule
//                   implies: F c.m receives from chunk c-1's stage and
//                   sends to chunk c+1's, B c.m the reverse, chunks on one
//                   stage pass values locally. Each receive is posted one
//                   action ahead of the action that needs it and each send
//                   waited one action after; every message carries a
//                   pattern keyed by (chunk, micro-batch, direction)
//
//===----------------------------------------------------------------------===//
#include "cleave/rt/check.h"
#include "cleave/rt/collectives.h"
#include "cleave/rt/comm.h"
#include "cleave/rt/mpi_comm.h"

#include <chrono>
#include <csignal>
#include <cstdio>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

using namespace cleave::rt;

namespace {

/// The byte at `i` of the message with `key` from world rank `source`.
uint8_t pattern(int64_t key, int source, int64_t i) {
  return static_cast<uint8_t>(i * 7 + (i >> 8) * 3 + key * 13 + source * 31 + 1);
}

void fill(std::vector<uint8_t> &data, int64_t key, int source) {
  for (size_t i = 0; i < data.size(); ++i)
    data[i] = pattern(key, source, static_cast<int64_t>(i));
}

/// The index of the first byte that differs from the pattern, or -1.
int64_t first_difference(const std::vector<uint8_t> &data, int64_t key, int source) {
  for (size_t i = 0; i < data.size(); ++i)
    if (data[i] != pattern(key, source, static_cast<int64_t>(i)))
      return static_cast<int64_t>(i);
  return -1;
}

std::unique_ptr<Communicator> world_in_pieces() {
  CommOptions options = CommOptions::from_environment();
  options.max_message_bytes = 4096;
  return mpi_world(nullptr, nullptr, options);
}

/// Expects `call` to throw an Error whose message contains `text`.
template <typename Call> bool throws(Call call, const std::string &text, int rank) {
  try {
    call();
  } catch (const Error &e) {
    if (std::string(e.what()).find(text) != std::string::npos)
      return true;
    std::printf("rank %d: expected an error with '%s', got '%s'\n", rank, text.c_str(), e.what());
    return false;
  }
  std::printf("rank %d: expected an error with '%s', got none\n", rank, text.c_str());
  return false;
}

int run_transfers() {
  std::unique_ptr<Communicator> world = world_in_pieces();
  const int me = world->rank();
  int checks = 0, failures = 0;
  std::vector<std::string> grids = {"pp=" + std::to_string(world->size())};
  if (world->size() == 4)
    grids.push_back("pp=2,dp=2");
  const int64_t sizes[] = {0, 1, 5, 4095, 4096, 4097, 65539, 300000};
  for (const std::string &grid : grids) {
    CommGroups groups(*world, DeviceGrid::parse(grid));
    const int n = groups.grid().axis_size(0);
    const int p = static_cast<int>(collective::grid_coordinate(&groups, "pp"));
    ++checks;
    if (p != groups.coordinates()[0]) {
      std::printf("rank %d: grid_coordinate %d on %s\n", me, p, grid.c_str());
      ++failures;
    }
    Communicator &line = groups.axis("pp");
    // Both neighbours (the same rank twice on 2 stages: distinct tags keep them apart).
    const int neighbours[2] = {(p + 1) % n, (p + n - 1) % n};
    for (int64_t size : sizes) {
      std::vector<uint8_t> out[2], in[2];
      int64_t slot = 0, send_slots[2], recv_slots[2];
      for (int d = 0; d < 2; ++d) {
        // Tag d travels "up" from the sender's view: the receiver of
        // direction d hears it from its neighbour 1 - d.
        out[d].resize(static_cast<size_t>(size));
        fill(out[d], d * 100 + size % 97, me);
        send_slots[d] = slot++;
        collective::send_start(&groups, "pp", neighbours[d], out[d].data(), size, d, send_slots[d]);
      }
      for (int d = 0; d < 2; ++d) {
        in[d].assign(static_cast<size_t>(size), 0);
        recv_slots[d] = slot++;
        collective::recv_start(&groups, "pp", neighbours[1 - d], in[d].data(), size, d,
                               recv_slots[d]);
      }
      // Receives before the sends, the second before the first.
      for (int64_t s : {recv_slots[1], recv_slots[0], send_slots[0], send_slots[1]})
        collective::wait(&groups, s);
      for (int d = 0; d < 2; ++d) {
        const int source = line.world_ranks()[neighbours[1 - d]];
        ++checks;
        if (int64_t at = first_difference(in[d], d * 100 + size % 97, source); at >= 0) {
          std::printf("rank %d: %s, %lld bytes from rank %d differ at byte %lld\n", me,
                      grid.c_str(), static_cast<long long>(size), source,
                      static_cast<long long>(at));
          ++failures;
        }
      }
    }
    // Three messages of one tag, each in 3 pieces: matched in posting order.
    {
      std::vector<uint8_t> out[3], in[3];
      for (int k = 0; k < 3; ++k) {
        out[k].resize(10000);
        fill(out[k], 500 + k, me);
        in[k].assign(10000, 0);
        collective::send_start(&groups, "pp", neighbours[0], out[k].data(), 10000, 5, k);
      }
      for (int k = 0; k < 3; ++k)
        collective::recv_start(&groups, "pp", neighbours[1], in[k].data(), 10000, 5, 3 + k);
      for (int64_t s = 5; s >= 0; --s)
        collective::wait(&groups, s);
      for (int k = 0; k < 3; ++k) {
        ++checks;
        const int source = line.world_ranks()[neighbours[1]];
        if (first_difference(in[k], 500 + k, source) >= 0) {
          std::printf("rank %d: %s, message %d of tag 5 from rank %d out of order\n", me,
                      grid.c_str(), k, source);
          ++failures;
        }
      }
    }
    // The slot table's and the communicator's refusals (this rank alone).
    std::vector<uint8_t> buffer(16);
    auto check = [&](bool passed) {
      ++checks;
      failures += passed ? 0 : 1;
    };
    check(throws([&] { collective::wait(&groups, 7); }, "wait on slot 7: no transfer", me));
    check(throws([&] { collective::recv_start(&groups, "pp", n, buffer.data(), 16, 0, 0); },
                 "peer coordinate " + std::to_string(n) + " is outside the axis", me));
    check(throws([&] { collective::recv_start(&groups, "pp", 0, buffer.data(), 16, -1, 0); },
                 "negative tag", me));
    check(throws(
        [&] { collective::recv_start(&groups, "pp", 0, buffer.data(), 16, int64_t(1) << 40, 0); },
        "MPI_TAG_UB", me));
    check(throws([&] { collective::recv_start(&groups, "tp", 0, buffer.data(), 16, 0, 0); },
                 "no axis 'tp'", me));
    // A self-transfer fills slot 3; starting it again names the slot.
    std::vector<uint8_t> self(16);
    collective::recv_start(&groups, "pp", p, self.data(), 16, 9, 3);
    check(throws([&] { collective::send_start(&groups, "pp", p, buffer.data(), 16, 9, 3); },
                 "slot 3 (tag 9", me));
    collective::send_start(&groups, "pp", p, buffer.data(), 16, 9, 4);
    collective::wait(&groups, 4);
    collective::wait(&groups, 3);
    check(self == buffer);
    check(groups.receive_wait_seconds() >= 0);
    groups.reset_receive_wait_seconds();
    check(groups.receive_wait_seconds() == 0);
  }
  int64_t all_failures = failures;
  world->all_reduce_sum(&all_failures, 1);
  std::printf("rank %d: %d transfer checks, %d failures\n", me, checks, failures);
  if (me == 0)
    std::printf("transfers on %d ranks: %lld failures\n", world->size(),
                static_cast<long long>(all_failures));
  return all_failures == 0 ? 0 : 1;
}

int run_lose(const std::string &signal_name, int victim) {
  const int sig = signal_name == "KILL" ? SIGKILL : signal_name == "STOP" ? SIGSTOP : 0;
  if (!sig) {
    std::fprintf(stderr, "transfer-test: error: signal must be KILL or STOP\n");
    return 2;
  }
  std::unique_ptr<Communicator> world = world_in_pieces();
  CommGroups groups(*world, DeviceGrid::parse("pp=" + std::to_string(world->size())));
  const int n = world->size(), p = world->rank();
  std::vector<uint8_t> up(65536, 1), down(65536, 2), from_below(65536), from_above(65536);
  // 500 rounds of 10 ms: a job that misses the loss runs ~5 s and exits 0.
  for (int round = 0; round < 500; ++round) {
    if (round == 3 && p == victim)
      std::raise(sig);
    collective::recv_start(&groups, "pp", (p + n - 1) % n, from_below.data(), 65536, 0, 0);
    collective::recv_start(&groups, "pp", (p + 1) % n, from_above.data(), 65536, 1, 1);
    collective::send_start(&groups, "pp", (p + 1) % n, up.data(), 65536, 0, 2);
    collective::send_start(&groups, "pp", (p + n - 1) % n, down.data(), 65536, 1, 3);
    for (int64_t slot = 0; slot < 4; ++slot)
      collective::wait(&groups, slot);
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  std::printf("rank %d: finished without noticing the lost rank\n", p);
  return 0;
}

/// One action of a schedule: F, B or W of chunk c on micro-batch m.
struct Action {
  char kind;
  int c, m;
};

struct Schedule {
  std::string kind;
  int stages = 0, micro_batches = 0, virtual_stages = 0;
  std::vector<std::vector<Action>> per_stage;
};

Schedule read_schedule(const std::string &path) {
  std::ifstream file(path);
  if (!file)
    fail("cannot read the schedule '", path, "'");
  Schedule schedule;
  std::string line;
  while (std::getline(file, line)) {
    std::istringstream words(line);
    std::string word;
    if (!(words >> word))
      continue;
    if (word == "schedule") {
      std::string s, m, v;
      words >> schedule.kind >> s >> schedule.stages >> m >> schedule.micro_batches >> v >>
          schedule.virtual_stages;
      if (!words || s != "stages" || m != "micro-batches" || v != "virtual-stages")
        fail(path, ": bad header '", line, "'");
      schedule.per_stage.resize(static_cast<size_t>(schedule.stages));
    } else if (word == "stage") {
      int stage = -1;
      char colon = 0;
      words >> stage >> colon;
      if (!words || colon != ':' || stage < 0 || stage >= schedule.stages)
        fail(path, ": bad line '", line, "'");
      for (std::string item; words >> item;) {
        Action action{item[0], -1, -1};
        if (std::sscanf(item.c_str() + 1, "%d.%d", &action.c, &action.m) != 2 ||
            (action.kind != 'F' && action.kind != 'B' && action.kind != 'W'))
          fail(path, ": bad action '", item, "'");
        schedule.per_stage[static_cast<size_t>(stage)].push_back(action);
      }
    }
  }
  if (schedule.stages < 1)
    fail(path, ": no 'schedule ...' header");
  return schedule;
}

/// Runs `schedule` on this rank's stage; returns the failures it saw.
int run_schedule(CommGroups &groups, const Schedule &schedule, int64_t *transfers) {
  const int S = schedule.stages, M = schedule.micro_batches;
  const int C = S * schedule.virtual_stages;
  const int p = static_cast<int>(collective::grid_coordinate(&groups, "pp"));
  const int me = groups.world().rank();
  const std::vector<Action> &actions = schedule.per_stage[static_cast<size_t>(p)];
  const int n = static_cast<int>(actions.size());
  int failures = 0;
  auto complain = [&](const std::string &what) {
    std::printf("rank %d: %s %d stages %d micro-batches: %s\n", me, schedule.kind.c_str(), S, M,
                what.c_str());
    ++failures;
  };
  // A value crossing chunk boundary `from` -> `from +- 1` for micro-batch m.
  struct Edge {
    bool exists = false;
    int from = 0, stage = 0; // the chunk that produces it, and the peer stage
    int64_t tag = 0, bytes = 0;
  };
  auto edge = [&](int from, int to, int m) {
    Edge e;
    if (to < 0 || to >= C)
      return e;
    const int backward = to < from ? 1 : 0;
    e.exists = true;
    e.from = from;
    e.tag = (int64_t(backward) * C + from) * M + m;
    e.bytes = 1000 + ((from * 7 + m * 13 + backward * 5) % 9) * 1500;
    return e;
  };
  auto input = [&](const Action &a) {
    if (a.kind == 'F')
      return a.c > 0 ? edge(a.c - 1, a.c, a.m) : Edge{};
    if (a.kind == 'B')
      return a.c < C - 1 ? edge(a.c + 1, a.c, a.m) : Edge{};
    return Edge{};
  };
  auto output = [&](const Action &a) {
    if (a.kind == 'F')
      return edge(a.c, a.c + 1, a.m);
    if (a.kind == 'B')
      return edge(a.c, a.c - 1, a.m);
    return Edge{};
  };
  int forwards = 0, backwards = 0;
  for (const Action &a : actions) {
    if (a.c % S != p || a.c >= C || a.m < 0 || a.m >= M)
      complain("action " + std::string(1, a.kind) + std::to_string(a.c) + "." +
               std::to_string(a.m) + " does not belong on stage " + std::to_string(p));
    forwards += a.kind == 'F';
    backwards += a.kind == 'B';
  }
  if (forwards != schedule.virtual_stages * M || backwards != schedule.virtual_stages * M)
    complain("stage " + std::to_string(p) + " has " + std::to_string(forwards) + " forwards and " +
             std::to_string(backwards) + " backwards");
  if (failures)
    return failures;

  std::vector<std::vector<uint8_t>> received(static_cast<size_t>(n)), sent(static_cast<size_t>(n));
  for (int step = 0; step < 2; ++step) {
    std::vector<int64_t> recv_slot(static_cast<size_t>(n), -1),
        send_slot(static_cast<size_t>(n), -1);
    std::map<int64_t, int64_t> local; // tag -> bytes of values passed on this stage
    std::map<std::pair<int, int>, bool> forwarded;
    int64_t next_slot = 0;
    auto post_receive = [&](int i) {
      Edge e = input(actions[static_cast<size_t>(i)]);
      if (!e.exists || e.from % S == p)
        return;
      auto &buffer = received[static_cast<size_t>(i)];
      buffer.assign(static_cast<size_t>(e.bytes), 0);
      recv_slot[static_cast<size_t>(i)] = next_slot++;
      collective::recv_start(&groups, "pp", e.from % S, buffer.data(), e.bytes, e.tag,
                             recv_slot[static_cast<size_t>(i)]);
    };
    if (n > 0)
      post_receive(0);
    for (int i = 0; i < n; ++i) {
      const Action &a = actions[static_cast<size_t>(i)];
      if (i + 1 < n)
        post_receive(i + 1);
      const Edge in = input(a);
      if (recv_slot[static_cast<size_t>(i)] >= 0) {
        collective::wait(&groups, recv_slot[static_cast<size_t>(i)]);
        ++*transfers;
        const int source = groups.axis("pp").world_ranks()[in.from % S];
        if (int64_t at = first_difference(received[static_cast<size_t>(i)], in.tag, source);
            at >= 0)
          complain("step " + std::to_string(step) + ": the value for " + std::string(1, a.kind) +
                   std::to_string(a.c) + "." + std::to_string(a.m) + " from rank " +
                   std::to_string(source) + " differs at byte " + std::to_string(at));
      } else if (in.exists) {
        auto it = local.find(in.tag);
        if (it == local.end())
          complain(std::string(1, a.kind) + std::to_string(a.c) + "." + std::to_string(a.m) +
                   " runs before the local value it needs");
        else
          local.erase(it);
      }
      if (a.kind == 'F')
        forwarded[{a.c, a.m}] = true;
      else if (a.kind == 'B' && !forwarded.count({a.c, a.m}))
        complain("B" + std::to_string(a.c) + "." + std::to_string(a.m) + " before its forward");
      const Edge out = output(a);
      if (out.exists && (out.from + (a.kind == 'F' ? 1 : -1)) % S == p) {
        local[out.tag] = out.bytes;
      } else if (out.exists) {
        const int to = (out.from + (a.kind == 'F' ? 1 : -1)) % S;
        auto &buffer = sent[static_cast<size_t>(i)];
        buffer.resize(static_cast<size_t>(out.bytes));
        fill(buffer, out.tag, me);
        send_slot[static_cast<size_t>(i)] = next_slot++;
        collective::send_start(&groups, "pp", to, buffer.data(), out.bytes, out.tag,
                               send_slot[static_cast<size_t>(i)]);
      }
      if (i > 0 && send_slot[static_cast<size_t>(i - 1)] >= 0)
        collective::wait(&groups, send_slot[static_cast<size_t>(i - 1)]);
    }
    if (n > 0 && send_slot[static_cast<size_t>(n - 1)] >= 0)
      collective::wait(&groups, send_slot[static_cast<size_t>(n - 1)]);
    if (!local.empty())
      complain(std::to_string(local.size()) + " local values were never used");
  }
  return failures;
}

int run_schedules(const std::vector<std::string> &paths) {
  std::unique_ptr<Communicator> world = world_in_pieces();
  CommGroups groups(*world, DeviceGrid::parse("pp=" + std::to_string(world->size())));
  int64_t total_failures = 0, runs = 0;
  for (const std::string &path : paths) {
    const Schedule schedule = read_schedule(path);
    if (schedule.stages != world->size())
      fail(path, ": a schedule of ", schedule.stages, " stages on ", world->size(), " ranks");
    int64_t transfers = 0;
    groups.reset_receive_wait_seconds();
    const auto start = std::chrono::steady_clock::now();
    int64_t counts[2] = {run_schedule(groups, schedule, &transfers), transfers};
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    const double waiting = groups.receive_wait_seconds();
    world->all_reduce_sum(counts, 2);
    total_failures += counts[0];
    ++runs;
    if (world->rank() == 0)
      std::printf("%s stages %d micro-batches %d virtual-stages %d: %lld transfers, %lld failures "
                  "(stage 0: %.3f s, %.3f s waiting on receives)\n",
                  schedule.kind.c_str(), schedule.stages, schedule.micro_batches,
                  schedule.virtual_stages, static_cast<long long>(counts[1]),
                  static_cast<long long>(counts[0]), seconds, waiting);
  }
  if (world->rank() == 0)
    std::printf("%lld schedules on %d ranks, %lld failures\n", static_cast<long long>(runs),
                world->size(), static_cast<long long>(total_failures));
  return total_failures == 0 ? 0 : 1;
}

} // namespace

int main(int argc, char **argv) {
  const std::string mode = argc > 1 ? argv[1] : "";
  try {
    if (mode == "transfers" && argc == 2)
      return run_transfers();
    if (mode == "lose" && argc == 4)
      return run_lose(argv[2], std::atoi(argv[3]));
    if (mode == "schedules" && argc > 2)
      return run_schedules(std::vector<std::string>(argv + 2, argv + argc));
  } catch (const Error &e) {
    std::fprintf(stderr, "transfer-test: error: %s\n", e.what());
    return 1;
  }
  std::fprintf(stderr, "usage: %s transfers | lose KILL|STOP RANK | schedules FILE...\n", argv[0]);
  return 2;
}
