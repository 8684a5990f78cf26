//===- comm.h - communicators: the collectives a sharded step calls --------===//
//
// A generated SPMD program runs once per rank (`mpirun -np N ./train`). Its
// step calls collectives through a Communicator; the driver obtains one per
// group of ranks that share a grid axis (CommGroups). Two implementations:
//
//   * MPI (mpi_comm.h, library cleave_rt_comm): host buffers; the CPU
//     target's, and the CUDA target's through host staging (cuda_comm.h),
//     which lets several ranks share one GPU for checks.
//   * NCCL (cuda_comm.h, library cleave_rt_cuda_comm): device buffers, one
//     rank per GPU, bootstrapped over an MPI communicator.
//
// Buffers live in the target's memory: is_host() says which. Counts are
// elements. Every call is collective over the communicator: each rank of
// the group makes the same calls in the same order with the same counts.
//
// Numerics. Sums follow CommOptions::reduction_order. `library` (the
// default): the library's own collectives, whose order is deterministic for
// a fixed library, group and message size, every rank of the group getting
// the same bits. `rank`: cleave's rounds combine in group-rank order,
// element by element: ((x_0 op x_1) op x_2) op ... op x_{n-1}, whatever the
// message size, the MPI library's algorithm or the NCCL topology; each
// element is combined once, on one rank, and copied byte for byte to the
// others, so the MPI and NCCL implementations give the same bits for the
// same inputs. Max and min always take the rounds: they are exact, and take
// NaN over any number (as PyTorch's max and min and the CPU reduce kernels).
//
// Failure. A collective that does not finish within CommOptions::timeout_s
// ends the whole job with exit status kCommFailureExit after printing which
// collective on which group timed out and, where the implementation can
// tell, which peer ranks sent nothing (docs/runtime-comm.md).
//
//===----------------------------------------------------------------------===//
#ifndef CLEAVE_RT_COMM_H
#define CLEAVE_RT_COMM_H

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace cleave::rt {

/// The exit status of every rank when a collective times out or a peer is
/// lost (the driver uses 1 for errors and 2 for usage mistakes).
constexpr int kCommFailureExit = 3;

/// Settings shared by every implementation.
struct CommOptions {
  /// Seconds one collective may wait for its peers before the job is ended
  /// with a message naming the ranks that did not arrive. <= 0: no limit.
  double timeout_s = 60;

  /// The MPI communicator sends longer messages in pieces of at most this
  /// many bytes (MPI counts are ints). Tests lower it to exercise pieces.
  int64_t max_message_bytes = int64_t(1) << 30;

  /// Who decides the order sums are added in. `library`: the MPI library's
  /// or NCCL's own collective (MPI_Allreduce, ncclAllReduce ...): fastest,
  /// deterministic for a fixed library, group and message size. `rank`:
  /// cleave's own rounds, which add in group-rank order whatever the size
  /// or library (the same bits on MPI and NCCL, and whatever the bucket
  /// size). From CLEAVE_REDUCTION_ORDER=library|rank; max and min are exact
  /// and always take cleave's rounds (its NaN rule).
  enum class ReductionOrder { library, rank };
  ReductionOrder reduction_order = ReductionOrder::library;

  /// The defaults, with timeout_s taken from CLEAVE_COMM_TIMEOUT (seconds)
  /// when set. Throws Error for a value that is not a number.
  static CommOptions from_environment();
};

/// What the collectives carry. u8 is raw bytes: moved, never added.
enum class CommElement { f32, i64, u8 };

size_t element_bytes(CommElement element);
const char *element_name(CommElement element);

/// How all_reduce and reduce_scatter combine the ranks' elements: the
/// reductions a sharded program's partial values carry (shard.all_reduce).
enum class CommReduction { sum, max, min };

const char *reduction_name(CommReduction reduction);

/// How every communicator splits an all_reduce of `count` elements over
/// `n` ranks (each combines one chunk, in rank order, then all gather the
/// chunks): rank p's chunk holds count / n elements, one more for the
/// first count % n ranks, in rank order.
struct ReduceChunks {
  int64_t count;
  int n;
  int64_t size(int p) const { return count / n + (p < count % n ? 1 : 0); }
  int64_t offset(int p) const { return p * (count / n) + (p < count % n ? p : count % n); }
};

/// An all_reduce's buffer of `width`-byte elements seen as its ReduceChunks,
/// in bytes.
struct ReduceChunkBytes {
  ReduceChunks chunks;
  int64_t width;
  unsigned char *data;
  /// Where rank p's chunk starts, and how many bytes it holds.
  unsigned char *at(int p) const { return data + chunks.offset(p) * width; }
  int64_t bytes(int p) const { return chunks.size(p) * width; }

  /// The `count` elements at `data` split among `n` ranks.
  static ReduceChunkBytes of(void *data, int64_t count, int n, CommElement element) {
    return {{count, n},
            static_cast<int64_t>(element_bytes(element)),
            static_cast<unsigned char *>(data)};
  }
};

class Communicator {
public:
  virtual ~Communicator() = default;

  int rank() const { return rank_; }
  int size() const { return static_cast<int>(world_ranks_.size()); }
  /// For messages: "world", "tp", "dp,tp".
  const std::string &name() const { return name_; }
  /// The world rank of each group rank, in group-rank order.
  const std::vector<int> &world_ranks() const { return world_ranks_; }
  /// "group 'tp' (ranks 2,3)", for messages.
  std::string describe() const;
  /// True when buffers are host memory; false for device memory.
  virtual bool is_host() const = 0;
  /// "mpi", "nccl", "mpi (host-staged)".
  virtual const char *backend() const = 0;

  /// data[i] = sum over the group of data[i], in rank order (see above).
  void all_reduce_sum(float *data, int64_t count) { all_reduce(data, count, CommElement::f32); }
  void all_reduce_sum(int64_t *data, int64_t count) { all_reduce(data, count, CommElement::i64); }
  /// data[i] = `reduction` over the group of data[i].
  void all_reduce(float *data, int64_t count, CommReduction reduction) {
    all_reduce(data, count, CommElement::f32, reduction);
  }
  void all_reduce(int64_t *data, int64_t count, CommReduction reduction) {
    all_reduce(data, count, CommElement::i64, reduction);
  }

  /// recv (size() * send_count elements) = the ranks' send buffers
  /// concatenated in rank order. In place when send == recv + rank() * send_count.
  void all_gather(const float *send, float *recv, int64_t send_count) {
    all_gather(send, recv, send_count, CommElement::f32);
  }
  void all_gather(const int64_t *send, int64_t *recv, int64_t send_count) {
    all_gather(send, recv, send_count, CommElement::i64);
  }

  /// send has size() * recv_count elements; recv = block rank() of the sum
  /// over the group (rank order). In place when recv == send + rank() * recv_count.
  void reduce_scatter_sum(const float *send, float *recv, int64_t recv_count) {
    reduce_scatter(send, recv, recv_count, CommElement::f32);
  }
  void reduce_scatter_sum(const int64_t *send, int64_t *recv, int64_t recv_count) {
    reduce_scatter(send, recv, recv_count, CommElement::i64);
  }
  /// The same with `reduction` in place of the sum.
  void reduce_scatter(const float *send, float *recv, int64_t recv_count, CommReduction reduction) {
    reduce_scatter(send, recv, recv_count, CommElement::f32, reduction);
  }
  void reduce_scatter(const int64_t *send, int64_t *recv, int64_t recv_count,
                      CommReduction reduction) {
    reduce_scatter(send, recv, recv_count, CommElement::i64, reduction);
  }

  /// send and recv have size() blocks of block_count elements: block j of
  /// send goes to rank j, block i of recv comes from rank i. No overlap.
  void all_to_all(const float *send, float *recv, int64_t block_count) {
    all_to_all(send, recv, block_count, CommElement::f32);
  }
  void all_to_all(const int64_t *send, int64_t *recv, int64_t block_count) {
    all_to_all(send, recv, block_count, CommElement::i64);
  }

  /// data on every rank = data on `root` (a group rank).
  void broadcast(float *data, int64_t count, int root) {
    broadcast(data, count, root, CommElement::f32);
  }
  void broadcast(int64_t *data, int64_t count, int root) {
    broadcast(data, count, root, CommElement::i64);
  }

  /// Returns once every rank of the group has called it (device work
  /// queued before it is finished too).
  void barrier();

  /// A collective started by a *_start call; finish it with
  /// wait_collective. Until then the start's send buffer must stay
  /// unchanged and its receive buffer unread. Every rank of the group starts
  /// the same collectives in the same order (as for the blocking calls);
  /// they may be waited in any order, and several may be in flight at once
  /// (they run one after another, in start order, beside the caller's
  /// work). A blocking call is its start followed at once by its wait, so
  /// both give the same bits.
  using Request = int64_t;
  /// A request that needs no wait (a collective done at its start).
  static constexpr Request kFinishedRequest = -1;
  Request all_reduce_start(void *data, int64_t count, CommElement element,
                           CommReduction reduction = CommReduction::sum);
  Request all_gather_start(const void *send, void *recv, int64_t send_count, CommElement element);
  Request reduce_scatter_start(const void *send, void *recv, int64_t recv_count,
                               CommElement element, CommReduction reduction = CommReduction::sum);
  /// Finishes `request` (a timeout ends the job like a blocking call).
  void wait_collective(Request request);

  /// The element-type-erased collectives the typed calls above forward to.
  /// They check their arguments (negative count, bad root, overlapping
  /// buffers, u8 in a reduction) and throw Error.
  void all_reduce(void *data, int64_t count, CommElement element,
                  CommReduction reduction = CommReduction::sum);
  void all_gather(const void *send, void *recv, int64_t send_count, CommElement element);
  void reduce_scatter(const void *send, void *recv, int64_t recv_count, CommElement element,
                      CommReduction reduction = CommReduction::sum);
  void all_to_all(const void *send, void *recv, int64_t block_count, CommElement element);
  void broadcast(void *data, int64_t count, int root, CommElement element);

  /// Point-to-point transfers (pipeline stages; docs/runtime-comm.md, "Point
  /// to point"). Not collective: only this rank and `peer` (a group rank)
  /// take part. A send of `tag` matches the peer's receive of the same tag;
  /// between a pair of ranks, transfers of one tag (and, on NCCL, of one
  /// direction) are matched in the order posted. Each returns a request that
  /// wait_transfer() finishes exactly once; until then the send's buffer
  /// must stay unchanged and the receive's must not be read. Throws Error for
  /// bad arguments (a peer outside the group, a negative size, a tag the
  /// implementation cannot carry).
  int64_t send_start(const void *data, int64_t bytes, int peer, int64_t tag);
  int64_t recv_start(void *data, int64_t bytes, int peer, int64_t tag);
  /// Finishes `request`. A transfer that does not finish within
  /// CommOptions::timeout_s ends the job (kCommFailureExit) naming the
  /// transfer, the group and the peer's world rank, as a collective does.
  /// On device communicators the wait orders the step's stream after the
  /// transfer (the host may return before the bytes have arrived).
  void wait_transfer(int64_t request);
  /// Collective over the group: sets up what transfers need where that is
  /// costly (NCCL: a communicator and a stream per direction). CommGroups
  /// calls it on the group of the grid's kPipelineAxis; NCCL refuses
  /// transfers on groups not prepared, MPI and host staging need nothing.
  virtual void prepare_transfers() {}

  /// Collective: a communicator per distinct `color` over the ranks that
  /// passed it, ordered by (key, rank). `name` is for messages.
  virtual std::unique_ptr<Communicator> split(int color, int key, const std::string &name) = 0;

  /// Ends every rank of the job now with `exit_status`: for an error that
  /// some ranks may see and others not (their collectives would wait for
  /// the missing rank until the timeout otherwise). Print the message first.
  [[noreturn]] virtual void abort_job(int exit_status) = 0;

protected:
  Communicator(int rank, std::vector<int> world_ranks, std::string name)
      : rank_(rank), world_ranks_(std::move(world_ranks)), name_(std::move(name)) {}

  /// Arguments already checked; count > 0 (zero-element calls return early).
  virtual void do_all_reduce(void *data, int64_t count, CommElement element,
                             CommReduction reduction) = 0;
  virtual void do_all_gather(const void *send, void *recv, int64_t send_count,
                             CommElement element) = 0;
  virtual void do_reduce_scatter(const void *send, void *recv, int64_t recv_count,
                                 CommElement element, CommReduction reduction) = 0;
  virtual void do_all_to_all(const void *send, void *recv, int64_t block_count,
                             CommElement element) = 0;
  virtual void do_broadcast(void *data, int64_t count, int root, CommElement element) = 0;
  virtual void do_barrier() = 0;
  /// Arguments already checked. The default throws Error: an implementation
  /// without point-to-point transfers.
  virtual int64_t do_send_start(const void *data, int64_t bytes, int peer, int64_t tag);
  virtual int64_t do_recv_start(void *data, int64_t bytes, int peer, int64_t tag);
  virtual void do_wait_transfer(int64_t request);
  /// The non-blocking collectives, arguments checked. The defaults run the
  /// blocking do_* at once and return a finished request (wait is then a
  /// no-op): correct for any implementation, without overlap.
  virtual Request do_all_reduce_start(void *data, int64_t count, CommElement element,
                                      CommReduction reduction);
  virtual Request do_all_gather_start(const void *send, void *recv, int64_t send_count,
                                      CommElement element);
  virtual Request do_reduce_scatter_start(const void *send, void *recv, int64_t recv_count,
                                          CommElement element, CommReduction reduction);
  virtual void do_wait_collective(Request request);

  /// The number of collectives this communicator has started, for messages.
  int64_t calls() const { return calls_; }

private:
  void check_all_reduce(const void *data, int64_t count, CommElement element,
                        CommReduction reduction) const;
  void check_all_gather(const void *send, const void *recv, int64_t send_count,
                        CommElement element) const;
  void check_reduce_scatter(const void *send, const void *recv, int64_t recv_count,
                            CommElement element, CommReduction reduction) const;

  int rank_;
  std::vector<int> world_ranks_;
  std::string name_;
  int64_t calls_ = 0;
};

/// The grid axis of pipeline stages (the contract of docs/pipeline.md).
constexpr const char *kPipelineAxis = "pp";

/// A row-major grid of named axes over the world's ranks: the last axis
/// varies fastest, so dp=2,tp=2 puts ranks {0,1} and {2,3} in tp groups
/// and {0,2}, {1,3} in dp groups.
class DeviceGrid {
public:
  /// Throws Error for no axes, an empty or repeated name, or a size < 1.
  DeviceGrid(std::vector<std::string> names, std::vector<int> sizes);
  /// "dp=2,tp=2" (the cleavec --grid syntax); throws Error when malformed.
  static DeviceGrid parse(const std::string &text);

  int num_axes() const { return static_cast<int>(names_.size()); }
  int num_devices() const;
  const std::string &axis_name(int axis) const { return names_[axis]; }
  int axis_size(int axis) const { return sizes_[axis]; }
  /// Throws Error naming the grid's axes when there is no such axis.
  int axis_index(const std::string &name) const;

  std::vector<int> coordinates(int rank) const;
  int rank_of(const std::vector<int> &coordinates) const;
  /// "dp=2,tp=2".
  std::string to_string() const;

private:
  std::vector<std::string> names_;
  std::vector<int> sizes_;
};

/// The communicators of a grid: the world and one per set of axes. Built
/// once, collectively, by every rank with the same grid; all groups are
/// created up front (at most 2^axes - 2 splits), so that later calls need
/// no collective and cannot deadlock on rank-dependent control flow.
class CommGroups {
public:
  /// Throws Error when the grid's device count is not world.size().
  CommGroups(Communicator &world, DeviceGrid grid);
  ~CommGroups();

  Communicator &world() { return world_; }
  const DeviceGrid &grid() const { return grid_; }
  /// This rank's coordinates on the grid.
  std::vector<int> coordinates() const { return grid_.coordinates(world_.rank()); }

  /// The ranks that differ from this one only along `axis`, ordered by
  /// their coordinate on it.
  Communicator &axis(const std::string &axis);
  /// The ranks that differ only along `axes` (in any order), ordered
  /// row-major over those axes in grid order (ZeRO over dp and tp, say).
  Communicator &axes(const std::vector<std::string> &axes);
  /// axes() of a comma-separated list ("dp" or "dp,tp"), as a generated
  /// step names its collectives' groups.
  Communicator &group(const std::string &axes);

  /// A pipeline step's transfers (collective_api.inc's send_start,
  /// recv_start, wait): the peer is the rank whose coordinate on `axis` is
  /// `peer` and whose other coordinates are this rank's; `slot` numbers the
  /// pending request (starting a slot that is still pending, or waiting on
  /// one that is not, throws Error naming it).
  void start_send(const std::string &axis, int64_t peer, const void *data, int64_t bytes,
                  int64_t tag, int64_t slot);
  void start_receive(const std::string &axis, int64_t peer, void *data, int64_t bytes, int64_t tag,
                     int64_t slot);
  void wait_transfer(int64_t slot);
  /// This rank's coordinate on `axis` (a pipeline program's stage).
  int coordinate(const std::string &axis) const;

  /// A step's non-blocking collectives by slot (collective_api.inc's
  /// *_start and wait_collective; slots numbered apart from transfers').
  /// Keeps `request`, started on `comm`, in `slot`; wait_collective(slot)
  /// waits for it, then runs `finish` (the layout work that needs the
  /// data, e.g. a gather's rank-major blocks moved into place).
  void start_collective(int64_t slot, Communicator &comm, Communicator::Request request,
                        std::function<void()> finish = {});
  void wait_collective(int64_t slot);
  /// Throws the Error start_collective would for `slot` (out of range, or
  /// still pending): for callers that must know before starting the
  /// collective (a collective started and then refused would be lost).
  void check_collective_slot(int64_t slot, const Communicator &comm) const;
  /// Seconds spent in wait_collective since the last reset: the
  /// communication the step could not hide behind its compute.
  double collective_wait_seconds() const { return collective_wait_seconds_; }
  void reset_collective_wait_seconds() { collective_wait_seconds_ = 0; }
  /// Seconds spent in wait_transfer() on receives since the last reset:
  /// the stage's idle time (busy time = step time - this). On device
  /// communicators it counts the host's wait only.
  double receive_wait_seconds() const { return receive_wait_seconds_; }
  void reset_receive_wait_seconds() { receive_wait_seconds_ = 0; }

private:
  /// A started transfer, by slot.
  struct PendingTransfer {
    Communicator *comm = nullptr; // null: the slot is free
    int64_t request = 0;
    bool receive = false;
    int64_t peer = 0;
    int64_t tag = 0;
  };
  void start_transfer(bool receive, const std::string &axis, int64_t peer, const void *send,
                      void *recv, int64_t bytes, int64_t tag, int64_t slot);

  Communicator &world_;
  DeviceGrid grid_;
  /// Indexed by the bit mask of the group's axes; the full mask is world_.
  std::vector<std::unique_ptr<Communicator>> groups_;
  std::vector<PendingTransfer> slots_;
  double receive_wait_seconds_ = 0;
  struct PendingCollective {
    Communicator *comm = nullptr; // null: the slot is free
    Communicator::Request request = Communicator::kFinishedRequest;
    std::function<void()> finish;
  };
  std::vector<PendingCollective> collective_slots_;
  double collective_wait_seconds_ = 0;
};

/// Throws Error "compiled for 4 ranks, launched with 2: recompile with
/// --devices 2 or launch mpirun -np 4" unless world.size() == expected.
void check_world_size(const Communicator &world, int expected);

} // namespace cleave::rt

#endif // CLEAVE_RT_COMM_H
