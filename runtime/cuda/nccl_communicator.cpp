//===- nccl_communicator.cpp - collectives over NCCL, one rank per GPU -----===//
//
// Bootstrap as llm.c does: rank 0 of an MPI communicator makes the NCCL
// unique id, broadcasts it, and every rank joins with ncclCommInitRank.
// Groups are split on the MPI side and bootstrapped the same way, so that
// each NCCL communicator has an MPI twin over the same ranks (for barriers,
// messages and abort_job).
//
// Collectives run on the communicator's own communication stream (a
// non-blocking stream), ordered against the step's stream (the legacy
// default stream, where the kernels run) by events: a start makes the
// communication stream wait for an event recorded on the step's stream (so
// NCCL reads its input only after the kernels that write it), queues the
// NCCL calls, and records a "done" event; the wait makes the step's stream
// wait for that event, the host does not block. The compiler keeps the
// step from writing a started collective's buffers before its wait. A
// blocking collective is its start followed by its wait: the same work on
// the same stream, the same bits. Every collective of the communicator
// goes through that one stream, the blocking ones too (broadcast,
// all_to_all), so its NCCL operations run in the order they were called,
// on every rank: NCCL would deadlock on one communicator's operations
// interleaved differently on two streams.
//
// What runs, by CommOptions::reduction_order:
//   library (the default): all_reduce and reduce_scatter of sums call
//                   ncclAllReduce and ncclReduceScatter, whose algorithm
//                   (ring, tree) and hence adding order NCCL picks by size
//                   and topology: the same bits on every rank, not the MPI
//                   communicator's;
//   rank, and max/min always (cleave's NaN rule, which ncclMax does not
//   keep):
//     all_reduce:     grouped send/receive of chunk p to rank p, the
//                     rank-order kernel (sum, max, min), grouped
//                     send/receive of the results;
//     reduce_scatter: grouped send/receive of block p to rank p, the kernel;
//                   the same bits as the MPI communicator's rounds.
// all_gather and broadcast are NCCL's own (they only move bytes);
// all_to_all is grouped send/receive (NCCL has no primitive for it).
//
// Point-to-point transfers (pipeline stages) run beside the step, not on its
// stream: one lane per direction, messages to a higher group rank ("up",
// activations of a plain pipeline) and to a lower or equal one ("down",
// gradients), each an NCCL communicator split from the group's and a
// non-blocking stream of its own. NCCL runs the operations of one
// communicator one after another, so with a single lane a send waiting for
// its receiver would hold up a receive posted after it. A start makes its
// lane wait (an event) for the work the step's stream has queued, then
// queues ncclSend/ncclRecv and records a "done" event; the wait makes the
// step's stream wait for that event, the host does not block. NCCL has no
// tags: between a pair of ranks, the transfers of one lane are matched in
// the order they were posted, and they also finish in that order. The
// compiler posts them so (docs/runtime-comm.md, "Point to point").
//
// Events come from a pool: a steady-state step creates none.
//
//===----------------------------------------------------------------------===//
#include "cleave/rt/check.h"
#include "cleave/rt/cuda_check.h"
#include "cleave/rt/cuda_comm.h"
#include "cleave/rt/cuda_memory.h"

#ifdef CLEAVE_HAVE_NCCL

#include "nccl_watchdog.h"
#include "rank_order_add.h"

#include <cuda_runtime.h>
#include <nccl.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <unistd.h>
#include <unordered_map>
#include <vector>

