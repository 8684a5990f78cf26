//===- mpi_communicator.cpp - collectives on MPI ---------------------------===//
//
// Sums under CommOptions::ReductionOrder::library (the default) are MPI's
// own non-blocking collectives (MPI_Iallreduce, MPI_Ireduce_scatter_block,
// MPI_Iallgather) on a duplicate of the group's communicator, polled with
// MPI_Testall against the timeout like the rounds below; a message longer
// than max_message_bytes goes as several collectives over pieces of it
// (packed through scratch where a piece is not contiguous). MPI cannot say
// which rank never arrived in its own collective: a timeout says so.
//
// Every other collective (all under ReductionOrder::rank; max and min
// always; all_to_all, broadcast, barrier) is one or two rounds of "post a
// receive from and a send to each peer, then wait" (exchange below). Rounds:
//   all_reduce:     reduce_scatter of chunk p to rank p, combined (sum,
//                   max, min) in rank order, then all_gather of the chunks;
//   reduce_scatter: block p to rank p, combined in rank order;
//   all_gather, all_to_all: one round; broadcast: root to each rank.
// Waiting polls MPI_Testsome with a deadline instead of blocking in
// MPI_Waitall: on timeout the unfinished receives name the peers that
// never sent, and the job ends with that message (comm.h, "Failure").
//
// Collectives run in start order on the process's OrderedWorker (a thread
// when MPI gives MPI_THREAD_MULTIPLE): *_start queues one and returns, so
// it progresses beside the caller's compute; the blocking calls go through
// the same queue (the same code, so the same bits as start + wait).
//
// Point-to-point transfers (pipeline stages) are MPI_Isend/MPI_Irecv on a
// duplicate of the group's communicator, so that their user tags can never
// match a collective's messages (which number their tags by call), waited
// on the same way. A message longer than max_message_bytes goes in pieces
// under the same tag: MPI's non-overtaking rule matches the pieces of
// successive messages between two ranks in the order they were posted.
//
//===----------------------------------------------------------------------===//
#include "cleave/rt/check.h"
#include "cleave/rt/mpi_comm.h"
#include "mpi_library_collectives.h"
#include "ordered_worker.h"
#include "rank_order.h"

#include <mpi.h>

#include <algorithm>
#include <chrono>
#include <climits>
#include <cstdio>
#include <cstring>
#include <thread>
#include <unistd.h>
#include <unordered_map>

namespace cleave::rt {
namespace {

using Clock = std::chrono::steady_clock;

/// How long MPI_Abort may take before the process leaves on its own.
constexpr auto kAbortFallback = std::chrono::seconds(10);

std::string mpi_error_string(int code) {
  char text[MPI_MAX_ERROR_STRING];
  int length = 0;
  if (MPI_Error_string(code, text, &length) != MPI_SUCCESS)
    return "MPI error " + std::to_string(code);
  return std::string(text, static_cast<size_t>(length));
}

int world_rank() {
  int rank = 0;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  return rank;
}

/// "rank 2", "ranks 1, 3".
std::string rank_list(const std::vector<int> &ranks) {
  std::string text = ranks.size() == 1 ? "rank " : "ranks ";
  for (size_t i = 0; i < ranks.size(); ++i)
    text += (i ? ", " : "") + std::to_string(ranks[i]);
  return text;
}

/// memcpy that accepts the null pointers of empty buffers.
void copy(void *dst, const void *src, int64_t bytes) {
  if (bytes > 0 && dst != src)
    std::memcpy(dst, src, static_cast<size_t>(bytes));
}

/// Between two polls of a wait: spin briefly for small, fast messages;
/// then give the core away: ranks are often oversubscribed (several per
/// core in tests).
void pause_between_polls(int64_t polls, double waited) {
  if (polls < 64)
    return;
  if (waited < 1e-3)
    std::this_thread::yield();
  else
    std::this_thread::sleep_for(std::chrono::microseconds(waited < 0.1 ? 20 : 200));
}

/// The largest tag MPI carries (at least 32767 by the standard).
int64_t mpi_tag_upper_bound() {
  void *value = nullptr;
  int found = 0;
  MPI_Comm_get_attr(MPI_COMM_WORLD, MPI_TAG_UB, &value, &found);
  return found && value ? *static_cast<int *>(value) : 32767;
}

[[noreturn]] void abort_world(int exit_status) {
  std::fflush(stdout);
  std::fflush(stderr);
  // MPI_Abort goes through the launcher, which could itself be gone.
  std::thread([exit_status] {
    std::this_thread::sleep_for(kAbortFallback);
    _exit(exit_status);
  }).detach();
  MPI_Abort(MPI_COMM_WORLD, exit_status);
  _exit(exit_status);
}

class MpiCommunicator final : public Communicator {
public:
  MpiCommunicator(MPI_Comm comm, int rank, std::vector<int> world_ranks, std::string name,
                  const CommOptions &options, bool finalize, std::shared_ptr<OrderedWorker> worker)
      : Communicator(rank, std::move(world_ranks), std::move(name)), comm_(comm), options_(options),
        finalize_(finalize),
        piece_bytes_(std::clamp<int64_t>(options.max_message_bytes, 1, INT_MAX)),
        worker_(std::move(worker)) {
    MPI_Comm_set_errhandler(comm_, MPI_ERRORS_RETURN);
    // Collective, like the constructor's callers (mpi_world, split).
    check_mpi(MPI_Comm_dup(comm_, &transfer_comm_), "point-to-point setup");
    MPI_Comm_set_errhandler(transfer_comm_, MPI_ERRORS_RETURN);
    check_mpi(MPI_Comm_dup(comm_, &library_comm_), "library collectives setup");
    MPI_Comm_set_errhandler(library_comm_, MPI_ERRORS_RETURN);
  }

