//===- gloo_communicator.cpp - collectives over gloo's TCP pairs ----------===//
//
// The same rounds as the MPI communicator (mpi_communicator.cpp): every
// collective is one or two rounds of "post a receive from and a send to
// each peer, then wait", on gloo's unbound buffers, so that sums add in
// group-rank order and a wait knows which peer it waits on. Sums with
// CLEAVE_REDUCTION_ORDER=library call gloo::allreduce (a ring whose order
// of addition depends on the rank); everything else takes the rounds.
//
// Slots (gloo's tags) keep messages apart: a collective's round r uses
// calls() * 4 + r (below 2^56, where gloo's own collectives' slots begin);
// point-to-point transfers use 2^63 + tag.
//
// Failure: a wait that throws (gloo signals a closed connection, or its own
// timeout, as an exception) or passes the deadline names the peer and ends
// the job (exit status kCommFailureExit). gloo's messages name an address
// ("[127.0.0.1]:41234"), which GlooJob::rank_in_message turns back into a
// rank (gloo_world.cpp); where gloo's own all-reduce timed out, naming
// nobody, GlooJob::silent_ranks asks the store who is still there.
//
//===----------------------------------------------------------------------===//
#include "gloo_job.h"
#include "rank_order.h"

#include "cleave/rt/check.h"

#include <gloo/allreduce.h>
#include <gloo/common/error.h>
#include <gloo/math.h>
#include <gloo/transport/unbound_buffer.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <unordered_map>

namespace cleave::rt {
namespace {

using Clock = std::chrono::steady_clock;
using gloo::transport::UnboundBuffer;

constexpr uint64_t kTransferSlot = uint64_t(1) << 63;

void copy(void *dst, const void *src, int64_t bytes) {
  if (bytes > 0 && dst != src)
    std::memcpy(dst, src, static_cast<size_t>(bytes));
}

class GlooCommunicator final : public Communicator {
public:
  GlooCommunicator(std::shared_ptr<GlooJob> job, std::shared_ptr<gloo::Context> context,
                   std::vector<int> world_ranks, std::string name, std::string prefix)
      : Communicator(context->rank, std::move(world_ranks), std::move(name)), job_(std::move(job)),
        context_(std::move(context)), prefix_(std::move(prefix)) {}

  ~GlooCommunicator() override {
    transfers_.clear();
    context_.reset();
  }

  bool is_host() const override { return true; }
  const char *backend() const override { return "gloo"; }

  std::unique_ptr<Communicator> split(int color, int key, const std::string &name) override {
    if (color < 0)
      fail("split of ", describe(), ": negative color ", color);
    // Every member learns every (color, key) and derives the same groups.
    int64_t mine[2] = {color, key};
    std::vector<int64_t> all(2 * static_cast<size_t>(size()));
    all_gather(mine, all.data(), 2);
    std::vector<int> members; // group ranks with this color, by (key, rank)
    for (int p = 0; p < size(); ++p)
      if (all[2 * p] == color)
        members.push_back(p);
    std::stable_sort(members.begin(), members.end(),
                     [&](int a, int b) { return all[2 * a + 1] < all[2 * b + 1]; });
    std::vector<int> world;
    int child_rank = 0;
    for (size_t i = 0; i < members.size(); ++i) {
      world.push_back(world_ranks()[members[i]]);
      if (members[i] == rank())
        child_rank = static_cast<int>(i);
    }
    std::string prefix = prefix_ + "/" + std::to_string(splits_++) + "." + std::to_string(color);
    auto context = job_->connect(prefix, child_rank, static_cast<int>(members.size()));
    auto child = std::make_unique<GlooCommunicator>(job_, std::move(context), world, name, prefix);
    // A message each way on every pair first, so that every connection is
    // open before its addresses are published.
    child->barrier();
    job_->learn_addresses(prefix, child_rank, world);
    return child;
  }

