//===- TransferDeadlock.cpp - the stages' transfers run against each other ===//
#include "passes/Pipeline/TransferDeadlock.h"

#include "dialects/Cleave/IR/CleaveOps.h"

#include "mlir/Dialect/Shard/IR/ShardOps.h"
#include "llvm/ADT/DenseSet.h"
#include "llvm/Support/raw_ostream.h"

#include <set>
#include <tuple>

using namespace mlir;
using namespace mlir::cleave;

namespace {

/// One step of a stage function that involves another stage.
struct Event {
  enum Kind { recvStart, recvWait, sendStart, sendWait, stageBarrier } kind;
  int64_t peer = -1;
  int64_t tag = -1;
};

std::vector<Event> eventsOf(func::FuncOp function) {
  std::vector<Event> events;
  llvm::DenseMap<int64_t, std::pair<int64_t, int64_t>> sendSlots;
  function.walk([&](Operation *op) {
    if (auto start = dyn_cast<RecvStartOp>(op)) {
      events.push_back(
          {Event::recvStart, start.getPeerAttr().getInt(), start.getTagAttr().getInt()});
    } else if (auto wait = dyn_cast<RecvWaitOp>(op)) {
      auto start = wait.getBuffer().getDefiningOp<RecvStartOp>();
      events.push_back(
          {Event::recvWait, start.getPeerAttr().getInt(), start.getTagAttr().getInt()});
    } else if (auto start = dyn_cast<SendStartOp>(op)) {
      sendSlots[start.getSlotAttr().getInt()] = {start.getPeerAttr().getInt(),
                                                 start.getTagAttr().getInt()};
      events.push_back(
          {Event::sendStart, start.getPeerAttr().getInt(), start.getTagAttr().getInt()});
    } else if (auto wait = dyn_cast<SendWaitOp>(op)) {
      auto [peer, tag] = sendSlots.lookup(wait.getSlotAttr().getInt());
      events.push_back({Event::sendWait, peer, tag});
    } else if (auto axes = op->getAttrOfType<DenseI16ArrayAttr>("grid_axes");
               axes &&
               isa<shard::AllReduceOp, shard::AllGatherOp, shard::ReduceScatterOp,
                   shard::AllToAllOp>(op) &&
               llvm::is_contained(axes.asArrayRef(), 0)) {
      events.push_back({Event::stageBarrier});
    }
  });
  return events;
}

} // namespace

bool mlir::cleave::transfersCanDeadlock(llvm::ArrayRef<func::FuncOp> stageFunctions,
                                        std::string &where) {
  size_t stages = stageFunctions.size();
  std::vector<std::vector<Event>> events;
  for (func::FuncOp function : stageFunctions)
    events.push_back(eventsOf(function));
  std::vector<size_t> position(stages, 0);
  // (from, to, tag) of the sends started and the receives posted so far.
  std::set<std::tuple<int64_t, int64_t, int64_t>> sendsStarted, receivesPosted;
  bool progress = true;
  while (progress) {
    progress = false;
    for (size_t p = 0; p < stages; ++p) {
      while (position[p] < events[p].size()) {
        const Event &event = events[p][position[p]];
        int64_t self = static_cast<int64_t>(p);
        bool ready = true;
        if (event.kind == Event::recvStart)
          receivesPosted.insert({event.peer, self, event.tag});
        else if (event.kind == Event::sendStart)
          sendsStarted.insert({self, event.peer, event.tag});
        else if (event.kind == Event::recvWait)
          ready = sendsStarted.count({event.peer, self, event.tag});
        else if (event.kind == Event::sendWait)
          ready = receivesPosted.count({self, event.peer, event.tag});
        else
          ready = false; // a barrier: released below once every stage is at one
        if (!ready)
          break;
        ++position[p];
        progress = true;
      }
    }
    bool allAtBarrier = true;
    for (size_t p = 0; p < stages; ++p)
      allAtBarrier &=
          position[p] < events[p].size() && events[p][position[p]].kind == Event::stageBarrier;
    if (allAtBarrier) {
      for (size_t &at : position)
        ++at;
      progress = true;
    }
  }
  bool stalled = false;
  llvm::raw_string_ostream out(where);
  static const char *const kNames[] = {"receive", "receive wait", "send", "send wait",
                                       "collective over pp"};
  for (size_t p = 0; p < stages; ++p)
    if (position[p] < events[p].size()) {
      const Event &event = events[p][position[p]];
      out << (stalled ? "; " : "") << "stage " << p << " at its " << kNames[event.kind];
      if (event.peer >= 0)
        out << " (peer " << event.peer << ", tag " << event.tag << ")";
      stalled = true;
    }
  return stalled;
}
