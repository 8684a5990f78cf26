//===- ThreadDistribution.h - a Distribution over threads, for tests -------===//
//
// Several "ranks" in one process: each thread owns a ThreadDistribution of
// one ThreadWorld, whose all_gather meets the others at a barrier. Lets the
// core tests run extract/assemble and whole train() calls on a grid
// without MPI. Waits time out (Error) instead of hanging a broken test.
//
//===----------------------------------------------------------------------===//
#ifndef CLEAVE_TESTS_RUNTIME_THREAD_DISTRIBUTION_H
#define CLEAVE_TESTS_RUNTIME_THREAD_DISTRIBUTION_H

#include "cleave/rt/check.h"
#include "cleave/rt/distribution.h"

#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace cleave::rt::test {

class ThreadWorld {
public:
  explicit ThreadWorld(int size) : size_(size), sends_(static_cast<size_t>(size)) {}
  int size() const { return size_; }

  /// recv = every rank's `bytes` at send, in rank order.
  void all_gather(int rank, const void *send, void *recv, int64_t bytes) {
    sends_[static_cast<size_t>(rank)] = send;
    barrier();
    for (int r = 0; r < size_; ++r)
      if (bytes > 0)
        std::memcpy(static_cast<char *>(recv) + r * bytes, sends_[static_cast<size_t>(r)],
                    static_cast<size_t>(bytes));
    barrier(); // every rank has read every send buffer
  }

private:
  void barrier() {
    std::unique_lock<std::mutex> lock(mutex_);
    int64_t generation = generation_;
    if (++arrived_ == size_) {
      arrived_ = 0;
      ++generation_;
      woken_.notify_all();
      return;
    }
    if (!woken_.wait_for(lock, std::chrono::seconds(20), [&] { return generation_ != generation; }))
      fail("test ranks: a barrier waited 20 s for the other ranks");
  }

  int size_;
  std::vector<const void *> sends_;
  std::mutex mutex_;
  std::condition_variable woken_;
  int arrived_ = 0;
  int64_t generation_ = 0;
};

/// What step_context() hands a test's step: this rank and its grid.
struct ThreadStepContext {
  int rank;
  const GridShape *grid;
  /// What a test's step reports as time spent waiting for receives.
  double receive_wait_seconds = 0;
};

class ThreadDistribution : public Distribution {
public:
  ThreadDistribution(GridShape grid, ThreadWorld &world, int rank)
      : Distribution(std::move(grid)), world_(world), rank_(rank),
        context_{rank, &this->grid(), 0} {}

  int rank() const override { return rank_; }
  bool any(bool flag) override {
    std::vector<char> flags(static_cast<size_t>(size()));
    char mine = flag ? 1 : 0;
    world_.all_gather(rank_, &mine, flags.data(), 1);
    for (char f : flags)
      if (f)
        return true;
    return false;
  }
  void *step_context() override { return &context_; }
  double take_receive_wait_seconds() override {
    double seconds = context_.receive_wait_seconds;
    context_.receive_wait_seconds = 0;
    return seconds;
  }
  [[noreturn]] void abort_job(int exit_status) override { std::_Exit(exit_status); }

protected:
  void all_gather_bytes(const void *send, void *recv, int64_t bytes) override {
    world_.all_gather(rank_, send, recv, bytes);
  }

private:
  ThreadWorld &world_;
  int rank_;
  ThreadStepContext context_;
};

/// Runs body(distribution) on `grid`'s ranks, one thread each; rethrows the
/// first rank's exception, if any, after all have ended.
inline void on_ranks(const std::string &grid,
                     const std::function<void(ThreadDistribution &)> &body) {
  GridShape shape = GridShape::parse(grid);
  ThreadWorld world(shape.devices());
  std::vector<std::exception_ptr> errors(static_cast<size_t>(shape.devices()));
  std::vector<std::thread> threads;
  for (int r = 0; r < shape.devices(); ++r)
    threads.emplace_back([&, r] {
      try {
        ThreadDistribution distribution(shape, world, r);
        body(distribution);
      } catch (...) {
        errors[static_cast<size_t>(r)] = std::current_exception();
      }
    });
  for (std::thread &thread : threads)
    thread.join();
  for (std::exception_ptr &error : errors)
    if (error)
      std::rethrow_exception(error);
}

} // namespace cleave::rt::test

#endif // CLEAVE_TESTS_RUNTIME_THREAD_DISTRIBUTION_H
