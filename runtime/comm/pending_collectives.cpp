//===- pending_collectives.cpp - a step's non-blocking collectives, by slot ===//
//
// Generated steps start a collective in a slot and wait on the slot later
// (collective_api.inc), like transfers. The table lives here so that both
// backends share its checks and the wait time the driver reports: the
// communication the step did not hide.
//
//===----------------------------------------------------------------------===//
#include "cleave/rt/check.h"
#include "cleave/rt/comm.h"

#include <chrono>

namespace cleave::rt {
namespace {

/// Slots beyond this are a compiler bug, not a step's real collective count.
constexpr int64_t kMaxCollectiveSlots = int64_t(1) << 24;

} // namespace

void CommGroups::check_collective_slot(int64_t slot, const Communicator &comm) const {
  if (slot < 0 || slot >= kMaxCollectiveSlots)
    fail("collective start over ", comm.describe(), ": slot ", slot, " is outside 0..",
         kMaxCollectiveSlots - 1);
  if (static_cast<size_t>(slot) < collective_slots_.size() &&
      collective_slots_[static_cast<size_t>(slot)].comm)
    fail("collective start over ", comm.describe(), " in slot ", slot,
         ": the slot still holds a collective over ",
         collective_slots_[static_cast<size_t>(slot)].comm->describe(),
         " that was never waited on");
}

void CommGroups::start_collective(int64_t slot, Communicator &comm, Communicator::Request request,
                                  std::function<void()> finish) {
  check_collective_slot(slot, comm);
  if (static_cast<size_t>(slot) >= collective_slots_.size())
    collective_slots_.resize(static_cast<size_t>(slot) + 1);
  collective_slots_[static_cast<size_t>(slot)] = {&comm, request, std::move(finish)};
}

void CommGroups::wait_collective(int64_t slot) {
  if (slot < 0 || static_cast<size_t>(slot) >= collective_slots_.size() ||
      !collective_slots_[static_cast<size_t>(slot)].comm)
    fail("wait_collective on slot ", slot,
         ": no collective was started in it (or it was already waited on)");
  PendingCollective pending = std::move(collective_slots_[static_cast<size_t>(slot)]);
  collective_slots_[static_cast<size_t>(slot)] = {};
  const auto start = std::chrono::steady_clock::now();
  pending.comm->wait_collective(pending.request);
  collective_wait_seconds_ +=
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  if (pending.finish)
    pending.finish();
}

} // namespace cleave::rt