  ~MpiCommunicator() override {
    int finalized = 0;
    MPI_Finalized(&finalized);
    if (finalized)
      return;
    // Collectives still queued use these communicators.
    worker_->drain();
    MPI_Comm_free(&library_comm_);
    MPI_Comm_free(&transfer_comm_);
    MPI_Comm_free(&comm_);
    if (finalize_) {
      worker_->stop(); // no thread may call MPI after MPI_Finalize
      MPI_Finalize();
    }
  }

  bool is_host() const override { return true; }
  const char *backend() const override { return "mpi"; }

  std::unique_ptr<Communicator> split(int color, int key, const std::string &name) override {
    if (color < 0)
      fail("split of ", describe(), ": negative color ", color);
    MPI_Comm child;
    // In the queue: MPI_Comm_split is a collective on comm_, ordered after
    // the collectives started on it before.
    worker_->run([&] { check_mpi(MPI_Comm_split(comm_, color, key, &child), "split"); });
    int rank = 0, size = 0;
    MPI_Comm_rank(child, &rank);
    MPI_Comm_size(child, &size);
    // World ranks of the child's members, through this group's ranks.
    std::vector<int> child_ranks(size), parent_ranks(size);
    for (int i = 0; i < size; ++i)
      child_ranks[i] = i;
    MPI_Group child_group, parent_group;
    MPI_Comm_group(child, &child_group);
    MPI_Comm_group(comm_, &parent_group);
    MPI_Group_translate_ranks(child_group, size, child_ranks.data(), parent_group,
                              parent_ranks.data());
    MPI_Group_free(&child_group);
    MPI_Group_free(&parent_group);
    std::vector<int> world(size);
    for (int i = 0; i < size; ++i)
      world[i] = world_ranks()[parent_ranks[i]];
    std::unique_ptr<Communicator> made;
    worker_->run([&] {
      made = std::make_unique<MpiCommunicator>(child, rank, std::move(world), name, options_, false,
                                               worker_);
    });
    return made;
  }

  [[noreturn]] void abort_job(int exit_status) override { abort_world(exit_status); }

protected:
  // Each collective is a task for the worker: run() for the blocking call,
  // submit() for the start. The task keeps the call number of its start
  // (its tag and its messages' "call N").