  [[noreturn]] void abort_job(int exit_status) override { job_->exit_now(exit_status); }

protected:
  void do_all_reduce(void *data, int64_t count, CommElement element,
                     CommReduction reduction) override {
    begin("all_reduce", element);
    if (reduction == CommReduction::sum &&
        job_->options.reduction_order == CommOptions::ReductionOrder::library) {
      library_sum(data, count, element);
      return;
    }
    const int n = size(), me = rank();
    const auto buffer = ReduceChunkBytes::of(data, count, n, element);
    const int64_t mine = buffer.bytes(me);
    unsigned char *blocks = scratch(mine * n);
    for (int p = 0; p < n; ++p)
      if (p != me) {
        post(true, blocks + p * mine, mine, p, 0);
        post(false, buffer.at(p), buffer.bytes(p), p, 0);
      }
    copy(blocks + me * mine, buffer.at(me), mine);
    wait();
    rank_order::reduce(buffer.at(me), blocks, n, buffer.chunks.size(me), buffer.chunks.size(me),
                       element, reduction);
    for (int p = 0; p < n; ++p)
      if (p != me) {
        post(true, buffer.at(p), buffer.bytes(p), p, 1);
        post(false, buffer.at(me), mine, p, 1);
      }
    wait();
  }

  void do_all_gather(const void *send, void *recv, int64_t send_count,
                     CommElement element) override {
    const int64_t block = send_count * static_cast<int64_t>(element_bytes(element));
    auto *out = static_cast<unsigned char *>(recv);
    begin("all_gather", element);
    post_blocks(out, block, send, 0, block);
    copy(out + rank() * block, send, block);
    wait();
  }

  void do_reduce_scatter(const void *send, void *recv, int64_t recv_count, CommElement element,
                         CommReduction reduction) override {
    const int n = size(), me = rank();
    const int64_t block = recv_count * static_cast<int64_t>(element_bytes(element));
    const auto *in = static_cast<const unsigned char *>(send);
    unsigned char *blocks = scratch(block * n);
    begin("reduce_scatter", element);
    post_blocks(blocks, block, in, block, block);
    copy(blocks + me * block, in + me * block, block);
    wait();
    rank_order::reduce(recv, blocks, n, recv_count, recv_count, element, reduction);
  }

  void do_all_to_all(const void *send, void *recv, int64_t block_count,
                     CommElement element) override {
    const int64_t block = block_count * static_cast<int64_t>(element_bytes(element));
    const auto *in = static_cast<const unsigned char *>(send);
    auto *out = static_cast<unsigned char *>(recv);
    begin("all_to_all", element);
    post_blocks(out, block, in, block, block);
    copy(out + rank() * block, in + rank() * block, block);
    wait();
  }

  void do_broadcast(void *data, int64_t count, int root, CommElement element) override {
    const int64_t bytes = count * static_cast<int64_t>(element_bytes(element));
    begin("broadcast", element);
    if (rank() == root) {
      for (int p = 0; p < size(); ++p)
        if (p != root)
          post(false, data, bytes, p, 0);
    } else {
      post(true, data, bytes, root, 0);
    }
    wait();
  }

  void do_barrier() override {
    begin("barrier", CommElement::u8);
    // One byte each way (gloo sends no empty messages).
    std::vector<unsigned char> tokens(static_cast<size_t>(size()));
    post_blocks(tokens.data(), 1, tokens.data() + rank(), 0, 1);
    wait();
  }

  int64_t do_send_start(const void *data, int64_t bytes, int peer, int64_t tag) override {
    return start_transfer(false, const_cast<void *>(data), bytes, peer, tag);
  }

  int64_t do_recv_start(void *data, int64_t bytes, int peer, int64_t tag) override {
    return start_transfer(true, data, bytes, peer, tag);
  }

  void do_wait_transfer(int64_t request) override {
    auto it = transfers_.find(request);
    if (it == transfers_.end())
      fail("wait over ", describe(), ": request ", request,
           " was never started or was already waited on");
    Transfer &transfer = it->second;
    const Clock::time_point start = Clock::now();
    try {
      complete(*transfer.buffer, transfer.receive, start);
    } catch (const gloo::Exception &error) {
      end_job(transfer_what(transfer), transfer.peer, error.what(), start, {}, transfer.receive);
    }
    transfers_.erase(it);
  }

private:
  /// A posted message of a collective.
  struct Pending {
    std::unique_ptr<UnboundBuffer> buffer;
    int peer;
    bool receive;
  };

  /// A started point-to-point transfer.
  struct Transfer {
    std::unique_ptr<UnboundBuffer> buffer;
    std::unique_ptr<unsigned char> token; // what an empty transfer carries
    int peer;
    bool receive;
    int64_t tag;
    int64_t bytes;
  };

  void begin(const char *op, CommElement element) {
    op_ = op;
    element_ = element;
  }

