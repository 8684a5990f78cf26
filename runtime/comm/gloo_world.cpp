//===- gloo_world.cpp - joining a job launched without mpirun ---------------===//
//
// Rank 0 serves the store; every rank opens gloo's TCP device, joins the
// world's full mesh through the store, and publishes the address gloo will
// print for it in error messages.
//
//===----------------------------------------------------------------------===//
#include "gloo_job.h"

#include "cleave/rt/check.h"
#include "cleave/rt/gloo_comm.h"

#include <gloo/common/error.h>
#include <gloo/rendezvous/context.h>
#include <gloo/rendezvous/prefix_store.h>
#include <gloo/transport/tcp/address.h>
#include <gloo/transport/tcp/device.h>

#include <algorithm>
#include <cctype>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <thread>
#include <unistd.h>

namespace cleave::rt {
namespace {

/// The rendezvous's limit: the collectives' (0 or less: none, i.e. a year).
std::chrono::milliseconds rendezvous_timeout(const CommOptions &options) {
  double seconds = options.timeout_s > 0 ? options.timeout_s : 365 * 24 * 3600.0;
  return std::chrono::milliseconds(static_cast<int64_t>(seconds * 1000));
}

bool loopback(const std::string &host) {
  return host == "localhost" || host == "::1" || host.rfind("127.", 0) == 0;
}

/// Where this rank listens: GLOO_SOCKET_IFNAME's interface (PyTorch's
/// variable) when set; the loopback when the master is local (a job on one
/// host); else the address this host's name resolves to.
gloo::transport::tcp::attr device_attributes(const std::string &master) {
  gloo::transport::tcp::attr attr;
  if (const char *iface = std::getenv("GLOO_SOCKET_IFNAME"); iface && *iface) {
    attr.iface = iface;
  } else if (loopback(master)) {
    attr.hostname = "127.0.0.1";
  } else {
    char host[256] = {};
    gethostname(host, sizeof host - 1);
    attr.hostname = host;
  }
  return attr;
}

} // namespace

std::shared_ptr<gloo::Context> GlooJob::connect(const std::string &prefix, int rank, int size) {
  auto context = std::make_shared<gloo::rendezvous::Context>(rank, size);
  context->setTimeout(rendezvous_timeout(options));
  gloo::rendezvous::PrefixStore scoped(prefix, *store);
  try {
    context->connectFullMesh(scoped, device);
  } catch (const gloo::Exception &error) {
    fail("rank ", this->rank, ": connecting the ranks of '", prefix, "' failed: ", error.what());
  }
  return context;
}

void GlooJob::learn_addresses(const std::string &prefix, int group_rank,
                              const std::vector<int> &world_ranks) {
  // connectFullMesh stored, under "<prefix>/<r>", member r's listening
  // address for each of its pairs (all members but r, in rank order).
  const int n = static_cast<int>(world_ranks.size());
  for (int member = 0; member < n; ++member) {
    if (member == group_rank)
      continue;
    std::vector<char> all = store->get(prefix + "/" + std::to_string(member));
    const size_t each = all.size() / static_cast<size_t>(n - 1);
    for (size_t at = 0; each > 0 && at + each <= all.size(); at += each) {
      std::string text = gloo::transport::tcp::Address(
                             std::vector<char>(all.begin() + at, all.begin() + at + each))
                             .str();
      socket_owner[text.substr(0, text.find('$'))] = world_ranks[member];
    }
  }
}

std::vector<int> GlooJob::silent_ranks(const std::string &tag, int group_rank,
                                       const std::vector<int> &world_ranks) {
  // The members' timeouts fire within the skew of their arrival in the
  // collective (the previous one synchronised them): a window of half the
  // timeout, 1 to 5 s, covers it.
  const double window = std::clamp(options.timeout_s / 2, 1.0, 5.0);
  const auto deadline = std::chrono::steady_clock::now() +
                        std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                            std::chrono::duration<double>(window));
  std::vector<int> silent;
  try {
    store->set("cleave/alive/" + tag + "/" + std::to_string(group_rank), {1});
    for (size_t member = 0; member < world_ranks.size(); ++member) {
      const std::string key = "cleave/alive/" + tag + "/" + std::to_string(member);
      bool alive = static_cast<int>(member) == group_rank;
      while (!alive && std::chrono::steady_clock::now() < deadline) {
        alive = store->has(key);
        if (!alive)
          std::this_thread::sleep_for(std::chrono::milliseconds(20));
      }
      if (!alive && !store->has(key))
        silent.push_back(world_ranks[member]);
    }
  } catch (const Error &) {
    return {0};
  }
  return silent;
}

int GlooJob::rank_in_message(const std::string &message) const {
  for (size_t open = message.find('['); open != std::string::npos;
       open = message.find('[', open + 1)) {
    size_t close = message.find("]:", open);
    if (close == std::string::npos)
      break;
    size_t end = close + 2;
    while (end < message.size() && std::isdigit(static_cast<unsigned char>(message[end])))
      ++end;
    auto owner = socket_owner.find(message.substr(open, end - open));
    if (owner != socket_owner.end() && owner->second != rank)
      return owner->second;
  }
  return -1;
}

void GlooJob::end_job(const std::string &message) const {
  std::fflush(stdout);
  std::fprintf(stderr, "cleave: error: %s\n", message.c_str());
  std::fflush(stderr);
  // Ranks waiting on the same lost peer notice it at about the same moment:
  // a short grace lets them name it before this rank's own connections
  // close (which they would report instead).
  const double grace = std::min(1.0, options.timeout_s > 0 ? options.timeout_s / 4 : 1.0);
  std::this_thread::sleep_for(std::chrono::duration<double>(grace));
  exit_now(kCommFailureExit);
}

void GlooJob::exit_now(int status) {
  std::fflush(stdout);
  std::fflush(stderr);
  _exit(status);
}

bool have_gloo() { return true; }

std::unique_ptr<Communicator> gloo_world(const CommOptions &options) {
  LaunchEnvironment launch = LaunchEnvironment::from_environment();
  // A peer that dies mid-send must give an error, not a SIGPIPE.
  std::signal(SIGPIPE, SIG_IGN);
  auto job = std::make_shared<GlooJob>();
  job->options = options;
  job->rank = launch.rank;
  job->size = launch.world_size;
  const auto timeout = rendezvous_timeout(options);
  if (launch.rank == 0)
    job->server = std::make_unique<StoreServer>(launch.master_port);
  job->store = std::make_unique<TcpStore>(launch.master_addr, launch.master_port, timeout);
  try {
    job->device = gloo::transport::tcp::CreateDevice(device_attributes(launch.master_addr));
  } catch (const gloo::Exception &error) {
    fail("rank ", launch.rank,
         ": cannot open a TCP device (set GLOO_SOCKET_IFNAME to the "
         "network interface to use): ",
         error.what());
  }
  auto context = job->connect("world", launch.rank, launch.world_size);
  std::vector<int> ranks(static_cast<size_t>(launch.world_size));
  for (int r = 0; r < launch.world_size; ++r)
    ranks[r] = r;
  job->learn_addresses("world", launch.rank, ranks);
  return make_gloo_communicator(job, std::move(context), std::move(ranks), "world", "world");
}

} // namespace cleave::rt
