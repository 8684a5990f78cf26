//===- ordered_worker.h - one thread that runs collectives in start order -===//
//
// Private to cleave_rt_comm. The MPI communicator runs its collectives on
// one thread per process, in the order the step started them, so that a
// collective started with *_start progresses (MPI_Test loops) while the
// caller computes. One queue for every communicator of the process keeps
// the order each rank issues MPI calls in the order the program made them,
// as the blocking program did: ranks never disagree on which collective of
// a communicator comes next, and never wait on each other across groups in
// an order the blocking program would not.
//
// A task that would run at once (nothing queued or running) runs on the
// caller's thread instead: the blocking calls pay no thread handoff.
// Without a thread (MPI gave less than MPI_THREAD_MULTIPLE) every task runs
// at its submit: correct, without overlap.
//
//===----------------------------------------------------------------------===//
#ifndef CLEAVE_RT_COMM_ORDERED_WORKER_H
#define CLEAVE_RT_COMM_ORDERED_WORKER_H

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <exception>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_map>

namespace cleave::rt {

class OrderedWorker {
public:
  /// threaded = false: every task runs at its submit.
  explicit OrderedWorker(bool threaded);
  /// Runs what is queued, then joins the thread.
  ~OrderedWorker();
  OrderedWorker(const OrderedWorker &) = delete;
  OrderedWorker &operator=(const OrderedWorker &) = delete;

  /// Queues `task` after every task submitted before; returns its ticket
  /// (>= 0) for wait().
  int64_t submit(std::function<void()> task);
  /// Returns once the task of `ticket` has run; rethrows what it threw.
  /// Each ticket is waited once: another ticket throws Error naming `what`.
  void wait(int64_t ticket, const std::string &what);
  /// submit + wait, on the caller's thread when nothing is queued or running.
  void run(const std::function<void()> &task);
  /// Returns once nothing is queued or running.
  void drain();
  /// Stops the thread after the queued tasks (later tasks run at submit).
  void stop();
  bool threaded() const { return thread_.joinable(); }

private:
  void loop();

  std::mutex mutex_;
  std::condition_variable work_, done_;
  std::deque<std::pair<int64_t, std::function<void()>>> queue_;
  /// Tickets submitted and not yet waited, with what their task threw once run.
  struct Outcome {
    bool finished = false;
    std::exception_ptr error;
  };
  std::unordered_map<int64_t, Outcome> outcomes_;
  int64_t next_ticket_ = 0;
  bool busy_ = false;
  bool stopping_ = false;
  std::thread thread_;
};

} // namespace cleave::rt

#endif // CLEAVE_RT_COMM_ORDERED_WORKER_H