namespace cleave::rt::cuda {
namespace {

ncclDataType_t nccl_type(CommElement element) {
  switch (element) {
  case CommElement::f32:
    return ncclFloat32;
  case CommElement::i64:
    return ncclInt64;
  case CommElement::u8:
    return ncclUint8;
  }
  return ncclUint8;
}

/// What each rank tells the others about its GPU, to refuse two ranks on one.
struct GpuIdentity {
  unsigned char uuid[16];
  char host[64];
  int32_t device;
};

void check_one_rank_per_gpu(Communicator &host, int device) {
  GpuIdentity mine{};
  cudaDeviceProp properties;
  CLEAVE_CUDA_CHECK(cudaGetDeviceProperties(&properties, device));
  std::memcpy(mine.uuid, &properties.uuid, sizeof mine.uuid);
  gethostname(mine.host, sizeof mine.host - 1);
  mine.device = device;
  std::vector<GpuIdentity> all(host.size());
  host.all_gather(&mine, all.data(), sizeof mine, CommElement::u8);
  for (int a = 0; a < host.size(); ++a)
    for (int b = a + 1; b < host.size(); ++b)
      if (std::memcmp(all[a].uuid, all[b].uuid, sizeof mine.uuid) == 0)
        fail("ranks ", host.world_ranks()[a], " and ", host.world_ranks()[b],
             " would both drive GPU ", all[a].device, " on host ", all[a].host,
             ": NCCL needs one rank per GPU. Launch as many ranks per node as it has GPUs, "
             "or use the host-staged MPI communicator, which lets ranks share a GPU");
}

class NcclCommunicator final : public Communicator {
public:
  /// Collective over `host`. `owned` keeps a split's MPI twin alive.
  NcclCommunicator(Communicator &host, std::unique_ptr<Communicator> owned,
                   const CommOptions &options, int device)
      : Communicator(host.rank(), host.world_ranks(), host.name()), host_(host),
        owned_host_(std::move(owned)), options_(options), device_(device) {
    ncclUniqueId id;
    if (host.rank() == 0)
      check(ncclGetUniqueId(&id), "ncclGetUniqueId");
    host.broadcast(&id, sizeof id, 0, CommElement::u8);
    check(ncclCommInitRank(&comm_, host.size(), id, host.rank()), "ncclCommInitRank");
    CLEAVE_CUDA_CHECK(cudaStreamCreateWithFlags(&stream_, cudaStreamNonBlocking));
    auto group = std::make_shared<detail::WatchedGroup>();
    group->comm = comm_;
    group->world_rank = world_ranks()[rank()];
    group->description = describe();
    group->timeout_s = options_.timeout_s;
    watched_ = group;
    detail::watch(watched_, device_);
  }

  ~NcclCommunicator() override {
    // Collectives started and never waited for are finished too.
    (void)cudaStreamSynchronize(stream_);
    for (Lane &lane : lanes_) {
      if (!lane.comm)
        continue;
      (void)cudaStreamSynchronize(lane.stream);
      detail::unwatch(lane.watched.get());
      ncclCommDestroy(lane.comm);
      (void)cudaStreamDestroy(lane.stream);
    }
    for (auto &[request, transfer] : transfers_)
      spare_events_.push_back(transfer.done);
    for (auto &[request, done] : collectives_)
      spare_events_.push_back(done);
    for (cudaEvent_t event : spare_events_)
      (void)cudaEventDestroy(event);
    detail::unwatch(watched_.get());
    ncclCommDestroy(comm_);
    (void)cudaStreamDestroy(stream_);
    if (scratch_)
      (void)cudaFree(scratch_);
  }

  bool is_host() const override { return false; }
  const char *backend() const override { return "nccl"; }

  std::unique_ptr<Communicator> split(int color, int key, const std::string &name) override {
    std::unique_ptr<Communicator> twin = host_.split(color, key, name);
    Communicator &twin_ref = *twin;
    return std::make_unique<NcclCommunicator>(twin_ref, std::move(twin), options_, device_);
  }

  void prepare_transfers() override {
    if (lanes_[0].comm)
      return;
    for (Lane &lane : lanes_) {
      // Collective over the group, like this call.
      check(ncclCommSplit(comm_, 0, rank(), &lane.comm, nullptr), "ncclCommSplit");
      CLEAVE_CUDA_CHECK(cudaStreamCreateWithFlags(&lane.stream, cudaStreamNonBlocking));
      auto group = std::make_shared<detail::WatchedGroup>(*watched_);
      group->comm = lane.comm;
      lane.watched = group;
      detail::watch(lane.watched, device_);
    }
  }

  [[noreturn]] void abort_job(int exit_status) override {
    for (Lane &lane : lanes_)
      if (lane.comm)
        ncclCommAbort(lane.comm);
    ncclCommAbort(comm_);
    host_.abort_job(exit_status);
    std::_Exit(exit_status); // not reached: the host's abort_job does not return
  }

protected:
  // The blocking collectives: their start, then their wait.
  void do_all_reduce(void *data, int64_t count, CommElement element,
                     CommReduction reduction) override {
    do_wait_collective(do_all_reduce_start(data, count, element, reduction));
  }

  void do_all_gather(const void *send, void *recv, int64_t send_count,
                     CommElement element) override {
    do_wait_collective(do_all_gather_start(send, recv, send_count, element));
  }

  void do_reduce_scatter(const void *send, void *recv, int64_t recv_count, CommElement element,
                         CommReduction reduction) override {
    do_wait_collective(do_reduce_scatter_start(send, recv, recv_count, element, reduction));
  }

