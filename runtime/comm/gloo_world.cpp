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
#include <arpa/inet.h>
#include <cctype>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <dirent.h>
#include <netinet/in.h>
#include <sys/socket.h>
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

namespace {

/// "[ip]:port", as gloo prints addresses; empty for other families.
std::string address_text(const sockaddr_storage &address) {
  char ip[INET6_ADDRSTRLEN] = {};
  int port = 0;
  if (address.ss_family == AF_INET) {
    const auto *v4 = reinterpret_cast<const sockaddr_in *>(&address);
    ::inet_ntop(AF_INET, &v4->sin_addr, ip, sizeof ip);
    port = ntohs(v4->sin_port);
  } else if (address.ss_family == AF_INET6) {
    const auto *v6 = reinterpret_cast<const sockaddr_in6 *>(&address);
    ::inet_ntop(AF_INET6, &v6->sin6_addr, ip, sizeof ip);
    port = ntohs(v6->sin6_port);
  } else {
    return "";
  }
  return "[" + std::string(ip) + "]:" + std::to_string(port);
}

/// The local addresses of this process's TCP sockets, one a line.
std::string local_socket_addresses() {
  std::string lines;
  DIR *fds = ::opendir("/proc/self/fd");
  if (!fds)
    return lines;
  while (dirent *entry = ::readdir(fds)) {
    const int fd = std::atoi(entry->d_name);
    if (entry->d_name[0] == '.' || fd == ::dirfd(fds))
      continue;
    sockaddr_storage local{};
    socklen_t length = sizeof local;
    if (::getsockname(fd, reinterpret_cast<sockaddr *>(&local), &length) == 0) {
      std::string text = address_text(local);
      if (!text.empty())
        lines += text + "\n";
    }
  }
  ::closedir(fds);
  return lines;
}

} // namespace

void GlooJob::learn_addresses(const std::string &prefix, int group_rank,
                              const std::vector<int> &world_ranks) {
  // gloo names a peer by its pair's listening address when this side
  // connected, by the far end of the connection when the peer did.
  // connectFullMesh stored the former under "<prefix>/<r>" (member r's
  // listening address for each of its pairs); each member adds the latter,
  // its sockets' own addresses.
  const std::string sockets = local_socket_addresses();
  store->set(prefix + "/cleave-sockets/" + std::to_string(group_rank),
             std::vector<char>(sockets.begin(), sockets.end()));
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
    std::vector<char> own = store->get(prefix + "/cleave-sockets/" + std::to_string(member));
    std::string text(own.begin(), own.end());
    for (size_t at = 0, end; (end = text.find('\n', at)) != std::string::npos; at = end + 1)
      socket_owner.emplace(text.substr(at, end - at), world_ranks[member]);
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
    if (end == close + 2 || end - close > 7)
      continue;
    // This gloo prints the far end of a connection it accepted with the
    // port's bytes swapped ("Connection closed by peer"): try both.
    const int port = std::stoi(message.substr(close + 2, end - close - 2));
    const std::string host = message.substr(open, close + 2 - open);
    for (int candidate : {port, ((port & 0xff) << 8) | (port >> 8)}) {
      auto owner = socket_owner.find(host + std::to_string(candidate));
      if (owner != socket_owner.end() && owner->second != rank)
        return owner->second;
    }
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
  auto world = make_gloo_communicator(job, std::move(context), ranks, "world", "world");
  // A message each way on every pair first, so that every connection is
  // open before its addresses are published.
  world->barrier();
  job->learn_addresses("world", launch.rank, ranks);
  return world;
}

} // namespace cleave::rt