  unsigned char *scratch(int64_t bytes) {
    if (scratch_.size() < static_cast<size_t>(bytes))
      scratch_.resize(static_cast<size_t>(bytes));
    return scratch_.data();
  }

  /// Round `round` of the current collective: its slot, the same on every
  /// rank of the group.
  uint64_t slot(int round) const { return static_cast<uint64_t>(calls()) * 4 + round; }

  /// Posts one message (none when it is empty: both sides know its size).
  void post(bool receive, const void *data, int64_t bytes, int peer, int round) {
    if (bytes == 0)
      return;
    auto buffer =
        context_->createUnboundBuffer(const_cast<void *>(data), static_cast<size_t>(bytes));
    try {
      if (receive)
        buffer->recv(peer, slot(round));
      else
        buffer->send(peer, slot(round));
    } catch (const gloo::Exception &error) {
      end_job(what(), peer, error.what(), Clock::now());
    }
    pending_.push_back({std::move(buffer), peer, receive});
  }

  void post_blocks(void *recv, int64_t recv_step, const void *send, int64_t send_step,
                   int64_t bytes) {
    auto *out = static_cast<unsigned char *>(recv);
    const auto *in = static_cast<const unsigned char *>(send);
    for (int p = 0; p < size(); ++p)
      if (p != rank()) {
        post(true, out + p * recv_step, bytes, p, 0);
        post(false, in + p * send_step, bytes, p, 0);
      }
  }

  /// Waits for one buffer's message until the deadline; a timeout is
  /// reported as gloo reports it (an exception).
  void complete(UnboundBuffer &buffer, bool receive, Clock::time_point start) {
    const double limit = job_->options.timeout_s;
    auto remaining = std::chrono::milliseconds(std::chrono::hours(24 * 365));
    if (limit > 0) {
      auto deadline =
          start + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(limit));
      remaining =
          std::max(std::chrono::milliseconds(1),
                   std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()));
    }
    bool done = receive ? buffer.waitRecv(remaining) : buffer.waitSend(remaining);
    if (!done)
      throw gloo::IoException("the wait was aborted");
  }

  /// Receives first: a lost peer shows up there, while a send may still
  /// sit in the socket's buffer.
  void wait() {
    const Clock::time_point start = Clock::now();
    for (bool receives : {true, false})
      for (Pending &pending : pending_)
        if (pending.receive == receives) {
          try {
            complete(*pending.buffer, pending.receive, start);
          } catch (const gloo::Exception &error) {
            end_job(what(), pending.peer, error.what(), start, {}, pending.receive);
          }
        }
    pending_.clear();
  }

  int64_t start_transfer(bool receive, void *data, int64_t bytes, int peer, int64_t tag) {
    Transfer transfer{{}, {}, peer, receive, tag, bytes};
    if (bytes == 0) {
      transfer.token = std::make_unique<unsigned char>(0);
      data = transfer.token.get();
    }
    transfer.buffer = context_->createUnboundBuffer(data, static_cast<size_t>(bytes ? bytes : 1));
    try {
      if (receive)
        transfer.buffer->recv(peer, kTransferSlot + static_cast<uint64_t>(tag));
      else
        transfer.buffer->send(peer, kTransferSlot + static_cast<uint64_t>(tag));
    } catch (const gloo::Exception &error) {
      end_job(transfer_what(transfer), peer, error.what(), Clock::now());
    }
    const int64_t request = next_request_++;
    transfers_.emplace(request, std::move(transfer));
    return request;
  }

  void library_sum(void *data, int64_t count, CommElement element) {
    gloo::AllreduceOptions options(context_);
    if (element == CommElement::f32) {
      options.setOutput(static_cast<float *>(data), static_cast<size_t>(count));
      options.setReduceFunction(
          static_cast<void (*)(void *, const void *, const void *, size_t)>(&gloo::sum<float>));
    } else {
      options.setOutput(static_cast<int64_t *>(data), static_cast<size_t>(count));
      options.setReduceFunction(
          static_cast<void (*)(void *, const void *, const void *, size_t)>(&gloo::sum<int64_t>));
    }
    options.setTag(static_cast<uint32_t>(calls()));
    if (job_->options.timeout_s > 0)
      options.setTimeout(
          std::chrono::milliseconds(static_cast<int64_t>(job_->options.timeout_s * 1000)));
    const Clock::time_point start = Clock::now();
    try {
      gloo::allreduce(options);
    } catch (const gloo::Exception &error) {
      if (!timed_out(start) || job_->rank_in_message(error.what()) >= 0)
        end_job(what(), -1, error.what(), start);
      // gloo's timeout names nobody: ask who else is still there.
      std::vector<int> silent =
          job_->silent_ranks(prefix_ + "/" + std::to_string(calls()), rank(), world_ranks());
      end_job(what(), silent.empty() ? -1 : silent.front(), error.what(), start, silent);
    }
  }

