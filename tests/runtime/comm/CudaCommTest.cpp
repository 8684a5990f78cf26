//===- CudaCommTest.cpp - the device communicators under mpirun ------------===//
//
// The checks of CommChecks.cpp on device buffers: a test-only adapter
// (HostView) copies each host input to the GPU, calls the communicator
// under test there, and copies the result back, keeping in-place calls in
// place. Modes (first argument):
//
//   staged            host_staged(MPI world): any number of ranks, sharing
//                     the GPUs round-robin
//   nccl              nccl_world: one rank per GPU
//   nccl-shared-gpu   nccl_world with every rank on GPU 0 (LOCAL_RANK=0):
//                     must refuse, naming the ranks
//   staged-transfers  point-to-point on device buffers through host
//                     staging: each rank sends to and receives from both
//                     ring neighbours at once, sizes in 4 KiB pieces
//
// Exits 77 (skipped) where no GPU is visible.
//
//===----------------------------------------------------------------------===//
#include "CommChecks.h"

#include "cleave/rt/check.h"
#include "cleave/rt/cuda_check.h"
#include "cleave/rt/cuda_comm.h"
#include "cleave/rt/mpi_comm.h"

#include <cuda_runtime.h>

#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

using namespace cleave::rt;

namespace {

/// Device memory for one call.
class Scratch {
public:
  explicit Scratch(int64_t bytes) {
    CLEAVE_CUDA_CHECK(cudaMalloc(&data_, static_cast<size_t>(std::max<int64_t>(bytes, 1))));
  }
  ~Scratch() { (void)cudaFree(data_); }
  unsigned char *get() const { return static_cast<unsigned char *>(data_); }

private:
  void *data_ = nullptr;
};

void to_device(void *dst, const void *src, int64_t bytes) {
  CLEAVE_CUDA_CHECK(cudaMemcpy(dst, src, static_cast<size_t>(bytes), cudaMemcpyHostToDevice));
}
void to_host(void *dst, const void *src, int64_t bytes) {
  CLEAVE_CUDA_CHECK(cudaMemcpy(dst, src, static_cast<size_t>(bytes), cudaMemcpyDeviceToHost));
}

/// A device communicator seen through host buffers (for the shared checks).
class HostView final : public Communicator {
public:
  explicit HostView(std::unique_ptr<Communicator> device)
      : Communicator(device->rank(), device->world_ranks(), device->name()),
        device_(std::move(device)) {}

