//===- communicator.cpp - argument checks shared by every communicator -----===//
//
// The public collectives check what the generated code or the driver hands
// them once, here, so that each implementation only moves and adds bytes.
//
//===----------------------------------------------------------------------===//
#include "cleave/rt/check.h"
#include "cleave/rt/comm.h"
#include "cleave/rt/enum_table.h"

#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <iterator>

namespace cleave::rt {
namespace {

bool overlap(const void *a, int64_t a_bytes, const void *b, int64_t b_bytes) {
  const auto *pa = static_cast<const unsigned char *>(a);
  const auto *pb = static_cast<const unsigned char *>(b);
  return a_bytes > 0 && b_bytes > 0 && pa < pb + b_bytes && pb < pa + a_bytes;
}

} // namespace

CommOptions CommOptions::from_environment() {
  CommOptions options;
  if (const char *value = std::getenv("CLEAVE_COMM_TIMEOUT"); value && *value) {
    char *end = nullptr;
    errno = 0;
    const double seconds = std::strtod(value, &end);
    if (*end != '\0' || errno != 0 || !std::isfinite(seconds))
      fail("CLEAVE_COMM_TIMEOUT='", value,
           "' is not a number of seconds (0 or less waits without limit)");
    options.timeout_s = seconds;
  }
  if (const char *value = std::getenv("CLEAVE_REDUCTION_ORDER"); value && *value) {
    const std::string order = value;
    if (order == "library")
      options.reduction_order = ReductionOrder::library;
    else if (order == "rank")
      options.reduction_order = ReductionOrder::rank;
    else
      fail("CLEAVE_REDUCTION_ORDER='", value,
           "' is neither 'library' (the MPI library's or NCCL's own collectives) nor 'rank' "
           "(sums added in group-rank order, the same bits whatever the library)");
  }
  return options;
}

namespace {

/// Bytes and printed name of each CommElement, in the enum's order.
struct ElementFacts {
  size_t bytes;
  const char *name;
};
constexpr ElementFacts kElementFacts[] = {{4, "f32"}, {8, "i64"}, {1, "u8"}};
static_assert(std::size(kElementFacts) == enum_count(CommElement::u8), "one entry per CommElement");
constexpr ElementFacts kUnknownElement = {1, "?"};

constexpr const char *kReductionNames[] = {"sum", "max", "min"};
static_assert(std::size(kReductionNames) == enum_count(CommReduction::min),
              "one name per CommReduction");

} // namespace

size_t element_bytes(CommElement element) {
  return enum_entry_or(kElementFacts, element, kUnknownElement).bytes;
}

const char *element_name(CommElement element) {
  return enum_entry_or(kElementFacts, element, kUnknownElement).name;
}

const char *reduction_name(CommReduction reduction) {
  static constexpr const char *kUnknown = "?";
  return enum_entry_or(kReductionNames, reduction, kUnknown);
}

std::string Communicator::describe() const {
  std::string ranks;
  // Runs of consecutive world ranks print as "a-b": a 64-rank world is "0-63".
  for (size_t i = 0; i < world_ranks_.size();) {
    size_t j = i;
    while (j + 1 < world_ranks_.size() && world_ranks_[j + 1] == world_ranks_[j] + 1)
      ++j;
    if (!ranks.empty())
      ranks += ",";
    ranks += std::to_string(world_ranks_[i]);
    if (j > i + 1)
      ranks += "-" + std::to_string(world_ranks_[j]);
    else if (j == i + 1)
      ranks += "," + std::to_string(world_ranks_[j]);
    i = j + 1;
  }
  return "group '" + name_ + "' (rank" + (world_ranks_.size() == 1 ? " " : "s ") + ranks + ")";
}

void Communicator::all_reduce(void *data, int64_t count, CommElement element,
                              CommReduction reduction) {
  check_all_reduce(data, count, element, reduction);
  ++calls_;
  if (count > 0)
    do_all_reduce(data, count, element, reduction);
}

void Communicator::check_all_reduce(const void *data, int64_t count, CommElement element,
                                    CommReduction reduction) const {
  if (count < 0)
    fail("all_reduce over ", describe(), ": negative count ", count);
  if (element == CommElement::u8)
    fail("all_reduce over ", describe(), ": cannot take the ", reduction_name(reduction),
         " of raw bytes (u8)");
  if (count > 0 && !data)
    fail("all_reduce over ", describe(), ": null buffer for ", count, " elements");
}

void Communicator::all_gather(const void *send, void *recv, int64_t send_count,
                              CommElement element) {
  check_all_gather(send, recv, send_count, element);
  ++calls_;
  if (send_count > 0)
    do_all_gather(send, recv, send_count, element);
}

void Communicator::check_all_gather(const void *send, const void *recv, int64_t send_count,
                                    CommElement element) const {
  if (send_count < 0)
    fail("all_gather over ", describe(), ": negative count ", send_count);
  const int64_t bytes = send_count * static_cast<int64_t>(element_bytes(element));
  if (bytes > 0 && (!send || !recv))
    fail("all_gather over ", describe(), ": null buffer for ", send_count, " elements");
  const void *in_place = static_cast<const unsigned char *>(recv) + rank() * bytes;
  if (send != in_place && overlap(send, bytes, recv, bytes * size()))
    fail("all_gather over ", describe(),
         ": the send buffer overlaps the receive buffer without being this rank's block");
}

void Communicator::reduce_scatter(const void *send, void *recv, int64_t recv_count,
                                  CommElement element, CommReduction reduction) {
  check_reduce_scatter(send, recv, recv_count, element, reduction);
  ++calls_;
  if (recv_count > 0)
    do_reduce_scatter(send, recv, recv_count, element, reduction);
}

void Communicator::check_reduce_scatter(const void *send, const void *recv, int64_t recv_count,
                                        CommElement element, CommReduction reduction) const {
  if (recv_count < 0)
    fail("reduce_scatter over ", describe(), ": negative count ", recv_count);
  if (element == CommElement::u8)
    fail("reduce_scatter over ", describe(), ": cannot take the ", reduction_name(reduction),
         " of raw bytes (u8)");
  const int64_t bytes = recv_count * static_cast<int64_t>(element_bytes(element));
  if (bytes > 0 && (!send || !recv))
    fail("reduce_scatter over ", describe(), ": null buffer for ", recv_count, " elements");
  const void *in_place = static_cast<const unsigned char *>(send) + rank() * bytes;
  if (recv != in_place && overlap(send, bytes * size(), recv, bytes))
    fail("reduce_scatter over ", describe(),
         ": the receive buffer overlaps the send buffer without being this rank's block");
}

void Communicator::all_to_all(const void *send, void *recv, int64_t block_count,
                              CommElement element) {
  if (block_count < 0)
    fail("all_to_all over ", describe(), ": negative count ", block_count);
  const int64_t bytes = block_count * static_cast<int64_t>(element_bytes(element)) * size();
  if (bytes > 0 && (!send || !recv))
    fail("all_to_all over ", describe(), ": null buffer for ", block_count, " elements");
  if (overlap(send, bytes, recv, bytes))
    fail("all_to_all over ", describe(), ": the send and receive buffers overlap");
  ++calls_;
  if (block_count > 0)
    do_all_to_all(send, recv, block_count, element);
}

void Communicator::broadcast(void *data, int64_t count, int root, CommElement element) {
  if (count < 0)
    fail("broadcast over ", describe(), ": negative count ", count);
  if (root < 0 || root >= size())
    fail("broadcast over ", describe(), ": root ", root, " is not a rank of the group (0..",
         size() - 1, ")");
  if (count > 0 && !data)
    fail("broadcast over ", describe(), ": null buffer for ", count, " elements");
  ++calls_;
  if (count > 0)
    do_broadcast(data, count, root, element);
}

// The non-blocking forms check their arguments as the blocking ones do
// (the same messages), then hand over to the implementation.

Communicator::Request Communicator::all_reduce_start(void *data, int64_t count, CommElement element,
                                                     CommReduction reduction) {
  check_all_reduce(data, count, element, reduction);
  ++calls_;
  return count > 0 ? do_all_reduce_start(data, count, element, reduction) : kFinishedRequest;
}

Communicator::Request Communicator::all_gather_start(const void *send, void *recv,
                                                     int64_t send_count, CommElement element) {
  check_all_gather(send, recv, send_count, element);
  ++calls_;
  return send_count > 0 ? do_all_gather_start(send, recv, send_count, element) : kFinishedRequest;
}

Communicator::Request Communicator::reduce_scatter_start(const void *send, void *recv,
                                                         int64_t recv_count, CommElement element,
                                                         CommReduction reduction) {
  check_reduce_scatter(send, recv, recv_count, element, reduction);
  ++calls_;
  return recv_count > 0 ? do_reduce_scatter_start(send, recv, recv_count, element, reduction)
                        : kFinishedRequest;
}

void Communicator::wait_collective(Request request) {
  if (request != kFinishedRequest)
    do_wait_collective(request);
}

Communicator::Request Communicator::do_all_reduce_start(void *data, int64_t count,
                                                        CommElement element,
                                                        CommReduction reduction) {
  do_all_reduce(data, count, element, reduction);
  return kFinishedRequest;
}

Communicator::Request Communicator::do_all_gather_start(const void *send, void *recv,
                                                        int64_t send_count, CommElement element) {
  do_all_gather(send, recv, send_count, element);
  return kFinishedRequest;
}

Communicator::Request Communicator::do_reduce_scatter_start(const void *send, void *recv,
                                                            int64_t recv_count, CommElement element,
                                                            CommReduction reduction) {
  do_reduce_scatter(send, recv, recv_count, element, reduction);
  return kFinishedRequest;
}

void Communicator::do_wait_collective(Request) {}

void Communicator::barrier() {
  ++calls_;
  do_barrier();
}

namespace {

/// Checks a transfer's arguments; `op` is "send" or "recv".
void check_transfer(const Communicator &comm, const char *op, const void *data, int64_t bytes,
                    int peer, int64_t tag) {
  if (peer < 0 || peer >= comm.size())
    fail(op, " over ", comm.describe(), ": peer ", peer, " is not a rank of the group (0..",
         comm.size() - 1, ")");
  if (bytes < 0)
    fail(op, " over ", comm.describe(), ": negative size ", bytes, " bytes");
  if (bytes > 0 && !data)
    fail(op, " over ", comm.describe(), ": null buffer for ", bytes, " bytes");
  if (tag < 0)
    fail(op, " over ", comm.describe(), ": negative tag ", tag);
}

} // namespace

int64_t Communicator::send_start(const void *data, int64_t bytes, int peer, int64_t tag) {
  check_transfer(*this, "send", data, bytes, peer, tag);
  return do_send_start(data, bytes, peer, tag);
}

int64_t Communicator::recv_start(void *data, int64_t bytes, int peer, int64_t tag) {
  check_transfer(*this, "recv", data, bytes, peer, tag);
  return do_recv_start(data, bytes, peer, tag);
}

void Communicator::wait_transfer(int64_t request) { do_wait_transfer(request); }

int64_t Communicator::do_send_start(const void *, int64_t, int, int64_t) {
  fail(describe(), " (", backend(), ") has no point-to-point transfers");
}

int64_t Communicator::do_recv_start(void *, int64_t, int, int64_t) {
  fail(describe(), " (", backend(), ") has no point-to-point transfers");
}

void Communicator::do_wait_transfer(int64_t) {
  fail(describe(), " (", backend(), ") has no point-to-point transfers");
}

void check_world_size(const Communicator &world, int expected) {
  if (world.size() == expected)
    return;
  auto ranks = [](int n) { return std::to_string(n) + (n == 1 ? " rank" : " ranks"); };
  fail("compiled for ", ranks(expected), ", launched with ", world.size(),
       ": recompile with --devices ", world.size(), " or launch mpirun -np ", expected);
}

} // namespace cleave::rt
