//===- nccl_watchdog.cpp - the thread that ends a stuck NCCL job -----------===//
#include "nccl_watchdog.h"

#include <cuda_runtime.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <deque>
#include <mutex>
#include <thread>
#include <unistd.h>
#include <vector>

namespace cleave::rt::cuda::detail {
namespace {

using Clock = std::chrono::steady_clock;

/// How often the thread looks: a deadline is met to within this.
constexpr auto kPollPeriod = std::chrono::milliseconds(100);

struct Queued {
  std::shared_ptr<const WatchedGroup> group;
  cudaEvent_t done;
  const char *op;
  CommElement element;
  int64_t call;
  int peer;
};

class Watchdog {
public:
  void watch(std::shared_ptr<const WatchedGroup> group, int device) {
    std::lock_guard<std::mutex> lock(mutex_);
    groups_.push_back(std::move(group));
    if (!started_) {
      started_ = true;
      // Detached and never joined: the process may end while it sleeps,
      // and joining at exit would race the CUDA runtime's own teardown.
      std::thread([this, device] { run(device); }).detach();
    }
  }

  void unwatch(const WatchedGroup *group) {
    // The group's collectives must be done before its NCCL comm goes.
    (void)cudaStreamSynchronize(nullptr);
    std::lock_guard<std::mutex> lock(mutex_);
    groups_.erase(std::remove_if(groups_.begin(), groups_.end(),
                                 [group](const auto &g) { return g.get() == group; }),
                  groups_.end());
    for (auto it = queue_.begin(); it != queue_.end();)
      if (it->group.get() == group) {
        spare_.push_back(it->done);
        it = queue_.erase(it);
      } else {
        ++it;
      }
  }

  void queued(const std::shared_ptr<const WatchedGroup> &group, const char *op, CommElement element,
              int64_t call, int peer, cudaStream_t stream) {
    std::lock_guard<std::mutex> lock(mutex_);
    cudaEvent_t done;
    if (!spare_.empty()) {
      done = spare_.back();
      spare_.pop_back();
    } else if (cudaEventCreateWithFlags(&done, cudaEventDisableTiming) != cudaSuccess) {
      return; // the step's own CUDA checks report a broken device
    }
    if (cudaEventRecord(done, stream) != cudaSuccess) {
      spare_.push_back(done);
      return;
    }
    if (queue_.empty())
      head_since_ = Clock::now();
    queue_.push_back({group, done, op, element, call, peer});
  }

private:
  void run(int device) {
    if (cudaSetDevice(device) != cudaSuccess)
      return;
    for (;;) {
      std::this_thread::sleep_for(kPollPeriod);
      std::lock_guard<std::mutex> lock(mutex_);
      if (!check_queue() || !check_async_errors())
        return;
    }
  }

  /// Retires finished collectives; ends the process when the oldest one is
  /// past its deadline. False: stop watching (the CUDA runtime is going).
  bool check_queue() {
    while (!queue_.empty()) {
      const cudaError_t state = cudaEventQuery(queue_.front().done);
      if (state == cudaErrorNotReady)
        break;
      if (state == cudaErrorCudartUnloading)
        return false;
      // Finished, or a device fault that the step's next CUDA check
      // reports with its file and line: either way not ours to wait for.
      spare_.push_back(queue_.front().done);
      queue_.pop_front();
      head_since_ = Clock::now();
    }
    if (queue_.empty())
      return true;
    const Queued &stuck = queue_.front();
    const double waited = std::chrono::duration<double>(Clock::now() - head_since_).count();
    if (stuck.group->timeout_s <= 0 || waited <= stuck.group->timeout_s)
      return true;
    if (stuck.peer >= 0) {
      std::fprintf(stderr,
                   "cleave: error: rank %d: NCCL %s rank %d (transfer %lld) over %s has not "
                   "finished after %.3g s (timeout %g s, CLEAVE_COMM_TIMEOUT): rank %d died, "
                   "stopped, or is itself waiting on a lost rank; ending the job\n",
                   stuck.group->world_rank, stuck.op, stuck.peer,
                   static_cast<long long>(stuck.call), stuck.group->description.c_str(), waited,
                   stuck.group->timeout_s, stuck.peer);
      end_process();
    }
    std::fprintf(stderr,
                 "cleave: error: rank %d: NCCL %s (%s, call %lld) over %s has not finished "
                 "after %.3g s (timeout %g s, CLEAVE_COMM_TIMEOUT): a rank of the group died, "
                 "stopped, or is itself waiting on a lost rank (NCCL cannot tell which; mpirun "
                 "names a rank that died); ending the job\n",
                 stuck.group->world_rank, stuck.op, element_name(stuck.element),
                 static_cast<long long>(stuck.call), stuck.group->description.c_str(), waited,
                 stuck.group->timeout_s);
    end_process();
  }

  bool check_async_errors() {
    for (const auto &group : groups_) {
      ncclResult_t error = ncclSuccess;
      if (ncclCommGetAsyncError(group->comm, &error) != ncclSuccess)
        continue;
      if (error == ncclSuccess || error == ncclInProgress)
        continue;
      std::fprintf(stderr, "cleave: error: rank %d: NCCL failed on %s: %s (%s); ending the job\n",
                   group->world_rank, group->description.c_str(), ncclGetErrorString(error),
                   ncclGetLastError(group->comm));
      end_process();
    }
    return true;
  }

  [[noreturn]] static void end_process() {
    std::fflush(stdout);
    std::fflush(stderr);
    // The main thread is blocked behind the stuck kernel: leave from here.
    // mpirun sees a rank exit with a failure and ends the others.
    _exit(kCommFailureExit);
  }

  std::mutex mutex_;
  bool started_ = false;
  std::vector<std::shared_ptr<const WatchedGroup>> groups_;
  std::deque<Queued> queue_;
  std::vector<cudaEvent_t> spare_;
  /// When the current oldest collective became the oldest: roughly when
  /// the stream reached it, so that compute queued before it does not
  /// count against its deadline.
  Clock::time_point head_since_;
};

/// Leaked on purpose: the detached thread uses it until the process ends.
Watchdog &watchdog() {
  static Watchdog *instance = new Watchdog;
  return *instance;
}

} // namespace

void watch(std::shared_ptr<const WatchedGroup> group, int device) {
  watchdog().watch(std::move(group), device);
}

void unwatch(const WatchedGroup *group) { watchdog().unwatch(group); }

void queued(const std::shared_ptr<const WatchedGroup> &group, const char *op, CommElement element,
            int64_t call, int peer, cudaStream_t stream) {
  watchdog().queued(group, op, element, call, peer, stream);
}

} // namespace cleave::rt::cuda::detail
