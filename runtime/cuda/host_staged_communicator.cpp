//===- host_staged_communicator.cpp - host collectives on device buffers ---===//
//
// Copies in, runs the host communicator, copies out. cudaMemcpy on the
// legacy default stream waits for the step's kernels before the copy to the
// host, and the copy back finishes before the next kernel starts, so the
// step needs no extra synchronisation.
//
// Point-to-point transfers stage through a host buffer per request: a send
// copies its device bytes out when it starts (so the step may overwrite
// them at once), a receive copies the host bytes in when it is waited on.
//
// The non-blocking collectives (all_reduce, all_gather, reduce_scatter)
// stage the same way: the start copies the input to host buffers of the
// request's own (after the kernels queued before it: the copy blocks the
// host until then) and starts the host communicator's non-blocking
// collective on them; the wait waits for it and copies the result to the
// device. The communication overlaps the step's later kernels as far as
// the host communicator progresses it (mpi_communicator.cpp); the copies do
// not. The blocking forms are start + wait, so both give the host
// communicator's bits.
//
//===----------------------------------------------------------------------===//
#include "cleave/rt/check.h"
#include "cleave/rt/cuda_check.h"
#include "cleave/rt/cuda_comm.h"

#include <cuda_runtime.h>

#include <cstdlib>
#include <unordered_map>
#include <vector>

namespace cleave::rt::cuda {
namespace {

class HostStagedCommunicator final : public Communicator {
public:
  explicit HostStagedCommunicator(std::unique_ptr<Communicator> host)
      : Communicator(host->rank(), host->world_ranks(), host->name()), host_(std::move(host)) {}

  bool is_host() const override { return false; }
  const char *backend() const override { return "mpi (host-staged)"; }

  std::unique_ptr<Communicator> split(int color, int key, const std::string &name) override {
    return std::make_unique<HostStagedCommunicator>(host_->split(color, key, name));
  }

  [[noreturn]] void abort_job(int exit_status) override {
    host_->abort_job(exit_status);
    std::_Exit(exit_status); // not reached: the host's abort_job does not return
  }

protected:
  // Start + wait, the same calls as the non-blocking forms.
  void do_all_reduce(void *data, int64_t count, CommElement element,
                     CommReduction reduction) override {
    do_wait_collective(do_all_reduce_start(data, count, element, reduction));
  }

  void do_all_gather(const void *send, void *recv, int64_t send_count,
                     CommElement element) override {
    do_wait_collective(do_all_gather_start(send, recv, send_count, element));
  }

  void do_reduce_scatter(const void *send, void *recv, int64_t recv_count, CommElement element,
                         CommReduction reduction) override {
    do_wait_collective(do_reduce_scatter_start(send, recv, recv_count, element, reduction));
  }

  Request do_all_reduce_start(void *data, int64_t count, CommElement element,
                              CommReduction reduction) override {
    const int64_t bytes = count * static_cast<int64_t>(element_bytes(element));
    Staged staged = take(bytes);
    to_host(staged.host, data, bytes);
    staged.device = data;
    staged.request = host_->all_reduce_start(staged.host.data(), count, element, reduction);
    return keep_collective(std::move(staged));
  }

  Request do_all_gather_start(const void *send, void *recv, int64_t send_count,
                              CommElement element) override {
    const int64_t bytes = send_count * static_cast<int64_t>(element_bytes(element));
    Staged staged = take(bytes * size());
    staged.sent = take(bytes).host;
    to_host(staged.sent, send, bytes);
    staged.device = recv;
    staged.request =
        host_->all_gather_start(staged.sent.data(), staged.host.data(), send_count, element);
    return keep_collective(std::move(staged));
  }

  Request do_reduce_scatter_start(const void *send, void *recv, int64_t recv_count,
                                  CommElement element, CommReduction reduction) override {
    const int64_t bytes = recv_count * static_cast<int64_t>(element_bytes(element));
    Staged staged = take(bytes);
    staged.sent = take(bytes * size()).host;
    to_host(staged.sent, send, bytes * size());
    staged.device = recv;
    staged.request = host_->reduce_scatter_start(staged.sent.data(), staged.host.data(), recv_count,
                                                 element, reduction);
    return keep_collective(std::move(staged));
  }

  void do_wait_collective(Request request) override {
    auto it = collectives_.find(request);
    if (it == collectives_.end())
      fail("wait_collective over ", describe(), ": request ", request,
           " was never started or was already waited on");
    Staged staged = std::move(it->second);
    collectives_.erase(it);
    host_->wait_collective(staged.request);
    to_device(staged.device, staged.host, static_cast<int64_t>(staged.host.size()));
    spare_.push_back(std::move(staged.host));
    if (staged.sent.capacity() > 0)
      spare_.push_back(std::move(staged.sent));
  }

