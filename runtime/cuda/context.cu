//===- context.cu - checks and the library's per-device state --------------===//
//
// The kernels are free functions like the CPU ones, but a GPU library needs
// a little state: cuBLAS wants a handle (creating one costs milliseconds
// and allocates, so once per device), and a few kernels need temporaries
// the kernels.h signatures leave no room for (cross_entropy's per-row
// losses, the partial results of long reductions). Both live here, per
// device, behind one mutex.
//
//===----------------------------------------------------------------------===//

#include "common.cuh"
#include "context.h"

#include <cublas_v2.h>

#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <vector>

namespace cleave::rt::cuda {
namespace {

struct DeviceState {
  cublasHandle_t cublas = nullptr;
  void *scratch = nullptr;
  int64_t scratch_bytes = 0;
  int multiprocessors = 0;
};

std::mutex state_mutex;
std::vector<DeviceState> states; // by device index
bool tf32_allowed = false;

DeviceState &current_state() {
  int device = 0;
  CLEAVE_CUDA_CHECK(cudaGetDevice(&device));
  if (static_cast<size_t>(device) >= states.size())
    states.resize(static_cast<size_t>(device) + 1);
  return states[static_cast<size_t>(device)];
}

cublasMath_t math_mode() {
  // CUBLAS_DEFAULT_MATH is true fp32; cuBLAS only uses TF32 when asked (or
  // when NVIDIA_TF32_OVERRIDE=1 forces it process-wide).
  return tf32_allowed ? CUBLAS_TF32_TENSOR_OP_MATH : CUBLAS_DEFAULT_MATH;
}

} // namespace

namespace detail {

void cuda_failed(cudaError_t error, const char *file, int line, const char *call) {
  std::fflush(stdout);
  std::fprintf(stderr, "%s:%d: CUDA error %s (%s) in `%s`\n", file, line, cudaGetErrorName(error),
               cudaGetErrorString(error), call);
  std::fflush(stderr);
  std::exit(1);
}

void cublas_failed(int status, const char *file, int line, const char *call) {
  std::fflush(stdout);
  std::fprintf(stderr, "%s:%d: cuBLAS error %s (%d) in `%s`\n", file, line,
               cublasGetStatusString(static_cast<cublasStatus_t>(status)), status, call);
  std::fflush(stderr);
  std::exit(1);
}

cublasHandle_t cublas_handle() {
  std::lock_guard<std::mutex> lock(state_mutex);
  DeviceState &state = current_state();
  if (!state.cublas) {
    CLEAVE_CUBLAS_CHECK(cublasCreate(&state.cublas));
    // The kernels all run on the legacy default stream; cuBLAS must too, so
    // that a product sees the results of the kernel launched before it.
    CLEAVE_CUBLAS_CHECK(cublasSetStream(state.cublas, 0));
  }
  CLEAVE_CUBLAS_CHECK(cublasSetMathMode(state.cublas, math_mode()));
  return state.cublas;
}

void *scratch(int64_t bytes) {
  std::lock_guard<std::mutex> lock(state_mutex);
  DeviceState &state = current_state();
  if (bytes > state.scratch_bytes) {
    // cudaFree waits for the device to go idle, so no kernel still reads
    // the old buffer. Growth is rare: sizes repeat every step.
    if (state.scratch)
      CLEAVE_CUDA_CHECK(cudaFree(state.scratch));
    state.scratch = nullptr;
    const int64_t rounded = ceil_div(bytes, 1 << 20) << 20; // whole MiB: fewer regrowths
    CLEAVE_CUDA_CHECK(cudaMalloc(&state.scratch, static_cast<size_t>(rounded)));
    state.scratch_bytes = rounded;
  }
  if (!state.scratch) {
    CLEAVE_CUDA_CHECK(cudaMalloc(&state.scratch, 1 << 20));
    state.scratch_bytes = 1 << 20;
  }
  return state.scratch;
}

int multiprocessors() {
  std::lock_guard<std::mutex> lock(state_mutex);
  DeviceState &state = current_state();
  if (state.multiprocessors == 0) {
    int device = 0;
    CLEAVE_CUDA_CHECK(cudaGetDevice(&device));
    CLEAVE_CUDA_CHECK(
        cudaDeviceGetAttribute(&state.multiprocessors, cudaDevAttrMultiProcessorCount, device));
  }
  return state.multiprocessors;
}

} // namespace detail

void set_allow_tf32(bool allow) {
  std::lock_guard<std::mutex> lock(state_mutex);
  tf32_allowed = allow;
}

bool allow_tf32() {
  std::lock_guard<std::mutex> lock(state_mutex);
  return tf32_allowed;
}

void set_num_threads(int64_t num_threads) {
  KERNEL_CHECK(num_threads >= 1, "thread count must be positive");
  // Host threads do not change how a GPU kernel runs.
}

int64_t get_num_threads() { return 1; }

} // namespace cleave::rt::cuda
