//===- gloo_store.cpp - the TCP key-value store of a launch without mpirun -===//
//
// Wire format, both ways: a request is op (1 byte: 'S' set, 'G' get, 'H'
// has), key length (4 bytes), key, value length (4 bytes), value; a reply is
// status (1 byte: 1 found / done, 0 missing), length (4 bytes), data. One
// thread polls every connection: requests are tiny and answered at once.
//
//===----------------------------------------------------------------------===//
#include "gloo_store.h"

#include "cleave/rt/check.h"

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

namespace cleave::rt {
namespace {

using Clock = std::chrono::steady_clock;

bool write_all(int fd, const void *data, size_t bytes) {
  const auto *p = static_cast<const char *>(data);
  while (bytes > 0) {
    ssize_t n = ::send(fd, p, bytes, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0)
      return false;
    p += n;
    bytes -= static_cast<size_t>(n);
  }
  return true;
}

bool read_all(int fd, void *data, size_t bytes) {
  auto *p = static_cast<char *>(data);
  while (bytes > 0) {
    ssize_t n = ::recv(fd, p, bytes, 0);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0)
      return false;
    p += n;
    bytes -= static_cast<size_t>(n);
  }
  return true;
}

bool write_blob(int fd, const char *data, size_t bytes) {
  uint32_t length = static_cast<uint32_t>(bytes);
  return write_all(fd, &length, sizeof length) && write_all(fd, data, bytes);
}

bool read_blob(int fd, std::vector<char> &out) {
  uint32_t length = 0;
  if (!read_all(fd, &length, sizeof length))
    return false;
  out.resize(length);
  return read_all(fd, out.data(), length);
}

} // namespace

StoreServer::StoreServer(int port) {
  listener_ = ::socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0);
  bool v6 = listener_ >= 0;
  if (!v6)
    listener_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (listener_ < 0)
    fail("rendezvous: cannot create a socket: ", std::strerror(errno));
  int one = 1, zero = 0;
  setsockopt(listener_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  int rc;
  if (v6) {
    // Both IPv4 and IPv6 clients: MASTER_ADDR may name either.
    setsockopt(listener_, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof zero);
    sockaddr_in6 address{};
    address.sin6_family = AF_INET6;
    address.sin6_addr = in6addr_any;
    address.sin6_port = htons(static_cast<uint16_t>(port));
    rc = ::bind(listener_, reinterpret_cast<sockaddr *>(&address), sizeof address);
  } else {
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_ANY);
    address.sin_port = htons(static_cast<uint16_t>(port));
    rc = ::bind(listener_, reinterpret_cast<sockaddr *>(&address), sizeof address);
  }
  if (rc != 0 || ::listen(listener_, 128) != 0) {
    int error = errno;
    ::close(listener_);
    fail("rank 0 cannot serve the rendezvous on MASTER_PORT=", port, ": ", std::strerror(error),
         error == EADDRINUSE ? " (another job or program uses that port: pick a free one)" : "");
  }
  if (::pipe2(wake_, O_CLOEXEC) != 0)
    fail("rendezvous: cannot create a pipe: ", std::strerror(errno));
  thread_ = std::thread([this] { serve(); });
}

StoreServer::~StoreServer() {
  char byte = 0;
  (void)!::write(wake_[1], &byte, 1);
  thread_.join();
  for (int fd : clients_)
    ::close(fd);
  ::close(listener_);
  ::close(wake_[0]);
  ::close(wake_[1]);
}

void StoreServer::serve() {
  std::vector<pollfd> fds;
  for (;;) {
    fds.assign({{wake_[0], POLLIN, 0}, {listener_, POLLIN, 0}});
    for (int fd : clients_)
      fds.push_back({fd, POLLIN, 0});
    if (::poll(fds.data(), fds.size(), -1) < 0) {
      if (errno == EINTR)
        continue;
      return;
    }
    if (fds[0].revents)
      return;
    if (fds[1].revents & POLLIN) {
      int fd = ::accept4(listener_, nullptr, nullptr, SOCK_CLOEXEC);
      if (fd >= 0) {
        int one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        clients_.push_back(fd);
      }
    }
    for (size_t i = 2; i < fds.size(); ++i)
      if (fds[i].revents)
        serve_client(fds[i].fd);
  }
}

