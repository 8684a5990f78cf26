//===- transfers.cpp - a pipeline step's transfers, by slot ----------------===//
//
// Generated pipeline steps name a transfer by (axis, peer coordinate, slot)
// and wait on the slot later (collective_api.inc). CommGroups turns the
// coordinate into a group rank of the axis' communicator (group rank order
// is the coordinate on that axis, grid.cpp) and keeps the started request
// per slot. The table lives here, not in the generated code, so that both
// backends share its checks and the receive-wait time the driver reports.
//
//===----------------------------------------------------------------------===//
#include "cleave/rt/check.h"
#include "cleave/rt/comm.h"

#include <chrono>

namespace cleave::rt {
namespace {

/// Slots beyond this are a compiler bug, not a step's real transfer count.
constexpr int64_t kMaxSlots = int64_t(1) << 24;

const char *transfer_name(bool receive) { return receive ? "recv" : "send"; }

} // namespace

void CommGroups::start_send(const std::string &axis, int64_t peer, const void *data, int64_t bytes,
                            int64_t tag, int64_t slot) {
  start_transfer(false, axis, peer, data, nullptr, bytes, tag, slot);
}

void CommGroups::start_receive(const std::string &axis, int64_t peer, void *data, int64_t bytes,
                               int64_t tag, int64_t slot) {
  start_transfer(true, axis, peer, nullptr, data, bytes, tag, slot);
}

void CommGroups::start_transfer(bool receive, const std::string &axis, int64_t peer,
                                const void *send, void *recv, int64_t bytes, int64_t tag,
                                int64_t slot) {
  const char *op = transfer_name(receive);
  if (slot < 0 || slot >= kMaxSlots)
    fail(op, "_start on axis '", axis, "': slot ", slot, " is outside 0..", kMaxSlots - 1);
  Communicator &comm = this->axis(axis);
  if (peer < 0 || peer >= comm.size())
    fail(op, "_start on axis '", axis, "': peer coordinate ", peer, " is outside the axis (size ",
         comm.size(), ", grid ", grid_.to_string(), ")");
  if (static_cast<size_t>(slot) >= slots_.size())
    slots_.resize(static_cast<size_t>(slot) + 1);
  PendingTransfer &pending = slots_[static_cast<size_t>(slot)];
  if (pending.comm)
    fail(op, "_start in slot ", slot, " (tag ", tag, ", peer ", peer, " on axis '", axis,
         "'): the slot still holds a ", transfer_name(pending.receive), " (tag ", pending.tag,
         ", peer ", pending.peer, ") that was never waited on");
  const int group_peer = static_cast<int>(peer);
  const int64_t request = receive ? comm.recv_start(recv, bytes, group_peer, tag)
                                  : comm.send_start(send, bytes, group_peer, tag);
  pending = {&comm, request, receive, peer, tag};
}

void CommGroups::wait_transfer(int64_t slot) {
  if (slot < 0 || static_cast<size_t>(slot) >= slots_.size() ||
      !slots_[static_cast<size_t>(slot)].comm)
    fail("wait on slot ", slot, ": no transfer was started in it (or it was already waited on)");
  PendingTransfer pending = slots_[static_cast<size_t>(slot)];
  slots_[static_cast<size_t>(slot)].comm = nullptr;
  if (!pending.receive) {
    pending.comm->wait_transfer(pending.request);
    return;
  }
  const auto start = std::chrono::steady_clock::now();
  pending.comm->wait_transfer(pending.request);
  receive_wait_seconds_ +=
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

int CommGroups::coordinate(const std::string &axis) const {
  return grid_.coordinates(world_.rank())[grid_.axis_index(axis)];
}

} // namespace cleave::rt
