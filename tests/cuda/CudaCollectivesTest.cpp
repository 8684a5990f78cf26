//===- CudaCollectivesTest.cpp - device collectives vs the host ones ------===//
//
// Run as `mpirun -np 4`: on a dp=2,tp=2 grid, every call of
// cuda_collectives.h (device buffers, host-staged MPI communicators, so
// the 4 ranks may share one GPU) must give the bytes collectives.h gives on
// host buffers over plain MPI, for groups of 2 and 4 ranks, outer 1 and 3
// (the strided permutations), and blocks of 1 and 5 elements (all_to_all
// included). Also checks that gathering every rank's slice of a replicated
// tensor rebuilds it.
// Exits 77 (skipped) where no GPU is visible; scripts/gpu-check does not
// carry it yet.
//
//===----------------------------------------------------------------------===//
#include "cleave/rt/check.h"
#include "cleave/rt/collectives.h"
#include "cleave/rt/cuda_check.h"
#include "cleave/rt/cuda_collectives.h"
#include "cleave/rt/cuda_comm.h"
#include "cleave/rt/mpi_comm.h"

#include <cuda_runtime.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

using namespace cleave::rt;

namespace {

/// A device copy of a host vector, and back.
class DeviceVector {
public:
  explicit DeviceVector(const std::vector<float> &host) : size_(host.size()) {
    CLEAVE_CUDA_CHECK(cudaMalloc(&data_, std::max<size_t>(1, size_) * sizeof(float)));
    CLEAVE_CUDA_CHECK(
        cudaMemcpy(data_, host.data(), size_ * sizeof(float), cudaMemcpyHostToDevice));
  }
  ~DeviceVector() { (void)cudaFree(data_); }
  float *get() { return data_; }
  std::vector<float> host() const {
    std::vector<float> out(size_);
    CLEAVE_CUDA_CHECK(cudaMemcpy(out.data(), data_, size_ * sizeof(float), cudaMemcpyDeviceToHost));
    return out;
  }

private:
  float *data_ = nullptr;
  size_t size_;
};

int local_rank() {
  const char *value = std::getenv("OMPI_COMM_WORLD_LOCAL_RANK");
  return value ? std::atoi(value) : 0;
}

} // namespace

