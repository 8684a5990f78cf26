//===- CollectiveCost.h - how long a collective takes ---------------------===//
//
// The alpha-beta model: a message of S bytes over a link of bandwidth B
// (times the cluster's collective efficiency) and latency alpha takes
// alpha + S / B. For a group of n devices:
//
//   all-reduce, ring          2(n-1)/n * S/B + 2(n-1) * alpha
//   all-reduce, tree          2 ceil(log2 n) * alpha + 2 * S/B
//                             (pipelined double binary tree, as NCCL's:
//                             log-depth latency for twice the ring's
//                             traffic; wins on small messages)
//   all-gather, ring          (n-1)/n * S/B + (n-1) * alpha   S = gathered bytes
//   reduce-scatter, ring      (n-1)/n * S/B + (n-1) * alpha   S = bytes before
//   all-to-all, pairwise      (n-1)/n * S/B + (n-1) * alpha   S = bytes held
//   broadcast, ring           S/B + (n-1) * alpha             (pipelined chain)
//   broadcast, tree           ceil(log2 n) * (alpha + S/B)
//   send-recv                 alpha + S/B
//
// A group inside one node uses the intra-node link; a group that spans
// nodes is bounded by its slowest link (the smaller bandwidth, the larger
// latency). A group with the same number g > 1 of devices on each of its m
// nodes may also run hierarchically, each phase on its own link:
//   all-reduce      = reduce-scatter(g, S) + all-reduce(m, S/g) + all-gather(g, S)
//   all-gather      = all-gather(m, S/g) across nodes, then all-gather(g, S) inside
//   reduce-scatter  = the same in reverse
// These are the formulas; bestCollective prices what the cluster's library
// (Cluster::collectiveLibrary) will run, see CollectiveLibrary.cpp:
//   mpi   a measured fit (the profile's `collectives`) where there is one,
//         else the ring formulas (MPI's own choice is not modelled);
//   nccl  the measured fit, else NCCL's own choice for an all-reduce: ring
//         or tree, whichever NCCL's tuning model finds faster; every other
//         kind runs a ring (NCCL has no other algorithm for them). NCCL's
//         tree is already hierarchical (a chain inside each node, a double
//         binary tree across nodes), so the separate hierarchical
//         algorithm is not a candidate for either library.
//
// Groups come from a device grid: named axes in row-major order over the
// cluster's devices (rank = row-major index; node = rank / devicesPerNode),
// so in dp=8,tp=8 on 8 nodes of 8 a tp group sits inside a node and a dp
// group spans all 8 nodes.
//
//===----------------------------------------------------------------------===//
#ifndef CLEAVE_PASSES_ANALYSIS_COST_COLLECTIVECOST_H
#define CLEAVE_PASSES_ANALYSIS_COST_COLLECTIVECOST_H

#include "passes/Analysis/Cluster/Cluster.h"

#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/SmallVector.h"

namespace mlir::cleave {

enum class CollectiveKind { allReduce, allGather, reduceScatter, allToAll, broadcast, sendRecv };
/// `library`: the library's own collective as the profile measured it.
enum class CollectiveAlgorithm { ring, tree, hierarchical, pairwise, direct, library };

llvm::StringRef stringifyCollectiveKind(CollectiveKind kind);
llvm::StringRef stringifyCollectiveAlgorithm(CollectiveAlgorithm algorithm);

/// The devices a collective runs among: every group of devices that differ
/// only in their coordinates along `axes` of the grid.
struct GroupSpec {
  /// Sizes of the grid's axes, outermost first (dp=8,tp=8 is {8, 8}).
  llvm::SmallVector<int64_t, 4> gridShape;
  /// Indices into gridShape of the axes the collective runs over.
  llvm::SmallVector<int64_t, 4> axes;
};

/// Where the devices of a GroupSpec's groups sit.
struct GroupPlacement {
  /// Devices in one group (n).
  int64_t size = 1;
  /// The most nodes any group spans (m).
  int64_t nodes = 1;
  /// Devices of a group on each of its nodes (g = n / m) when every group
  /// has the same number on each of its nodes; 0 when uneven.
  int64_t devicesPerNode = 1;
};

/// Places the groups of `group` on `cluster`. Call once per axis set and
/// reuse: it walks every device of the grid. Out-of-range axis indices are
/// ignored; use checkGridFits first.
GroupPlacement placeGroup(const GroupSpec &group, const Cluster &cluster);

/// Fails unless `gridShape` has positive sizes whose product is the
/// cluster's device count, naming both.
llvm::Error checkGridFits(llvm::ArrayRef<int64_t> gridShape, const Cluster &cluster);

/// Seconds `algorithm` takes for `kind` on `bytes` bytes (see the table
/// above for what S is per kind); +infinity where the algorithm does not
/// apply to the kind or placement; 0 for groups of one device.
double collectiveTime(CollectiveKind kind, CollectiveAlgorithm algorithm, int64_t bytes,
                      const GroupPlacement &placement, const Cluster &cluster);

struct CollectiveCost {
  double seconds = 0;
  CollectiveAlgorithm algorithm = CollectiveAlgorithm::ring;
  CollectiveLibrary library = CollectiveLibrary::mpi;
};

/// What the cluster's library runs for `kind` on `bytes` bytes, and its
/// time (CollectiveLibrary.cpp).
CollectiveCost bestCollective(CollectiveKind kind, int64_t bytes, const GroupPlacement &placement,
                              const Cluster &cluster);

/// NCCL's time for `kind` with `algorithm` (ring or tree; +infinity for
/// one NCCL does not run for the kind), from its tuning model's shape: per
/// hop the link's latency (a node-crossing hop the inter-node one), the
/// bytes at the slower of the intra-node link and the group's network
/// cards on a node together, the tree at 90% of that, plus one kernel
/// launch.
double ncclCollectiveTime(CollectiveKind kind, CollectiveAlgorithm algorithm, int64_t bytes,
                          const GroupPlacement &placement, const Cluster &cluster);

/// How the plan names what runs: "nccl ring", "nccl tree", "nccl" (a
/// measured fit), "mpi".
std::string describeCollective(const CollectiveCost &cost);

/// Seconds of the fastest algorithm (places the group on every call).
double collectiveTime(CollectiveKind kind, int64_t bytes, const GroupSpec &group,
                      const Cluster &cluster);

/// Collectives on one grid of one cluster, for a search that asks about the
/// same few axis sets many times: each set's placement is computed once.
/// Axes are grid axis indices as shard.sharding writes them; the cluster
/// must outlive this object.
class GridCollectives {
public:
  GridCollectives(const Cluster &cluster, llvm::ArrayRef<int64_t> gridShape);

  const GroupPlacement &getPlacement(llvm::ArrayRef<int16_t> axes);
  /// The fastest algorithm for `kind` on `bytes` bytes over `axes`.
  CollectiveCost getCost(CollectiveKind kind, int64_t bytes, llvm::ArrayRef<int16_t> axes);
  double getTime(CollectiveKind kind, int64_t bytes, llvm::ArrayRef<int16_t> axes) {
    return getCost(kind, bytes, axes).seconds;
  }
  const Cluster &getCluster() const { return cluster; }

private:
  const Cluster &cluster;
  llvm::SmallVector<int64_t, 4> gridShape;
  /// Placements by the bit set of their axes.
  llvm::DenseMap<uint64_t, GroupPlacement> placements;
};

} // namespace mlir::cleave

#endif // CLEAVE_PASSES_ANALYSIS_COST_COLLECTIVECOST_H
