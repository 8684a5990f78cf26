//===- ordered_worker.cpp - one thread that runs collectives in start order ===//
#include "ordered_worker.h"

#include "cleave/rt/check.h"

namespace cleave::rt {

OrderedWorker::OrderedWorker(bool threaded) {
  if (threaded)
    thread_ = std::thread([this] { loop(); });
}

OrderedWorker::~OrderedWorker() { stop(); }

void OrderedWorker::stop() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopping_ = true;
  }
  work_.notify_all();
  if (thread_.joinable())
    thread_.join();
}

void OrderedWorker::loop() {
  std::unique_lock<std::mutex> lock(mutex_);
  for (;;) {
    // A condition variable, not a poll: an idle worker takes no core from
    // oversubscribed ranks.
    work_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
    if (queue_.empty())
      return; // stopping, nothing left
    auto [ticket, task] = std::move(queue_.front());
    queue_.pop_front();
    busy_ = true;
    lock.unlock();
    std::exception_ptr error;
    try {
      task();
    } catch (...) {
      error = std::current_exception();
    }
    lock.lock();
    busy_ = false;
    outcomes_[ticket] = {true, error};
    done_.notify_all();
  }
}

int64_t OrderedWorker::submit(std::function<void()> task) {
  std::unique_lock<std::mutex> lock(mutex_);
  const int64_t ticket = next_ticket_++;
  if (!thread_.joinable() || stopping_) {
    lock.unlock();
    std::exception_ptr error;
    try {
      task();
    } catch (...) {
      error = std::current_exception();
    }
    lock.lock();
    outcomes_[ticket] = {true, error};
    return ticket;
  }
  outcomes_[ticket] = {};
  queue_.emplace_back(ticket, std::move(task));
  lock.unlock();
  work_.notify_one();
  return ticket;
}

void OrderedWorker::wait(int64_t ticket, const std::string &what) {
  std::unique_lock<std::mutex> lock(mutex_);
  auto it = outcomes_.find(ticket);
  if (it == outcomes_.end())
    fail(what, ": request ", ticket, " was never started or was already waited on");
  done_.wait(lock, [&] { return outcomes_[ticket].finished; });
  it = outcomes_.find(ticket);
  const std::exception_ptr error = it->second.error;
  outcomes_.erase(it);
  lock.unlock();
  if (error)
    std::rethrow_exception(error);
}

void OrderedWorker::run(const std::function<void()> &task) {
  std::unique_lock<std::mutex> lock(mutex_);
  if (queue_.empty() && !busy_) {
    // Only the step's thread submits, so nothing can be queued while the
    // task runs here; busy_ tells drain() about it.
    busy_ = true;
    lock.unlock();
    try {
      task();
    } catch (...) {
      lock.lock();
      busy_ = false;
      done_.notify_all();
      throw;
    }
    lock.lock();
    busy_ = false;
    done_.notify_all();
    return;
  }
  lock.unlock();
  wait(submit(task), "collective");
}

void OrderedWorker::drain() {
  std::unique_lock<std::mutex> lock(mutex_);
  done_.wait(lock, [this] { return queue_.empty() && !busy_; });
}

} // namespace cleave::rt