  void do_all_to_all(const void *send, void *recv, int64_t block_count,
                     CommElement element) override {
    const Request request = start("all_to_all", element, [&] {
      const int me = rank();
      const int64_t block = block_count * static_cast<int64_t>(element_bytes(element));
      const auto *in = static_cast<const unsigned char *>(send);
      auto *out = static_cast<unsigned char *>(recv);
      exchange_blocks(out, in, block_count, block, nccl_type(element));
      copy(out + me * block, in + me * block, block);
    });
    do_wait_collective(request);
  }

  void do_broadcast(void *data, int64_t count, int root, CommElement element) override {
    const Request request = start("broadcast", element, [&] {
      check(ncclBroadcast(data, data, count, nccl_type(element), root, comm_, stream_),
            "ncclBroadcast");
    });
    do_wait_collective(request);
  }

  Request do_all_reduce_start(void *data, int64_t count, CommElement element,
                              CommReduction reduction) override {
    return start("all_reduce", element, [&] {
      if (library(reduction))
        check(ncclAllReduce(data, data, count, nccl_type(element), ncclSum, comm_, stream_),
              "ncclAllReduce");
      else
        all_reduce_in_rank_order(data, count, element, reduction);
    });
  }

  Request do_all_gather_start(const void *send, void *recv, int64_t send_count,
                              CommElement element) override {
    return start("all_gather", element, [&] {
      check(ncclAllGather(send, recv, send_count, nccl_type(element), comm_, stream_),
            "ncclAllGather");
    });
  }

  Request do_reduce_scatter_start(const void *send, void *recv, int64_t recv_count,
                                  CommElement element, CommReduction reduction) override {
    return start("reduce_scatter", element, [&] {
      if (library(reduction))
        check(
            ncclReduceScatter(send, recv, recv_count, nccl_type(element), ncclSum, comm_, stream_),
            "ncclReduceScatter");
      else
        reduce_scatter_in_rank_order(send, recv, recv_count, element, reduction);
    });
  }

  void do_wait_collective(Request request) override {
    auto it = collectives_.find(request);
    if (it == collectives_.end())
      fail("wait_collective over ", describe(), ": request ", request,
           " was never started or was already waited on");
    const cudaEvent_t done = it->second;
    collectives_.erase(it);
    CLEAVE_CUDA_CHECK(cudaStreamWaitEvent(nullptr, done, 0));
    spare_events_.push_back(done); // the wait above took its state
  }

  void do_barrier() override {
    // The device work first, collectives started and not yet waited for
    // included (the watchdog guards the waits), then the ranks.
    CLEAVE_CUDA_CHECK(cudaStreamSynchronize(stream_));
    CLEAVE_CUDA_CHECK(cudaStreamSynchronize(nullptr));
    host_.barrier();
  }

  int64_t do_send_start(const void *data, int64_t bytes, int peer, int64_t) override {
    Lane &lane = lane_between(rank(), peer);
    follow_step(lane.stream);
    if (bytes > 0)
      check(ncclSend(data, static_cast<size_t>(bytes), ncclUint8, peer, lane.comm, lane.stream),
            "ncclSend");
    return started(lane, peer, false);
  }

  int64_t do_recv_start(void *data, int64_t bytes, int peer, int64_t) override {
    Lane &lane = lane_between(peer, rank());
    // Also keeps the receive from overwriting bytes the step still reads.
    follow_step(lane.stream);
    if (bytes > 0)
      check(ncclRecv(data, static_cast<size_t>(bytes), ncclUint8, peer, lane.comm, lane.stream),
            "ncclRecv");
    return started(lane, peer, true);
  }

  void do_wait_transfer(int64_t request) override {
    auto it = transfers_.find(request);
    if (it == transfers_.end())
      fail("wait over ", describe(), ": request ", request,
           " was never started or was already waited on");
    const Transfer transfer = it->second;
    transfers_.erase(it);
    CLEAVE_CUDA_CHECK(cudaStreamWaitEvent(nullptr, transfer.done, 0));
    // The watchdog's event on the step's stream completes only after the
    // transfer: its deadline covers the wait for the peer.
    detail::queued(watched_, transfer.receive ? "recv from" : "send to", CommElement::u8, request,
                   world_ranks()[transfer.peer]);
    spare_events_.push_back(transfer.done);
  }

private:
  void check(ncclResult_t result, const char *call) {
    if (result == ncclSuccess)
      return;
    const char *last = comm_ ? ncclGetLastError(comm_) : ncclGetLastError(nullptr);
    fail("rank ", world_ranks()[rank()], ": ", call, " failed on ", describe(), ": ",
         ncclGetErrorString(result), last && *last ? std::string(" (") + last + ")" : "");
  }