  /// "rank 0: all_reduce (f32, call 12) over group 'dp' (ranks 0,2)".
  std::string what() const {
    return "rank " + std::to_string(job_->rank) + ": " + op_ + " (" + element_name(element_) +
           ", call " + std::to_string(calls()) + ") over " + describe();
  }

  std::string transfer_what(const Transfer &transfer) const {
    return "rank " + std::to_string(job_->rank) + ": " + (transfer.receive ? "recv" : "send") +
           " of " + std::to_string(transfer.bytes) + " bytes (tag " + std::to_string(transfer.tag) +
           ") " + (transfer.receive ? "from" : "to") + " rank " +
           std::to_string(world_ranks()[transfer.peer]) + " over " + describe();
  }

  bool timed_out(Clock::time_point start) const {
    const double limit = job_->options.timeout_s;
    return limit > 0 && std::chrono::duration<double>(Clock::now() - start).count() >= limit * 0.99;
  }

  /// "rank 2", "ranks 1, 3".
  static std::string rank_list(const std::vector<int> &ranks) {
    std::string text = ranks.size() == 1 ? "rank " : "ranks ";
    for (size_t i = 0; i < ranks.size(); ++i)
      text += (i ? ", " : "") + std::to_string(ranks[i]);
    return text;
  }

  /// Ends the job after a failed wait on `peer` (a group rank; -1: gloo's
  /// own collective, whose message alone names the peer; `silent`: the
  /// world ranks silent_ranks found, where it was asked). `receive`: the
  /// wait was for data from the peer rather than for it to take ours.
  [[noreturn]] void end_job(const std::string &what, int peer, const std::string &detail,
                            Clock::time_point start, std::vector<int> silent = {},
                            bool receive = true) {
    const double waited = std::chrono::duration<double>(Clock::now() - start).count();
    const double limit = job_->options.timeout_s;
    int lost = job_->rank_in_message(detail);
    if (lost < 0 && peer >= 0)
      lost = world_ranks()[peer];
    if (lost < 0 && size() == 2)
      lost = world_ranks()[1 - rank()];
    if (silent.empty() && lost >= 0)
      silent.push_back(lost);
    std::string message = what + ": ";
    if (timed_out(start)) {
      char times[96];
      std::snprintf(times, sizeof times, " after %.3g s (timeout %g s, CLEAVE_COMM_TIMEOUT)",
                    waited, limit);
      if (silent.empty())
        message += "no data";
      else if (receive)
        message += "no data from " + rank_list(silent);
      else
        message += rank_list(silent) + " did not take its data";
      message += std::string(times) + ": it died, stopped, or is itself waiting on a lost rank";
    } else {
      message += (lost >= 0 ? "lost rank " + std::to_string(lost) : "lost a peer") +
                 " (its connection closed: it died or ended the job): " + detail;
    }
    job_->end_job(message + "; ending the job");
  }

  std::shared_ptr<GlooJob> job_;
  std::shared_ptr<gloo::Context> context_;
  std::string prefix_;
  int splits_ = 0;
  std::vector<Pending> pending_;
  std::vector<unsigned char> scratch_;
  std::unordered_map<int64_t, Transfer> transfers_;
  int64_t next_request_ = 0;
  const char *op_ = "";
  CommElement element_ = CommElement::u8;
};

} // namespace

std::unique_ptr<Communicator> make_gloo_communicator(std::shared_ptr<GlooJob> job,
                                                     std::shared_ptr<gloo::Context> context,
                                                     std::vector<int> world_ranks,
                                                     const std::string &name,
                                                     const std::string &prefix) {
  return std::make_unique<GlooCommunicator>(std::move(job), std::move(context),
                                            std::move(world_ranks), name, prefix);
}

} // namespace cleave::rt