  void do_all_to_all(const void *send, void *recv, int64_t block_count,
                     CommElement element) override {
    const int64_t bytes = block_count * static_cast<int64_t>(element_bytes(element)) * size();
    to_host(in_, send, bytes);
    out_.resize(static_cast<size_t>(bytes));
    host_->all_to_all(in_.data(), out_.data(), block_count, element);
    to_device(recv, out_, bytes);
  }

  void do_broadcast(void *data, int64_t count, int root, CommElement element) override {
    const int64_t bytes = count * static_cast<int64_t>(element_bytes(element));
    if (rank() == root)
      to_host(in_, data, bytes);
    else
      in_.resize(static_cast<size_t>(bytes));
    host_->broadcast(in_.data(), count, root, element);
    if (rank() != root)
      to_device(data, in_, bytes);
  }

  void do_barrier() override {
    CLEAVE_CUDA_CHECK(cudaDeviceSynchronize());
    host_->barrier();
  }

  int64_t do_send_start(const void *data, int64_t bytes, int peer, int64_t tag) override {
    Staged staged = take(bytes);
    if (bytes > 0)
      to_host(staged.host, data, bytes);
    staged.request = host_->send_start(staged.host.data(), bytes, peer, tag);
    return keep(std::move(staged));
  }

  int64_t do_recv_start(void *data, int64_t bytes, int peer, int64_t tag) override {
    Staged staged = take(bytes);
    staged.device = data;
    staged.request = host_->recv_start(staged.host.data(), bytes, peer, tag);
    return keep(std::move(staged));
  }

  void do_wait_transfer(int64_t request) override {
    auto it = staged_.find(request);
    if (it == staged_.end())
      fail("wait over ", describe(), ": request ", request,
           " was never started or was already waited on");
    Staged staged = std::move(it->second);
    staged_.erase(it);
    host_->wait_transfer(staged.request);
    if (staged.device && !staged.host.empty())
      to_device(staged.device, staged.host, static_cast<int64_t>(staged.host.size()));
    spare_.push_back(std::move(staged.host));
  }

private:
  static void to_host(std::vector<unsigned char> &host, const void *device, int64_t bytes) {
    host.resize(static_cast<size_t>(bytes));
    CLEAVE_CUDA_CHECK(
        cudaMemcpy(host.data(), device, static_cast<size_t>(bytes), cudaMemcpyDeviceToHost));
  }

  static void to_device(void *device, const std::vector<unsigned char> &host, int64_t bytes) {
    CLEAVE_CUDA_CHECK(
        cudaMemcpy(device, host.data(), static_cast<size_t>(bytes), cudaMemcpyHostToDevice));
  }

  /// A transfer or collective in flight: the host communicator's request
  /// and its buffers.
  struct Staged {
    /// What the host communicator writes (a collective's result, a
    /// receive's bytes), or a send's bytes.
    std::vector<unsigned char> host;
    /// A collective's input when it is not `host` (all_gather, reduce_scatter).
    std::vector<unsigned char> sent;
    void *device = nullptr; // where `host` goes at the wait (receives, collectives)
    int64_t request = 0;
  };

  /// A staging buffer of `bytes`, reusing one of an earlier transfer.
  Staged take(int64_t bytes) {
    Staged staged;
    if (!spare_.empty()) {
      staged.host = std::move(spare_.back());
      spare_.pop_back();
    }
    staged.host.resize(static_cast<size_t>(bytes));
    return staged;
  }

  int64_t keep(Staged staged) {
    staged_.emplace(next_request_, std::move(staged));
    return next_request_++;
  }

  Request keep_collective(Staged staged) {
    collectives_.emplace(next_collective_, std::move(staged));
    return next_collective_++;
  }

  std::unique_ptr<Communicator> host_;
  /// Staging buffers, kept between calls (a step calls the same sizes).
  std::vector<unsigned char> in_, out_;
  std::unordered_map<int64_t, Staged> staged_;
  std::vector<std::vector<unsigned char>> spare_;
  int64_t next_request_ = 0;
  std::unordered_map<Request, Staged> collectives_;
  Request next_collective_ = 0;
};

} // namespace

std::unique_ptr<Communicator> host_staged(std::unique_ptr<Communicator> host) {
  if (!host)
    fail("host_staged: no host communicator");
  if (!host->is_host())
    fail("host_staged: ", host->describe(), " (", host->backend(),
         ") already takes device buffers");
  return std::make_unique<HostStagedCommunicator>(std::move(host));
}

} // namespace cleave::rt::cuda