  void do_all_reduce(void *data, int64_t count, CommElement element,
                     CommReduction reduction) override {
    worker_->run(all_reduce_task(data, count, element, reduction));
  }
  Request do_all_reduce_start(void *data, int64_t count, CommElement element,
                              CommReduction reduction) override {
    return worker_->submit(all_reduce_task(data, count, element, reduction));
  }
  void do_all_gather(const void *send, void *recv, int64_t send_count,
                     CommElement element) override {
    worker_->run(all_gather_task(send, recv, send_count, element));
  }
  Request do_all_gather_start(const void *send, void *recv, int64_t send_count,
                              CommElement element) override {
    return worker_->submit(all_gather_task(send, recv, send_count, element));
  }
  void do_reduce_scatter(const void *send, void *recv, int64_t recv_count, CommElement element,
                         CommReduction reduction) override {
    worker_->run(reduce_scatter_task(send, recv, recv_count, element, reduction));
  }
  Request do_reduce_scatter_start(const void *send, void *recv, int64_t recv_count,
                                  CommElement element, CommReduction reduction) override {
    return worker_->submit(reduce_scatter_task(send, recv, recv_count, element, reduction));
  }
  void do_wait_collective(Request request) override {
    worker_->wait(request, "wait_collective over " + describe());
  }

  void do_all_to_all(const void *send, void *recv, int64_t block_count,
                     CommElement element) override {
    const int64_t call = calls();
    worker_->run([=] { all_to_all_rounds(send, recv, block_count, element, call); });
  }

  void do_broadcast(void *data, int64_t count, int root, CommElement element) override {
    const int64_t call = calls();
    worker_->run([=] { broadcast_rounds(data, count, root, element, call); });
  }

  void do_barrier() override {
    const int64_t call = calls();
    worker_->run([=] {
      begin("barrier", CommElement::u8, call);
      post_blocks(nullptr, 0, nullptr, 0, 0);
      wait();
    });
  }

private:
  /// Sums of the library's collective (ReductionOrder::library).
  bool library_order(CommReduction reduction) const {
    return reduction == CommReduction::sum &&
           options_.reduction_order == CommOptions::ReductionOrder::library;
  }

  std::function<void()> all_reduce_task(void *data, int64_t count, CommElement element,
                                        CommReduction reduction) {
    const int64_t call = calls();
    return [=] {
      begin("all_reduce", element, call);
      if (library_order(reduction))
        wait_library(post_library_all_reduce(library_comm_, data, count, element, piece_bytes_,
                                             library_requests_));
      else
        all_reduce_rounds(data, count, element, reduction);
    };
  }

  std::function<void()> all_gather_task(const void *send, void *recv, int64_t send_count,
                                        CommElement element) {
    const int64_t call = calls();
    return [=] {
      begin("all_gather", element, call);
      const int64_t block = send_count * static_cast<int64_t>(element_bytes(element));
      // Only bytes move: the library's gather and the round give the same.
      if (options_.reduction_order != CommOptions::ReductionOrder::library)
        return all_gather_rounds(send, recv, block);
      wait_library(post_library_all_gather(library_comm_, rank(), size(), send, recv, block,
                                           piece_bytes_, scratch_, library_requests_));
      finish_library_all_gather(size(), recv, block, piece_bytes_, scratch_);
    };
  }

  std::function<void()> reduce_scatter_task(const void *send, void *recv, int64_t recv_count,
                                            CommElement element, CommReduction reduction) {
    const int64_t call = calls();
    return [=] {
      begin("reduce_scatter", element, call);
      if (library_order(reduction))
        wait_library(post_library_reduce_scatter(library_comm_, rank(), size(), send, recv,
                                                 recv_count, element, piece_bytes_, scratch_,
                                                 library_requests_));
      else
        reduce_scatter_rounds(send, recv, recv_count, element, reduction);
    };
  }

  void all_reduce_rounds(void *data, int64_t count, CommElement element, CommReduction reduction) {
    const int n = size(), me = rank();
    const auto buffer = ReduceChunkBytes::of(data, count, n, element);
    const int64_t mine = buffer.bytes(me);
    unsigned char *blocks = scratch(mine * n);
    for (int p = 0; p < n; ++p)
      if (p != me) {
        post_receive(blocks + p * mine, mine, p);
        post_send(buffer.at(p), buffer.bytes(p), p);
      }
    copy(blocks + me * mine, buffer.at(me), mine);
    wait();
    rank_order::reduce(buffer.at(me), blocks, n, buffer.chunks.size(me), buffer.chunks.size(me),
                       element, reduction);
    for (int p = 0; p < n; ++p)
      if (p != me) {
        post_receive(buffer.at(p), buffer.bytes(p), p);
        post_send(buffer.at(me), mine, p);
      }
    wait();
  }