  /// In one NCCL group, for every other rank p: receives `count` elements
  /// into recv + p * block and sends `count` from send + p * block (block in
  /// bytes).
  void exchange_blocks(unsigned char *recv, const unsigned char *send, int64_t count, int64_t block,
                       ncclDataType_t type) {
    check(ncclGroupStart(), "ncclGroupStart");
    for (int p = 0; p < size(); ++p)
      if (p != rank()) {
        check(ncclRecv(recv + p * block, count, type, p, comm_, stream_), "ncclRecv");
        check(ncclSend(send + p * block, count, type, p, comm_, stream_), "ncclSend");
      }
    check(ncclGroupEnd(), "ncclGroupEnd");
  }

  /// The rank-order rounds' receive blocks. Collectives in flight share it:
  /// they run one after another on the communication stream.
  unsigned char *scratch(int64_t bytes) {
    if (bytes > scratch_bytes_) {
      if (scratch_) {
        // The queued collectives that use it first, said explicitly rather
        // than left to cudaFree's implicit synchronization.
        CLEAVE_CUDA_CHECK(cudaStreamSynchronize(stream_));
        CLEAVE_CUDA_CHECK(cudaFree(scratch_));
      }
      CLEAVE_CUDA_CHECK(cudaMalloc(&scratch_, static_cast<size_t>(bytes)));
      scratch_bytes_ = bytes;
    }
    return static_cast<unsigned char *>(scratch_);
  }

  /// On the communication stream.
  void copy(void *dst, const void *src, int64_t bytes) {
    if (bytes > 0 && dst != src)
      CLEAVE_CUDA_CHECK(
          cudaMemcpyAsync(dst, src, static_cast<size_t>(bytes), cudaMemcpyDeviceToDevice, stream_));
  }

  /// NCCL's own sum, or cleave's rank-order rounds (top of the file).
  bool library(CommReduction reduction) const {
    return reduction == CommReduction::sum &&
           options_.reduction_order == CommOptions::ReductionOrder::library;
  }

  void all_reduce_in_rank_order(void *data, int64_t count, CommElement element,
                                CommReduction reduction) {
    const int n = size(), me = rank();
    const auto buffer = ReduceChunkBytes::of(data, count, n, element);
    const int64_t mine = buffer.chunks.size(me);
    unsigned char *blocks = scratch(buffer.bytes(me) * n);
    const ncclDataType_t type = nccl_type(element);
    check(ncclGroupStart(), "ncclGroupStart");
    for (int p = 0; p < n; ++p)
      if (p != me) {
        if (mine > 0)
          check(ncclRecv(blocks + p * buffer.bytes(me), mine, type, p, comm_, stream_), "ncclRecv");
        if (buffer.chunks.size(p) > 0)
          check(ncclSend(buffer.at(p), buffer.chunks.size(p), type, p, comm_, stream_), "ncclSend");
      }
    check(ncclGroupEnd(), "ncclGroupEnd");
    copy(blocks + me * buffer.bytes(me), buffer.at(me), buffer.bytes(me));
    detail::reduce_in_rank_order(buffer.at(me), blocks, n, mine, mine, element, reduction, stream_);
    check(ncclGroupStart(), "ncclGroupStart");
    for (int p = 0; p < n; ++p)
      if (p != me) {
        if (buffer.chunks.size(p) > 0)
          check(ncclRecv(buffer.at(p), buffer.chunks.size(p), type, p, comm_, stream_), "ncclRecv");
        if (mine > 0)
          check(ncclSend(buffer.at(me), mine, type, p, comm_, stream_), "ncclSend");
      }
    check(ncclGroupEnd(), "ncclGroupEnd");
  }

  void reduce_scatter_in_rank_order(const void *send, void *recv, int64_t recv_count,
                                    CommElement element, CommReduction reduction) {
    const int n = size(), me = rank();
    const int64_t block = recv_count * static_cast<int64_t>(element_bytes(element));
    const auto *in = static_cast<const unsigned char *>(send);
    unsigned char *blocks = scratch(block * n);
    exchange_blocks(blocks, in, recv_count, block, nccl_type(element));
    // Before the add writes recv, which may be this very block of send.
    copy(blocks + me * block, in + me * block, block);
    detail::reduce_in_rank_order(recv, blocks, n, recv_count, recv_count, element, reduction,
                                 stream_);
  }