  bool is_host() const override { return true; }
  const char *backend() const override { return device_->backend(); }
  std::unique_ptr<Communicator> split(int color, int key, const std::string &name) override {
    return std::make_unique<HostView>(device_->split(color, key, name));
  }
  [[noreturn]] void abort_job(int exit_status) override {
    device_->abort_job(exit_status);
    std::_Exit(exit_status);
  }

protected:
  void do_all_reduce(void *data, int64_t count, CommElement element,
                     CommReduction reduction) override {
    const int64_t bytes = count * static_cast<int64_t>(element_bytes(element));
    Scratch d(bytes);
    to_device(d.get(), data, bytes);
    device_->all_reduce(d.get(), count, element, reduction);
    to_host(data, d.get(), bytes);
  }
  void do_all_gather(const void *send, void *recv, int64_t send_count,
                     CommElement element) override {
    const int64_t block = send_count * static_cast<int64_t>(element_bytes(element));
    Scratch out(block * size());
    const bool in_place = send == static_cast<unsigned char *>(recv) + rank() * block;
    if (in_place) {
      to_device(out.get(), recv, block * size());
      device_->all_gather(out.get() + rank() * block, out.get(), send_count, element);
    } else {
      Scratch in(block);
      to_device(in.get(), send, block);
      device_->all_gather(in.get(), out.get(), send_count, element);
    }
    to_host(recv, out.get(), block * size());
  }
  void do_reduce_scatter(const void *send, void *recv, int64_t recv_count, CommElement element,
                         CommReduction reduction) override {
    const int64_t block = recv_count * static_cast<int64_t>(element_bytes(element));
    Scratch in(block * size());
    to_device(in.get(), send, block * size());
    if (recv == static_cast<const unsigned char *>(send) + rank() * block) {
      device_->reduce_scatter(in.get(), in.get() + rank() * block, recv_count, element, reduction);
      to_host(recv, in.get() + rank() * block, block);
    } else {
      Scratch out(block);
      device_->reduce_scatter(in.get(), out.get(), recv_count, element, reduction);
      to_host(recv, out.get(), block);
    }
  }
  void do_all_to_all(const void *send, void *recv, int64_t block_count,
                     CommElement element) override {
    const int64_t bytes = block_count * static_cast<int64_t>(element_bytes(element)) * size();
    Scratch in(bytes), out(bytes);
    to_device(in.get(), send, bytes);
    device_->all_to_all(in.get(), out.get(), block_count, element);
    to_host(recv, out.get(), bytes);
  }
  void do_broadcast(void *data, int64_t count, int root, CommElement element) override {
    const int64_t bytes = count * static_cast<int64_t>(element_bytes(element));
    Scratch d(bytes);
    to_device(d.get(), data, bytes);
    device_->broadcast(d.get(), count, root, element);
    to_host(data, d.get(), bytes);
  }
  void do_barrier() override { device_->barrier(); }

private:
  std::unique_ptr<Communicator> device_;
};

int local_rank() {
  const char *value = std::getenv("OMPI_COMM_WORLD_LOCAL_RANK");
  return value ? std::atoi(value) : 0;
}

uint8_t pattern(int source, int64_t tag, int64_t i) {
  return static_cast<uint8_t>(i * 7 + (i >> 8) * 3 + tag * 13 + source * 31 + 1);
}

/// Transfers between ring neighbours on device buffers; returns the failures.
int check_transfers(Communicator &comm) {
  const int n = comm.size(), me = comm.rank();
  int failures = 0, checks = 0;
  for (int64_t size : {int64_t(0), int64_t(1), int64_t(4097), int64_t(300000)}) {
    const int to[2] = {(me + 1) % n, (me + n - 1) % n};
    std::vector<uint8_t> out(static_cast<size_t>(size)), in(static_cast<size_t>(size));
    Scratch send[2] = {Scratch(size), Scratch(size)}, recv[2] = {Scratch(size), Scratch(size)};
    int64_t requests[4];
    for (int d = 0; d < 2; ++d) {
      for (int64_t i = 0; i < size; ++i)
        out[static_cast<size_t>(i)] = pattern(me, d, i);
      to_device(send[d].get(), out.data(), size);
      requests[d] = comm.send_start(send[d].get(), size, to[d], d);
    }
    for (int d = 0; d < 2; ++d)
      requests[2 + d] = comm.recv_start(recv[d].get(), size, to[1 - d], d);
    for (int r : {3, 2, 0, 1})
      comm.wait_transfer(requests[r]);
    for (int d = 0; d < 2; ++d) {
      to_host(in.data(), recv[d].get(), size);
      const int source = to[1 - d];
      ++checks;
      for (int64_t i = 0; i < size; ++i)
        if (in[static_cast<size_t>(i)] != pattern(source, d, i)) {
          std::printf("rank %d: %lld bytes from rank %d differ at byte %lld\n", me,
                      static_cast<long long>(size), source, static_cast<long long>(i));
          ++failures;
          break;
        }
    }
  }
  std::printf("rank %d: %d transfer checks, %d failures\n", me, checks, failures);
  return failures;
}

} // namespace

int main(int argc, char **argv) {
  const std::string mode = argc == 2 ? argv[1] : "";
  if (mode != "staged" && mode != "nccl" && mode != "nccl-shared-gpu" &&
      mode != "staged-transfers") {
    std::fprintf(stderr, "usage: %s staged | nccl | nccl-shared-gpu | staged-transfers\n", argv[0]);
    return 2;
  }
  int devices = 0;
  if (cudaGetDeviceCount(&devices) != cudaSuccess || devices == 0) {
    std::printf("no GPU visible: skipped\n");
    return 77;
  }
  try {
    if (mode == "staged-transfers") {
      CommOptions options = CommOptions::from_environment();
      options.max_message_bytes = 4096;
      std::unique_ptr<Communicator> mpi = mpi_world(&argc, &argv, options);
      CLEAVE_CUDA_CHECK(cudaSetDevice(local_rank() % devices));
      std::unique_ptr<Communicator> world = cuda::host_staged(std::move(mpi));
      int64_t failures = check_transfers(*world);
      world->barrier();
      return failures == 0 ? 0 : 1;
    }
    std::unique_ptr<Communicator> mpi = mpi_world(&argc, &argv);
    if (mode == "staged") {
      // Ranks share the GPUs: the point of host staging.
      CLEAVE_CUDA_CHECK(cudaSetDevice(local_rank() % devices));
      HostView world(cuda::host_staged(std::move(mpi)));
      return test::check_collectives(world);
    }
    if (!cuda::have_nccl()) {
      std::printf("built without NCCL: skipped\n");
      return 77;
    }
    if (mode == "nccl") {
      HostView world(cuda::nccl_world(*mpi));
      return test::check_collectives(world);
    }
    try {
      cuda::nccl_world(*mpi);
    } catch (const Error &e) {
      const std::string message = e.what();
      std::printf("rank %d: %s\n", mpi->rank(), message.c_str());
      const bool named = mpi->size() < 2 ||
                         message.find("ranks 0 and 1 would both drive GPU 0") != std::string::npos;
      return named ? 0 : 1;
    }
    std::printf("rank %d: two ranks on one GPU were not refused\n", mpi->rank());
    return mpi->size() < 2 ? 0 : 1;
  } catch (const Error &e) {
    std::fprintf(stderr, "cuda-comm-test: error: %s\n", e.what());
    return 1;
  }
}