  void all_gather_rounds(const void *send, void *recv, int64_t block) {
    const int me = rank();
    auto *out = static_cast<unsigned char *>(recv);
    post_blocks(out, block, send, 0, block);
    copy(out + me * block, send, block);
    wait();
  }

  void reduce_scatter_rounds(const void *send, void *recv, int64_t recv_count, CommElement element,
                             CommReduction reduction) {
    const int n = size(), me = rank();
    const int64_t block = recv_count * static_cast<int64_t>(element_bytes(element));
    const auto *in = static_cast<const unsigned char *>(send);
    unsigned char *blocks = scratch(block * n);
    post_blocks(blocks, block, in, block, block);
    // Copied before any write to recv, which may be this very block.
    copy(blocks + me * block, in + me * block, block);
    wait();
    rank_order::reduce(recv, blocks, n, recv_count, recv_count, element, reduction);
  }

  void all_to_all_rounds(const void *send, void *recv, int64_t block_count, CommElement element,
                         int64_t call) {
    const int me = rank();
    const int64_t block = block_count * static_cast<int64_t>(element_bytes(element));
    const auto *in = static_cast<const unsigned char *>(send);
    auto *out = static_cast<unsigned char *>(recv);
    begin("all_to_all", element, call);
    post_blocks(out, block, in, block, block);
    copy(out + me * block, in + me * block, block);
    wait();
  }

  void broadcast_rounds(void *data, int64_t count, int root, CommElement element, int64_t call) {
    const int64_t bytes = count * static_cast<int64_t>(element_bytes(element));
    begin("broadcast", element, call);
    if (rank() == root) {
      for (int p = 0; p < size(); ++p)
        if (p != root)
          post_send(data, bytes, p);
    } else {
      post_receive(data, bytes, root);
    }
    wait();
  }

protected:
  int64_t do_send_start(const void *data, int64_t bytes, int peer, int64_t tag) override {
    const auto *p = static_cast<const unsigned char *>(data);
    return start_transfer(false, bytes, peer, tag, [&](int64_t offset, int piece, MPI_Request *r) {
      return MPI_Isend(p ? p + offset : nullptr, piece, MPI_BYTE, peer, static_cast<int>(tag),
                       transfer_comm_, r);
    });
  }

  int64_t do_recv_start(void *data, int64_t bytes, int peer, int64_t tag) override {
    auto *p = static_cast<unsigned char *>(data);
    return start_transfer(true, bytes, peer, tag, [&](int64_t offset, int piece, MPI_Request *r) {
      return MPI_Irecv(p ? p + offset : nullptr, piece, MPI_BYTE, peer, static_cast<int>(tag),
                       transfer_comm_, r);
    });
  }

