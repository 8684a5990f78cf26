//===- OrderedWorkerTest.cpp - the MPI communicator's collectives thread --===//
//
// OrderedWorker (runtime/comm/ordered_worker.h) without MPI: tasks run in
// submit order on one thread beside the caller, errors reach the waiter,
// and a run() with nothing queued stays on the caller's thread.
//
//===----------------------------------------------------------------------===//
#include "ordered_worker.h"

#include "cleave/rt/check.h"

#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <stdexcept>
#include <thread>
#include <vector>

using cleave::rt::OrderedWorker;

TEST_CASE("ordered worker: tasks run in submit order beside the caller, waited in any order") {
  for (bool threaded : {true, false}) {
    OrderedWorker worker(threaded);
    std::vector<int> order;
    std::atomic<bool> release{false};
    const int64_t first = worker.submit([&] {
      // Holds the thread until the caller has submitted the rest: they must
      // queue, not run beside it.
      while (threaded && !release)
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
      order.push_back(0);
    });
    std::vector<int64_t> tickets;
    for (int i = 1; i < 5; ++i)
      tickets.push_back(worker.submit([&order, i] { order.push_back(i); }));
    release = true;
    worker.wait(tickets[2], "test");
    worker.wait(first, "test");
    worker.wait(tickets[0], "test");
    worker.run([&] { order.push_back(5); });
    worker.wait(tickets[3], "test");
    worker.wait(tickets[1], "test");
    CHECK(order == std::vector<int>{0, 1, 2, 3, 4, 5});
  }
}

TEST_CASE("ordered worker: a start returns while the task runs on the thread") {
  OrderedWorker worker(true);
  REQUIRE(worker.threaded());
  std::atomic<bool> release{false};
  std::thread::id ran_on;
  const int64_t ticket = worker.submit([&] {
    ran_on = std::this_thread::get_id();
    while (!release)
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
  });
  release = true; // reached only because submit did not wait for the task
  worker.wait(ticket, "test");
  CHECK(ran_on != std::this_thread::get_id());
  std::thread::id inline_on;
  worker.run([&] { inline_on = std::this_thread::get_id(); });
  CHECK(inline_on == std::this_thread::get_id()); // nothing queued: no handoff
}

TEST_CASE("ordered worker: a task's error reaches its waiter, and a ticket is waited once") {
  for (bool threaded : {true, false}) {
    OrderedWorker worker(threaded);
    const int64_t bad = worker.submit([] { cleave::rt::fail("the peer's buffer is gone"); });
    const int64_t good = worker.submit([] {});
    CHECK_THROWS_WITH(worker.wait(bad, "test"), "the peer's buffer is gone");
    CHECK_NOTHROW(worker.wait(good, "test"));
    CHECK_THROWS_WITH(worker.wait(good, "wait_collective over group 'dp' (ranks 0,1)"),
                      "wait_collective over group 'dp' (ranks 0,1): request 1 was never "
                      "started or was already waited on");
    CHECK_THROWS_WITH(worker.wait(99, "test"), Catch::Contains("request 99 was never started"));
    CHECK_THROWS_WITH(worker.run([] { throw std::runtime_error("inline"); }), "inline");
    worker.drain();
  }
}
