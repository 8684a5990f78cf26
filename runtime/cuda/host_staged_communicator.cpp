//===- host_staged_communicator.cpp - host collectives on device buffers ---===//
//
// Copies in, runs the host communicator, copies out. cudaMemcpy on the
// legacy default stream waits for the step's kernels before the copy to the
// host, and the copy back finishes before the next kernel starts, so the
// step needs no extra synchronisation.
//
//===----------------------------------------------------------------------===//
#include "cleave/rt/check.h"
#include "cleave/rt/cuda_check.h"
#include "cleave/rt/cuda_comm.h"

#include <cuda_runtime.h>

#include <cstdlib>
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
  void do_all_reduce(void *data, int64_t count, CommElement element,
                     CommReduction reduction) override {
    const int64_t bytes = count * static_cast<int64_t>(element_bytes(element));
    to_host(in_, data, bytes);
    host_->all_reduce(in_.data(), count, element, reduction);
    to_device(data, in_, bytes);
  }

  void do_all_gather(const void *send, void *recv, int64_t send_count,
                     CommElement element) override {
    const int64_t bytes = send_count * static_cast<int64_t>(element_bytes(element));
    to_host(in_, send, bytes);
    out_.resize(static_cast<size_t>(bytes * size()));
    host_->all_gather(in_.data(), out_.data(), send_count, element);
    to_device(recv, out_, bytes * size());
  }

  void do_reduce_scatter(const void *send, void *recv, int64_t recv_count, CommElement element,
                         CommReduction reduction) override {
    const int64_t bytes = recv_count * static_cast<int64_t>(element_bytes(element));
    to_host(in_, send, bytes * size());
    out_.resize(static_cast<size_t>(bytes));
    host_->reduce_scatter(in_.data(), out_.data(), recv_count, element, reduction);
    to_device(recv, out_, bytes);
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

  std::unique_ptr<Communicator> host_;
  /// Staging buffers, kept between calls (a step calls the same sizes).
  std::vector<unsigned char> in_, out_;
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