  void do_wait_transfer(int64_t request) override {
    auto it = transfers_.find(request);
    if (it == transfers_.end())
      fail("wait over ", describe(), ": request ", request,
           " was never started or was already waited on");
    Transfer &transfer = it->second;
    const Clock::time_point start = Clock::now();
    for (int64_t polls = 0;; ++polls) {
      int done = 0;
      const int rc = MPI_Testall(static_cast<int>(transfer.pieces.size()), transfer.pieces.data(),
                                 &done, MPI_STATUSES_IGNORE);
      if (rc != MPI_SUCCESS)
        end_job(transfer_what(transfer) + ": lost rank " +
                std::to_string(world_ranks()[transfer.peer]) + ": " + mpi_error_string(rc) +
                "; ending the job");
      if (done)
        break;
      const double waited = std::chrono::duration<double>(Clock::now() - start).count();
      if (options_.timeout_s > 0 && waited > options_.timeout_s)
        report_transfer_timeout(transfer, waited);
      pause_between_polls(polls, waited);
    }
    transfers_.erase(it);
  }

private:
  /// Polls the library collectives just posted (`posted`: MPI's error
  /// code from posting them) like wait() polls the rounds.
  void wait_library(int posted) {
    check_mpi(posted, op_);
    const Clock::time_point start = Clock::now();
    for (int64_t polls = 0;; ++polls) {
      int done = 0;
      const int rc = MPI_Testall(static_cast<int>(library_requests_.size()),
                                 library_requests_.data(), &done, MPI_STATUSES_IGNORE);
      if (rc != MPI_SUCCESS)
        end_job(what() + " (MPI's own): " + mpi_error_string(rc) + "; ending the job");
      if (done)
        break;
      const double waited = std::chrono::duration<double>(Clock::now() - start).count();
      if (options_.timeout_s > 0 && waited > options_.timeout_s) {
        char times[96];
        std::snprintf(times, sizeof times, " after %.3g s (timeout %g s, CLEAVE_COMM_TIMEOUT)",
                      waited, options_.timeout_s);
        // In a group of two the missing rank can only be the other one
        // (a pipeline's loss sum over pp, a dp pair): name it as the
        // rounds do.
        if (size() == 2)
          end_job(what() + ": no data from rank " + std::to_string(world_ranks()[1 - rank()]) +
                  times + " in MPI's own " + op_ +
                  ": it died, stopped, or is itself waiting on a lost rank; ending the job");
        end_job(what() + ": MPI's own " + op_ + " did not finish" + times +
                ": a rank of the group did not arrive (it died, stopped, or is itself waiting on "
                "a lost rank; MPI's collectives cannot say which: CLEAVE_REDUCTION_ORDER=rank "
                "names it); ending the job");
      }
      pause_between_polls(polls, waited);
    }
    library_requests_.clear();
  }

  /// A posted message: the peer it goes to or comes from.
  struct Pending {
    MPI_Request request;
    int peer;
    bool receive;
  };

  void begin(const char *op, CommElement element, int64_t call) {
    op_ = op;
    element_ = element;
    call_ = call;
    // The same on every rank (calls() counts collectives on this group),
    // which keeps one collective's messages apart from the next one's.
    tag_ = static_cast<int>(call % 32768);
  }

  unsigned char *scratch(int64_t bytes) {
    if (scratch_.size() < static_cast<size_t>(bytes))
      scratch_.resize(static_cast<size_t>(bytes));
    return scratch_.data();
  }

  void post_send(const void *data, int64_t bytes, int peer) {
    const auto *p = static_cast<const unsigned char *>(data);
    post_pieces(bytes, peer, false, [&](int64_t offset, int piece, MPI_Request *request) {
      return MPI_Isend(p ? p + offset : nullptr, piece, MPI_BYTE, peer, tag_, comm_, request);
    });
  }

  void post_receive(void *data, int64_t bytes, int peer) {
    auto *p = static_cast<unsigned char *>(data);
    post_pieces(bytes, peer, true, [&](int64_t offset, int piece, MPI_Request *request) {
      return MPI_Irecv(p ? p + offset : nullptr, piece, MPI_BYTE, peer, tag_, comm_, request);
    });
  }

  /// Posts one message of `bytes` as pieces of at most piece_bytes_ (at
  /// least one, for an empty message): start(offset, piece, request) posts
  /// each.
  template <typename Start> void post_pieces(int64_t bytes, int peer, bool receive, Start start) {
    int64_t offset = 0;
    do {
      const int piece = static_cast<int>(std::min(bytes - offset, piece_bytes_));
      pending_.push_back({MPI_REQUEST_NULL, peer, receive});
      check_mpi(start(offset, piece, &pending_.back().request), op_);
      offset += piece;
    } while (offset < bytes);
  }

  /// For every other rank p, a receive of `bytes` into recv + p * recv_step
  /// and a send of `bytes` from send + p * send_step (0: one block for all).
  void post_blocks(void *recv, int64_t recv_step, const void *send, int64_t send_step,
                   int64_t bytes) {
    auto *out = static_cast<unsigned char *>(recv);
    const auto *in = static_cast<const unsigned char *>(send);
    for (int p = 0; p < size(); ++p)
      if (p != rank()) {
        post_receive(out + p * recv_step, bytes, p);
        post_send(in + p * send_step, bytes, p);
      }
  }