int main(int argc, char **argv) {
  int devices = 0;
  if (cudaGetDeviceCount(&devices) != cudaSuccess || devices == 0) {
    std::printf("no GPU visible: skipped\n");
    return 77;
  }
  try {
    std::unique_ptr<Communicator> world = mpi_world(&argc, &argv);
    CLEAVE_CUDA_CHECK(cudaSetDevice(local_rank() % devices));
    std::unique_ptr<Communicator> staged =
        cuda::host_staged(world->split(0, world->rank(), "world"));
    DeviceGrid grid = DeviceGrid::parse("dp=2,tp=2");
    CommGroups host_groups(*world, grid);
    CommGroups device_groups(*staged, grid);
    int failures = 0;
    auto expect = [&](bool ok, const std::string &what) {
      if (!ok) {
        std::printf("rank %d: %s differs\n", world->rank(), what.c_str());
        ++failures;
      }
    };
    for (const char *axes : {"dp", "tp", "dp,tp"}) {
      const int64_t n = std::string(axes) == "dp,tp" ? 4 : 2;
      for (int64_t outer : {1, 3})
        for (int64_t block : {1, 5}) {
          const std::string where = std::string(axes) + " outer " + std::to_string(outer) +
                                    " block " + std::to_string(block) + ": ";
          std::vector<float> in(static_cast<size_t>(outer * n * block));
          for (size_t i = 0; i < in.size(); ++i)
            in[i] = static_cast<float>((world->rank() + 1) * 1000) + 0.5f * static_cast<float>(i);
          std::vector<float> part(static_cast<size_t>(outer * block)), whole(in.size());
          DeviceVector d_in(in), d_part(part), d_whole(whole);

          collective::reduce_scatter_sum(&host_groups, axes, in.data(), part.data(), outer, block,
                                         CommElement::f32);
          cuda::collective::reduce_scatter_sum(&device_groups, axes, d_in.get(), d_part.get(),
                                               outer, block, CommElement::f32);
          expect(d_part.host() == part, where + "reduce_scatter_sum");

          collective::all_slice(&host_groups, axes, in.data(), part.data(), outer, block, 4);
          cuda::collective::all_slice(&device_groups, axes, d_in.get(), d_part.get(), outer, block,
                                      4);
          expect(d_part.host() == part, where + "all_slice");

          collective::all_gather(&host_groups, axes, part.data(), whole.data(), outer, block, 4);
          cuda::collective::all_gather(&device_groups, axes, d_part.get(), d_whole.get(), outer,
                                       block, 4);
          expect(d_whole.host() == whole, where + "all_gather");

          std::vector<float> sum = in;
          collective::all_reduce_sum(&host_groups, axes, in.data(), sum.data(),
                                     static_cast<int64_t>(in.size()), CommElement::f32);
          cuda::collective::all_reduce_sum(&device_groups, axes, d_in.get(), d_whole.get(),
                                           static_cast<int64_t>(in.size()), CommElement::f32);
          expect(d_whole.host() == sum, where + "all_reduce_sum");

          // Max and min through the same layouts; the sign alternates with
          // the element, so that the winning rank does too.
          std::vector<float> mixed(in.size());
          for (size_t i = 0; i < in.size(); ++i)
            mixed[i] = i % 2 ? -in[i] : in[i];
          DeviceVector d_mixed(mixed);
          for (CommReduction reduction : {CommReduction::max, CommReduction::min}) {
            const std::string name = reduction_name(reduction);
            collective::reduce_scatter(&host_groups, axes, mixed.data(), part.data(), outer, block,
                                       CommElement::f32, reduction);
            cuda::collective::reduce_scatter(&device_groups, axes, d_mixed.get(), d_part.get(),
                                             outer, block, CommElement::f32, reduction);
            expect(d_part.host() == part, where + "reduce_scatter " + name);
            std::vector<float> reduced(in.size());
            collective::all_reduce(&host_groups, axes, mixed.data(), reduced.data(),
                                   static_cast<int64_t>(in.size()), CommElement::f32, reduction);
            cuda::collective::all_reduce(&device_groups, axes, d_mixed.get(), d_whole.get(),
                                         static_cast<int64_t>(in.size()), CommElement::f32,
                                         reduction);
            expect(d_whole.host() == reduced, where + "all_reduce " + name);
          }

          // A replicated tensor: the slices gathered back are the tensor.
          std::vector<float> same(in.size());
          for (size_t i = 0; i < same.size(); ++i)
            same[i] = 0.25f * static_cast<float>(i);
          DeviceVector d_same(same);
          cuda::collective::all_slice(&device_groups, axes, d_same.get(), d_part.get(), outer,
                                      block, 4);
          cuda::collective::all_gather(&device_groups, axes, d_part.get(), d_whole.get(), outer,
                                       block, 4);
          expect(d_whole.host() == same, where + "all_gather of all_slice");

          // in [outer, n * block] seen as [outer, n, block] sends block
          // column r to rank r; what arrives is [n, outer, block] seen as
          // [1, n, outer * block].
          std::vector<float> moved(in.size());
          collective::all_to_all(&host_groups, axes, in.data(), moved.data(), outer, block, 1,
                                 outer * block, 4);
          cuda::collective::all_to_all(&device_groups, axes, d_in.get(), d_whole.get(), outer,
                                       block, 1, outer * block, 4);
          expect(d_whole.host() == moved, where + "all_to_all");
        }
    }
    std::printf("rank %d: %d failures\n", world->rank(), failures);
    return failures ? 1 : 0;
  } catch (const Error &e) {
    std::fprintf(stderr, "cuda-collectives-test: error: %s\n", e.what());
    return 1;
  }
}