void StoreServer::serve_client(int fd) {
  char op = 0;
  std::vector<char> key, value;
  bool ok = read_all(fd, &op, 1) && read_blob(fd, key) && read_blob(fd, value);
  if (ok) {
    std::lock_guard<std::mutex> lock(mutex_);
    std::string name(key.begin(), key.end());
    auto it = values_.find(name);
    char status = 1;
    const std::vector<char> *reply = nullptr;
    if (op == 'S')
      values_[name] = std::move(value);
    else if (it == values_.end())
      status = 0;
    else if (op == 'G')
      reply = &it->second;
    ok = write_all(fd, &status, 1) &&
         write_blob(fd, reply ? reply->data() : nullptr, reply ? reply->size() : 0);
  }
  if (!ok) {
    // A client that left (or sent garbage): forget its connection.
    ::close(fd);
    clients_.erase(std::find(clients_.begin(), clients_.end(), fd));
  }
}

TcpStore::TcpStore(const std::string &host, int port, std::chrono::milliseconds timeout)
    : where_("MASTER_ADDR:MASTER_PORT (" + host + ":" + std::to_string(port) + ")"),
      timeout_(timeout) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  const Clock::time_point deadline = Clock::now() + timeout;
  std::string last_error;
  for (;;) {
    addrinfo *found = nullptr;
    int rc = ::getaddrinfo(host.c_str(), std::to_string(port).c_str(), &hints, &found);
    if (rc != 0) {
      last_error = std::string("cannot resolve MASTER_ADDR: ") + gai_strerror(rc);
    } else {
      for (addrinfo *a = found; a && fd_ < 0; a = a->ai_next) {
        int fd = ::socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC, a->ai_protocol);
        if (fd < 0)
          continue;
        if (::connect(fd, a->ai_addr, a->ai_addrlen) == 0) {
          fd_ = fd;
        } else {
          last_error = std::strerror(errno);
          ::close(fd);
        }
      }
      ::freeaddrinfo(found);
    }
    if (fd_ >= 0)
      break;
    if (Clock::now() > deadline)
      fail("cannot reach the rendezvous of rank 0 at ", where_, " within ",
           timeout.count() / 1000.0, " s (", last_error,
           "): is rank 0 running, and are the address and port right?");
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  int one = 1;
  setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  // A reply that never comes (rank 0 stopped) ends the read with an error.
  timeval limit{static_cast<time_t>(timeout.count() / 1000),
                static_cast<suseconds_t>(timeout.count() % 1000 * 1000)};
  if (timeout.count() > 0)
    setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &limit, sizeof limit);
}

TcpStore::~TcpStore() {
  if (fd_ >= 0)
    ::close(fd_);
}

std::vector<char> TcpStore::request(char op, const std::string &key,
                                    const std::vector<char> &value) {
  std::lock_guard<std::mutex> lock(mutex_);
  std::vector<char> reply;
  char status = 0;
  if (!write_all(fd_, &op, 1) || !write_blob(fd_, key.data(), key.size()) ||
      !write_blob(fd_, value.data(), value.size()) || !read_all(fd_, &status, 1) ||
      !read_blob(fd_, reply))
    fail("lost the rendezvous of rank 0 at ", where_,
         ": rank 0 died or stopped before every rank had joined");
  if (op == 'H')
    reply.assign(1, status);
  return reply;
}

bool TcpStore::has(const std::string &key) { return request('H', key, {}).at(0) != 0; }

void TcpStore::set(const std::string &key, const std::vector<char> &data) {
  request('S', key, data);
}

std::vector<char> TcpStore::get(const std::string &key) {
  wait({key}, timeout_);
  return request('G', key, {});
}

void TcpStore::wait(const std::vector<std::string> &keys,
                    const std::chrono::milliseconds &timeout) {
  const Clock::time_point deadline = Clock::now() + timeout;
  for (const std::string &key : keys) {
    auto pause = std::chrono::milliseconds(1);
    while (!has(key)) {
      if (timeout.count() > 0 && Clock::now() > deadline) {
        // gloo's rendezvous keys are "<group>/<member's rank>" ("world/2").
        const size_t slash = key.rfind('/');
        const std::string last = key.substr(slash + 1);
        const bool member = slash != std::string::npos && !last.empty() &&
                            last.find_first_not_of("0123456789") == std::string::npos;
        fail("rendezvous at ", where_, ": ",
             member ? "rank " + last + " of '" + key.substr(0, slash) + "'" : "key '" + key + "'",
             " did not join within ", timeout.count() / 1000.0,
             " s: it did not start, or failed before joining (check WORLD_SIZE and that every "
             "rank was launched)");
      }
      std::this_thread::sleep_for(pause);
      pause = std::min(pause * 2, std::chrono::milliseconds(50));
    }
  }
}

} // namespace cleave::rt