  void wait() {
    const size_t n = pending_.size();
    requests_.resize(n);
    for (size_t i = 0; i < n; ++i)
      requests_[i] = pending_[i].request;
    indices_.resize(n);
    statuses_.resize(n);
    const Clock::time_point start = Clock::now();
    size_t remaining = n;
    for (int64_t polls = 0; remaining > 0; ++polls) {
      int done = 0;
      const int rc = MPI_Testsome(static_cast<int>(n), requests_.data(), &done, indices_.data(),
                                  statuses_.data());
      if (rc != MPI_SUCCESS)
        report_error(rc, done);
      if (done == MPI_UNDEFINED)
        break;
      remaining -= static_cast<size_t>(done);
      if (remaining == 0)
        break;
      const double waited = std::chrono::duration<double>(Clock::now() - start).count();
      if (options_.timeout_s > 0 && waited > options_.timeout_s)
        report_timeout(waited);
      pause_between_polls(polls, waited);
    }
    pending_.clear();
  }

  /// A started point-to-point transfer: its pieces' requests.
  struct Transfer {
    std::vector<MPI_Request> pieces;
    int peer;
    bool receive;
    int64_t tag;
    int64_t bytes;
  };

  /// Posts a transfer as pieces of at most piece_bytes_ (at least one):
  /// start(offset, piece, request) posts each.
  template <typename Start>
  int64_t start_transfer(bool receive, int64_t bytes, int peer, int64_t tag, Start start) {
    Transfer transfer{{}, peer, receive, tag, bytes};
    if (tag > tag_upper_bound_)
      fail(receive ? "recv" : "send", " over ", describe(), ": tag ", tag,
           " is larger than this MPI's MPI_TAG_UB (", tag_upper_bound_,
           "): number the transfers of a step with smaller tags");
    int64_t offset = 0;
    do {
      const int piece = static_cast<int>(std::min(bytes - offset, piece_bytes_));
      transfer.pieces.push_back(MPI_REQUEST_NULL);
      const int rc = start(offset, piece, &transfer.pieces.back());
      if (rc != MPI_SUCCESS)
        end_job(transfer_what(transfer) + ": " + mpi_error_string(rc) + "; ending the job");
      offset += piece;
    } while (offset < bytes);
    const int64_t request = next_request_++;
    transfers_.emplace(request, std::move(transfer));
    return request;
  }

  /// "rank 0: recv of 4096 bytes (tag 3) from rank 1 over group 'pp' (ranks 0,1)".
  std::string transfer_what(const Transfer &transfer) const {
    return "rank " + std::to_string(world_rank()) + ": " + (transfer.receive ? "recv" : "send") +
           " of " + std::to_string(transfer.bytes) + " bytes (tag " + std::to_string(transfer.tag) +
           ") " + (transfer.receive ? "from" : "to") + " rank " +
           std::to_string(world_ranks()[transfer.peer]) + " over " + describe();
  }

  [[noreturn]] void report_transfer_timeout(const Transfer &transfer, double waited) {
    const std::string peer = "rank " + std::to_string(world_ranks()[transfer.peer]);
    char times[96];
    std::snprintf(times, sizeof times, " after %.3g s (timeout %g s, CLEAVE_COMM_TIMEOUT)", waited,
                  options_.timeout_s);
    end_job(transfer_what(transfer) + ": " +
            (transfer.receive ? "no data from " + peer : peer + " did not take its data") + times +
            ": it died, stopped, or is itself waiting on a lost rank; ending the job");
  }

  /// The start of every failure message.
  std::string what() const {
    return "rank " + std::to_string(world_rank()) + ": " + op_ + " (" + element_name(element_) +
           ", call " + std::to_string(call_) + ") over " + describe();
  }

  [[noreturn]] void report_timeout(double waited) {
    std::vector<int> silent, not_receiving;
    for (size_t i = 0; i < requests_.size(); ++i) {
      if (requests_[i] == MPI_REQUEST_NULL)
        continue;
      const int peer = world_ranks()[pending_[i].peer];
      std::vector<int> &list = pending_[i].receive ? silent : not_receiving;
      if (std::find(list.begin(), list.end(), peer) == list.end())
        list.push_back(peer);
    }
    std::string message = what() + ": ";
    if (!silent.empty())
      message += "no data from " + rank_list(silent);
    else
      message += rank_list(not_receiving) + " did not take its data";
    char times[96];
    std::snprintf(times, sizeof times, " after %.3g s (timeout %g s, CLEAVE_COMM_TIMEOUT)", waited,
                  options_.timeout_s);
    message += std::string(times) +
               ": it died, stopped, or is itself waiting on a lost rank; ending the job";
    end_job(message);
  }