  /// Queues collective `op` on the communication stream after the step's
  /// queued work: `queue` makes its calls. Returns the request its wait
  /// takes.
  template <typename Queue> Request start(const char *op, CommElement element, Queue queue) {
    follow_step(stream_);
    queue();
    detail::queued(watched_, op, element, calls(), -1, stream_);
    cudaEvent_t done = take_event();
    CLEAVE_CUDA_CHECK(cudaEventRecord(done, stream_));
    collectives_.emplace(next_collective_, done);
    return next_collective_++;
  }

  /// One direction of point-to-point traffic (see the top of the file).
  struct Lane {
    ncclComm_t comm = nullptr;
    cudaStream_t stream = nullptr;
    std::shared_ptr<detail::WatchedGroup> watched;
  };

  struct Transfer {
    cudaEvent_t done;
    int peer;
    bool receive;
  };

  /// The lane of messages from group rank `from` to `to`: both ends agree.
  Lane &lane_between(int from, int to) {
    // Both halves would queue on one lane, the send first: it would wait
    // for a receive queued behind it.
    if (from == to)
      fail("point-to-point transfer over ", describe(), " (nccl): rank ", world_ranks()[from],
           " to itself; pass the value locally");
    if (!lanes_[0].comm)
      fail("point-to-point transfer over ", describe(), " (nccl): only the group of the grid's '",
           kPipelineAxis, "' axis is prepared for transfers (CommGroups)");
    return lanes_[to > from ? 0 : 1];
  }

  cudaEvent_t take_event() {
    if (!spare_events_.empty()) {
      cudaEvent_t event = spare_events_.back();
      spare_events_.pop_back();
      return event;
    }
    cudaEvent_t event;
    CLEAVE_CUDA_CHECK(cudaEventCreateWithFlags(&event, cudaEventDisableTiming));
    return event;
  }

  /// `stream` waits for the work queued so far on the step's stream.
  void follow_step(cudaStream_t stream) {
    cudaEvent_t queued = take_event();
    CLEAVE_CUDA_CHECK(cudaEventRecord(queued, nullptr));
    CLEAVE_CUDA_CHECK(cudaStreamWaitEvent(stream, queued, 0));
    spare_events_.push_back(queued); // the wait above took its state
  }

  int64_t started(Lane &lane, int peer, bool receive) {
    cudaEvent_t done = take_event();
    CLEAVE_CUDA_CHECK(cudaEventRecord(done, lane.stream));
    transfers_.emplace(next_transfer_, Transfer{done, peer, receive});
    return next_transfer_++;
  }

  Communicator &host_;
  std::unique_ptr<Communicator> owned_host_;
  CommOptions options_;
  int device_;
  ncclComm_t comm_ = nullptr;
  /// The communication stream: every collective of comm_ runs on it.
  cudaStream_t stream_ = nullptr;
  std::shared_ptr<detail::WatchedGroup> watched_;
  void *scratch_ = nullptr;
  int64_t scratch_bytes_ = 0;
  Lane lanes_[2];
  std::unordered_map<int64_t, Transfer> transfers_;
  std::vector<cudaEvent_t> spare_events_;
  int64_t next_transfer_ = 0;
  /// Started collectives' "done" events, by request.
  std::unordered_map<Request, cudaEvent_t> collectives_;
  Request next_collective_ = 0;
};

} // namespace

bool have_nccl() { return true; }

std::unique_ptr<Communicator> nccl_world(Communicator &host_world, const CommOptions &options) {
  if (!host_world.is_host())
    fail("nccl_world: bootstrap over a host (MPI) communicator, not ", host_world.backend());
  const int device = select_device();
  check_one_rank_per_gpu(host_world, device);
  return std::make_unique<NcclCommunicator>(host_world, nullptr, options, device);
}

} // namespace cleave::rt::cuda

#else // !CLEAVE_HAVE_NCCL

namespace cleave::rt::cuda {

bool have_nccl() { return false; }

std::unique_ptr<Communicator> nccl_world(Communicator &, const CommOptions &) {
  fail("this runtime was built without NCCL (no nccl.h and libnccl found): use the "
       "host-staged MPI communicator, or rebuild where NCCL is installed");
}

} // namespace cleave::rt::cuda

#endif // CLEAVE_HAVE_NCCL
