//===- gloo_store.h - the TCP key-value store of a launch without mpirun --===//
//
// Gloo connects its ranks through a rendezvous Store (who listens where),
// but ships no TCP one: PyTorch's TCPStore lives in libtorch. This is a
// small one in its image: rank 0 serves a key-value map at
// MASTER_ADDR:MASTER_PORT; every rank (rank 0 too) is a client. Values are
// written once and only read after a wait, so the server never blocks: a
// client's wait polls "has" until its deadline. Private to cleave_rt_comm.
//
//===----------------------------------------------------------------------===//
#ifndef CLEAVE_RT_COMM_GLOO_STORE_H
#define CLEAVE_RT_COMM_GLOO_STORE_H

#include <gloo/rendezvous/store.h>

#include <atomic>
#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace cleave::rt {

/// Rank 0's side: the map and the thread that serves it. The server stops
/// (and closes its connections) when destroyed.
class StoreServer {
public:
  /// Listens on every interface at `port`; throws Error naming the port
  /// when it cannot (already in use, say).
  explicit StoreServer(int port);
  ~StoreServer();

private:
  void serve();
  void serve_client(int fd);

  int listener_ = -1;
  int wake_[2] = {-1, -1}; // a pipe that ends serve()'s poll
  std::thread thread_;
  std::mutex mutex_;
  std::map<std::string, std::vector<char>> values_;
  std::vector<int> clients_;
};

/// A client of the server, implementing gloo's Store. Connects in its
/// constructor, retrying until `timeout` passes (rank 0 may start last).
/// Errors are Error exceptions naming MASTER_ADDR and MASTER_PORT.
class TcpStore final : public gloo::rendezvous::Store {
public:
  TcpStore(const std::string &host, int port, std::chrono::milliseconds timeout);
  ~TcpStore() override;

  void set(const std::string &key, const std::vector<char> &data) override;
  std::vector<char> get(const std::string &key) override;
  void wait(const std::vector<std::string> &keys) override { wait(keys, timeout_); }
  void wait(const std::vector<std::string> &keys,
            const std::chrono::milliseconds &timeout) override;
  /// Whether `key` has been set (no wait).
  bool has(const std::string &key);

private:
  /// One request, one reply (serialised by mutex_).
  std::vector<char> request(char op, const std::string &key, const std::vector<char> &value);

  std::string where_; // "MASTER_ADDR:MASTER_PORT (host:port)"
  std::chrono::milliseconds timeout_;
  int fd_ = -1;
  std::mutex mutex_;
};

} // namespace cleave::rt

#endif // CLEAVE_RT_COMM_GLOO_STORE_H
