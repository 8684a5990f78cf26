//===- cuda_training.cpp - run_training and device memory for CUDA ---------===//
//
// cuda::run_training (model.h), which generated CUDA programs' main()
// calls, defined only here so that only a program linked with the CUDA
// runtime finds it. It hands the training loop (training_loop.h)
//   - a DeviceMemory of cudaMalloc'd tensors on this process's GPU, chosen
//     on first allocation (so --help and command-line mistakes work on any
//     machine), and
//   - the model's step wrapped so that the kernels' invalid-index flag is
//     device memory: the wrapper passes the step a device int32 and, once
//     the step is done, ORs it into the training loop's host flag.
//
//===----------------------------------------------------------------------===//
#include "cleave/rt/cuda_check.h"
#include "cleave/rt/cuda_memory.h"
#include "cleave/rt/training_loop.h"

#include <cuda_runtime.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <string>

namespace cleave::rt {
namespace cuda {
namespace {

constexpr const char *kNoDevice =
    "no CUDA device visible: run with --target cpu executables or on a GPU machine";

/// cudaMalloc's alignment, and the smallest allocation (a zero-byte request
/// still gets a unique pointer).
constexpr int64_t kAllocationGranule = 256;

/// Launchers' local rank variables, in the order they are believed.
constexpr const char *kLocalRankVariables[] = {"LOCAL_RANK", "OMPI_COMM_WORLD_LOCAL_RANK",
                                               "SLURM_LOCALID"};

std::mutex device_mutex;
int selected_device = -1;

/// The local rank a launcher set, with the variable that said so; -1 when
/// none did.
int local_rank(const char **variable) {
  for (const char *name : kLocalRankVariables) {
    const char *value = std::getenv(name);
    if (!value || !*value)
      continue;
    char *end = nullptr;
    const long rank = std::strtol(value, &end, 10);
    if (*end != '\0' || rank < 0)
      fail(name, "='", value, "' is not a local rank (a non-negative integer)");
    *variable = name;
    return static_cast<int>(rank);
  }
  return -1;
}

std::string megabytes(size_t bytes) { return std::to_string(bytes >> 20) + " MiB"; }

class CudaMemory final : public DeviceMemory {
public:
  const char *name() const override { return name_.c_str(); }
  bool is_host() const override { return false; }

  void *alloc(int64_t bytes) override {
    CLEAVE_CHECK(bytes >= 0, "negative allocation of ", bytes, " bytes");
    const int device = select_device();
    name_ = "cuda:" + std::to_string(device);
    const int64_t rounded =
        std::max<int64_t>(kAllocationGranule, (bytes + kAllocationGranule - 1) /
                                                  kAllocationGranule * kAllocationGranule);
    void *ptr = nullptr;
    const cudaError_t error = cudaMalloc(&ptr, static_cast<size_t>(rounded));
    if (error == cudaErrorMemoryAllocation) {
      (void)cudaGetLastError(); // not sticky: clear it
      size_t free_bytes = 0, total_bytes = 0;
      (void)cudaMemGetInfo(&free_bytes, &total_bytes);
      fail("out of GPU memory on ", name_, ": cannot allocate ", bytes, " bytes (",
           megabytes(free_bytes), " free of ", megabytes(total_bytes), ")");
    }
    CLEAVE_CUDA_CHECK(error);
    // DeviceMemory promises zeros: optimizer state starts from them.
    CLEAVE_CUDA_CHECK(cudaMemset(ptr, 0, static_cast<size_t>(rounded)));
    return ptr;
  }

  void free(void *ptr) override {
    const cudaError_t error = cudaFree(ptr);
    // At process exit the CUDA runtime may be gone before static objects.
    if (error != cudaErrorCudartUnloading)
      CLEAVE_CUDA_CHECK(error);
  }

  void copy_to_device(void *device_dst, const void *host_src, int64_t bytes) override {
    if (bytes > 0)
      CLEAVE_CUDA_CHECK(
          cudaMemcpy(device_dst, host_src, static_cast<size_t>(bytes), cudaMemcpyHostToDevice));
  }