  [[noreturn]] void report_error(int rc, int done) {
    std::vector<int> peers;
    std::string detail = mpi_error_string(rc);
    if (rc == MPI_ERR_IN_STATUS && done != MPI_UNDEFINED) {
      for (int i = 0; i < done; ++i) {
        const MPI_Status &status = statuses_[i];
        if (status.MPI_ERROR == MPI_SUCCESS || status.MPI_ERROR == MPI_ERR_PENDING)
          continue;
        peers.push_back(world_ranks()[pending_[indices_[i]].peer]);
        detail = mpi_error_string(status.MPI_ERROR);
      }
    }
    end_job(what() + ": " + (peers.empty() ? "" : "lost " + rank_list(peers) + ": ") + detail +
            "; ending the job");
  }

  [[noreturn]] void end_job(const std::string &message) {
    std::fflush(stdout);
    std::fprintf(stderr, "cleave: error: %s\n", message.c_str());
    std::fflush(stderr);
    // Other ranks waiting on the same lost peer time out at about the same
    // moment: a short grace lets their lines print too before the abort
    // stops everyone.
    const double grace = std::min(3.0, options_.timeout_s > 0 ? options_.timeout_s / 2 : 3.0);
    std::this_thread::sleep_for(std::chrono::duration<double>(grace));
    abort_world(kCommFailureExit);
  }

  void check_mpi(int rc, const char *op) {
    if (rc != MPI_SUCCESS) {
      op_ = op;
      end_job(what() + ": " + mpi_error_string(rc) + "; ending the job");
    }
  }

  MPI_Comm comm_;
  MPI_Comm transfer_comm_ = MPI_COMM_NULL;
  int64_t tag_upper_bound_ = mpi_tag_upper_bound();
  std::unordered_map<int64_t, Transfer> transfers_;
  int64_t next_request_ = 0;
  CommOptions options_;
  bool finalize_;
  int64_t piece_bytes_;
  std::vector<unsigned char> scratch_;
  std::vector<Pending> pending_;
  std::vector<MPI_Request> requests_;
  std::vector<int> indices_;
  std::vector<MPI_Status> statuses_;
  const char *op_ = "";
  CommElement element_ = CommElement::u8;
  int64_t call_ = 0;
  int tag_ = 0;
  MPI_Comm library_comm_ = MPI_COMM_NULL;
  std::vector<MPI_Request> library_requests_;
  std::shared_ptr<OrderedWorker> worker_;
};

} // namespace

std::unique_ptr<Communicator> mpi_world(int *argc, char ***argv, const CommOptions &options) {
  int initialized = 0;
  MPI_Initialized(&initialized);
  int provided = 0;
  if (!initialized) {
    // MULTIPLE: the collectives run on the worker thread while the step's
    // thread posts transfers.
    if (MPI_Init_thread(argc, argv, MPI_THREAD_MULTIPLE, &provided) != MPI_SUCCESS)
      fail("MPI_Init failed: start the program directly or with mpirun");
  } else {
    MPI_Query_thread(&provided);
  }
  const bool threaded = provided >= MPI_THREAD_MULTIPLE;
  if (!threaded && world_rank() == 0)
    std::fprintf(stderr,
                 "cleave: note: this MPI gives no MPI_THREAD_MULTIPLE: non-blocking collectives "
                 "run at their start, without overlap\n");
  MPI_Comm world;
  if (MPI_Comm_dup(MPI_COMM_WORLD, &world) != MPI_SUCCESS)
    fail("cannot duplicate MPI_COMM_WORLD");
  int rank = 0, size = 0;
  MPI_Comm_rank(world, &rank);
  MPI_Comm_size(world, &size);
  std::vector<int> ranks(size);
  for (int i = 0; i < size; ++i)
    ranks[i] = i;
  return std::make_unique<MpiCommunicator>(world, rank, std::move(ranks), "world", options,
                                           !initialized, std::make_shared<OrderedWorker>(threaded));
}

} // namespace cleave::rt
