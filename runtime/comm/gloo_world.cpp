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
#include <gloo/transport/tcp/device.h>

#include <arpa/inet.h>
#include <cctype>
#include <csignal>
#include <dirent.h>
#include <netinet/in.h>
#include <sys/socket.h>
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

/// Every TCP socket of this process: its local address and its peer's
/// (empty for a listener).
std::vector<std::pair<std::string, std::string>> tcp_sockets() {
  std::vector<std::pair<std::string, std::string>> sockets;
  DIR *fds = ::opendir("/proc/self/fd");
  if (!fds)
    return sockets;
  while (dirent *entry = ::readdir(fds)) {
    int fd = std::atoi(entry->d_name);
    if (entry->d_name[0] == '.' || fd == ::dirfd(fds))
      continue;
    sockaddr_storage local{}, peer{};
    socklen_t length = sizeof local;
    if (::getsockname(fd, reinterpret_cast<sockaddr *>(&local), &length) != 0)
      continue;
    std::string text = address_text(local);
    if (text.empty())
      continue;
    length = sizeof peer;
    std::string peer_text;
    if (::getpeername(fd, reinterpret_cast<sockaddr *>(&peer), &length) == 0)
      peer_text = address_text(peer);
    sockets.emplace_back(text, peer_text);
  }
  ::closedir(fds);
  return sockets;
}

} // namespace

void GlooJob::publish_sockets(const std::string &prefix, int group_rank,
                              const std::vector<int> &world_ranks) {
  std::string mine;
  for (const auto &socket : tcp_sockets())
    mine += socket.first + "\n";
  store->set(prefix + "/sockets/" + std::to_string(group_rank),
             std::vector<char>(mine.begin(), mine.end()));
  for (size_t member = 0; member < world_ranks.size(); ++member) {
    if (static_cast<int>(member) == group_rank)
      continue;
    std::vector<char> value = store->get(prefix + "/sockets/" + std::to_string(member));
    std::string text(value.begin(), value.end());
    for (size_t at = 0, end; (end = text.find('\n', at)) != std::string::npos; at = end + 1)
      socket_owner[text.substr(at, end - at)] = world_ranks[member];
  }
}

int GlooJob::rank_in_message(const std::string &message) const {
  // gloo names either the peer's end of a connection ("Connection closed by
  // peer [a]:p") or this rank's own ("Read error [a]:p"): the latter is
  // looked up through the socket's peer address.
  std::map<std::string, std::string> peer_of;
  for (const auto &socket : tcp_sockets())
    peer_of[socket.first] = socket.second;
  for (size_t open = message.find('['); open != std::string::npos;
       open = message.find('[', open + 1)) {
    size_t close = message.find("]:", open);
    if (close == std::string::npos)
      break;
    size_t end = close + 2;
    while (end < message.size() && std::isdigit(static_cast<unsigned char>(message[end])))
      ++end;
    std::string address = message.substr(open, end - open);
    auto owner = socket_owner.find(address);
    if (owner == socket_owner.end())
      if (auto own = peer_of.find(address); own != peer_of.end())
        owner = socket_owner.find(own->second);
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
    fail("rank ", launch.rank, ": cannot open a TCP device (set GLOO_SOCKET_IFNAME to the "
         "network interface to use): ", error.what());
  }
  auto context = job->connect("world", launch.rank, launch.world_size);
  std::vector<int> ranks(static_cast<size_t>(launch.world_size));
  for (int r = 0; r < launch.world_size; ++r)
    ranks[r] = r;
  job->publish_sockets("world", launch.rank, ranks);
  return make_gloo_communicator(job, std::move(context), std::move(ranks), "world", "world");
}

} // namespace cleave::rt