  void copy_to_host(void *host_dst, const void *device_src, int64_t bytes) override {
    if (bytes > 0)
      CLEAVE_CUDA_CHECK(
          cudaMemcpy(host_dst, device_src, static_cast<size_t>(bytes), cudaMemcpyDeviceToHost));
  }

private:
  std::string name_ = "cuda";
};

/// The generated step, and the device flag its kernels set (one model per
/// process: StepFunction is a plain function pointer).
StepFunction model_step = nullptr;
StepFunction model_eval_step = nullptr;
int32_t *device_invalid_index = nullptr;

void call_with_device_flag(StepFunction function, const StepScalars &scalars,
                           const StepBuffers &buffers) {
  if (!device_invalid_index) {
    CLEAVE_CUDA_CHECK(cudaMalloc(&device_invalid_index, sizeof(int32_t)));
    CLEAVE_CUDA_CHECK(cudaMemset(device_invalid_index, 0, sizeof(int32_t)));
  }
  StepBuffers device_buffers = buffers;
  device_buffers.invalid_index = device_invalid_index;
  function(scalars, device_buffers);
  // Waits for the step's kernels (so the driver's step time is the GPU's)
  // and reports an asynchronous kernel fault here, at the step.
  int32_t invalid = 0;
  CLEAVE_CUDA_CHECK(
      cudaMemcpy(&invalid, device_invalid_index, sizeof invalid, cudaMemcpyDeviceToHost));
  if (invalid)
    *buffers.invalid_index = 1;
}

void step_with_device_flag(const StepScalars &scalars, const StepBuffers &buffers) {
  call_with_device_flag(model_step, scalars, buffers);
}

void eval_with_device_flag(const StepScalars &scalars, const StepBuffers &buffers) {
  call_with_device_flag(model_eval_step, scalars, buffers);
}

} // namespace

StepFunction with_device_flag(StepFunction step) {
  model_step = step;
  return step_with_device_flag;
}

ModelInfo with_device_flag(const ModelInfo &model) {
  ModelInfo wrapped = model;
  model_eval_step = model.eval_step;
  wrapped.eval_step = model.eval_step ? eval_with_device_flag : nullptr;
  return wrapped;
}

int select_device() {
  std::lock_guard<std::mutex> lock(device_mutex);
  if (selected_device >= 0) {
    // cudaSetDevice is per host thread: make it current here too.
    CLEAVE_CUDA_CHECK(cudaSetDevice(selected_device));
    return selected_device;
  }
  int count = 0;
  const cudaError_t error = cudaGetDeviceCount(&count);
  if (error != cudaSuccess || count == 0) {
    (void)cudaGetLastError();
    fail(kNoDevice, " (", error != cudaSuccess ? cudaGetErrorString(error) : "0 devices", ")");
  }
  const char *variable = nullptr;
  const int rank = local_rank(&variable);
  // More local ranks than GPUs share them round-robin: the host-staged
  // communicator allows that (how plans are checked on a one-GPU machine);
  // NCCL refuses two ranks on one GPU with a message naming them.
  const int device = rank >= 0 ? rank % count : 0;
  CLEAVE_CUDA_CHECK(cudaSetDevice(device));
  selected_device = device;
  return device;
}

DeviceMemory &device_memory() {
  static CudaMemory memory;
  return memory;
}

int run_training(int argc, char **argv, const ModelInfo &model, StepFunction step) {
  std::string wrong = wrong_target(model, "cuda", "the CUDA runtime");
  if (!wrong.empty()) {
    std::fprintf(stderr, "%s: error: %s\n", argc > 0 && argv[0] ? argv[0] : "train", wrong.c_str());
    return 1;
  }
  return rt::run_training(argc, argv, with_device_flag(model), with_device_flag(step),
                          device_memory());
}

} // namespace cuda
} // namespace cleave::rt
