//===- CollectiveLibrary.cpp - what MPI or NCCL runs, and how long --------===//
//
// The runtime calls the libraries' own all-reduce, reduce-scatter and
// all-gather, so the plan prices what the library will run rather than
// the fastest algorithm there is:
//
//   measured  the profile's `collectives` fit for the kind (cleave-calibrate
//             measures the library itself): latency + V / bandwidth, V the
//             ring formula's bytes on the wire (2(n-1)/n S for an
//             all-reduce, (n-1)/n S for the others).
//   mpi       otherwise the ring formulas (CollectiveCost.cpp). Open MPI's
//             tuned decision tables are not modelled: on one node they pick
//             ring-like algorithms for the sizes gradients have.
//   nccl      otherwise NCCL's tuning model in shape (src/graph/tuning.cc:
//             time = latency + bytes / algorithm bandwidth per algorithm,
//             the smallest wins). An all-reduce runs a ring or a tree:
//               ring  2(n-1) hops, 2(m-1) of them between nodes, each at
//                     its link's latency; 2(n-1)/n S at the slower of
//                     the intra-node link and the group's g network
//                     cards of each node together (NCCL's channels each
//                     cross nodes on another device's card)
//               tree  a chain through each node's g devices and a double
//                     binary tree over the m nodes, up and down:
//                     2((g-1) alpha_intra + ceil(log2 m) alpha_inter);
//                     2S at 90% of the ring's bandwidth (NCCL discounts
//                     its tree's bus bandwidth so)
//             so one node always takes the ring (the chain has the ring's
//             hops for twice its bytes) and many nodes take the tree for
//             small messages. Other kinds run a ring ((n-1) hops, m-1
//             between nodes), all-to-all grouped sends and receives. Each
//             NCCL collective is one kernel: plus device.kernel_launch_us.
//             Not modelled: the LL/LL128 protocols (lower latency for small
//             messages), NVLink SHARP (NVLS) and CollNet.
//
//===----------------------------------------------------------------------===//
#include "passes/Analysis/Cost/CollectiveCost.h"

#include "llvm/Support/MathExtras.h"

#include <algorithm>
#include <limits>

using namespace mlir;
using namespace mlir::cleave;

static constexpr double kInfinity = std::numeric_limits<double>::infinity();
/// NCCL's tree reaches this share of the ring's bus bandwidth.
static constexpr double kNcclTreeBandwidthShare = 0.9;

/// The ring formula's bytes on the wire per device for `kind`, or 0 for a
/// kind no measured fit covers.
static double ringVolume(CollectiveKind kind, int64_t n, double bytes) {
  double share = static_cast<double>(n - 1) / static_cast<double>(n);
  switch (kind) {
  case CollectiveKind::allReduce:
    return 2 * share * bytes;
  case CollectiveKind::allGather:
  case CollectiveKind::reduceScatter:
    return share * bytes;
  default:
    return 0;
  }
}

static const std::optional<MeasuredCollective> &measuredFor(CollectiveKind kind,
                                                            const Cluster &cluster) {
  static const std::optional<MeasuredCollective> none;
  switch (kind) {
  case CollectiveKind::allReduce:
    return cluster.measuredAllReduce;
  case CollectiveKind::allGather:
    return cluster.measuredAllGather;
  case CollectiveKind::reduceScatter:
    return cluster.measuredReduceScatter;
  default:
    return none;
  }
}

double cleave::ncclCollectiveTime(CollectiveKind kind, CollectiveAlgorithm algorithm, int64_t bytes,
                                  const GroupPlacement &placement, const Cluster &cluster) {
  int64_t n = placement.size;
  if (n <= 1)
    return 0;
  int64_t m = std::max<int64_t>(1, placement.nodes);
  // Uneven groups: the fullest node's chain.
  int64_t g = placement.devicesPerNode > 0 ? placement.devicesPerNode : (n + m - 1) / m;
  double size = static_cast<double>(bytes);
  double alphaIntra = cluster.intraNode.latency, alphaInter = cluster.interNode.latency;
  // NCCL runs one ring (or tree) per channel and gives each channel's
  // node-crossing hop another device's network card, so a group with g
  // devices on each node crosses between nodes at g cards' bandwidth (an
  // uneven group: one card's).
  double crossing = static_cast<double>(std::max<int64_t>(1, placement.devicesPerNode)) *
                    cluster.interNode.bandwidth;
  double bandwidth =
      (m > 1 ? std::min(cluster.intraNode.bandwidth, crossing) : cluster.intraNode.bandwidth) *
      cluster.collectiveEfficiency;
  if (bandwidth <= 0)
    return kInfinity;
  // A ring of n devices over m nodes: of its n - 1 hops, m - 1 cross nodes.
  double ringHops =
      static_cast<double>(n - m) * alphaIntra + static_cast<double>(m - 1) * alphaInter;
  double share = static_cast<double>(n - 1) / static_cast<double>(n);
  double seconds = kInfinity;
  switch (kind) {
  case CollectiveKind::allReduce:
    if (algorithm == CollectiveAlgorithm::ring)
      seconds = 2 * ringHops + 2 * share * size / bandwidth;
    else if (algorithm == CollectiveAlgorithm::tree)
      seconds = 2 * (static_cast<double>(g - 1) * alphaIntra +
                     static_cast<double>(llvm::Log2_64_Ceil(m)) * alphaInter) +
                2 * size / (kNcclTreeBandwidthShare * bandwidth);
    break;
  case CollectiveKind::allGather:
  case CollectiveKind::reduceScatter:
    if (algorithm == CollectiveAlgorithm::ring)
      seconds = ringHops + share * size / bandwidth;
    break;
  case CollectiveKind::broadcast:
    if (algorithm == CollectiveAlgorithm::ring)
      seconds = ringHops + size / bandwidth;
    break;
  case CollectiveKind::allToAll:
  case CollectiveKind::sendRecv:
    // Grouped sends and receives: the generic formulas.
    if (algorithm == (kind == CollectiveKind::allToAll ? CollectiveAlgorithm::pairwise
                                                       : CollectiveAlgorithm::direct))
      seconds = collectiveTime(kind, algorithm, bytes, placement, cluster);
    break;
  }
  return seconds + cluster.kernelLaunch;
}

CollectiveCost cleave::bestCollective(CollectiveKind kind, int64_t bytes,
                                      const GroupPlacement &placement, const Cluster &cluster) {
  CollectiveLibrary library = cluster.collectiveLibrary;
  if (placement.size <= 1)
    return {0, CollectiveAlgorithm::ring, library};
  if (const std::optional<MeasuredCollective> &measured = measuredFor(kind, cluster))
    return {measured->latency +
                ringVolume(kind, placement.size, static_cast<double>(bytes)) / measured->bandwidth,
            CollectiveAlgorithm::library, library};

  llvm::SmallVector<CollectiveAlgorithm, 2> candidates;
  switch (kind) {
  case CollectiveKind::allReduce:
    candidates = {CollectiveAlgorithm::ring, CollectiveAlgorithm::tree};
    break;
  case CollectiveKind::allToAll:
    candidates = {CollectiveAlgorithm::pairwise};
    break;
  case CollectiveKind::sendRecv:
    candidates = {CollectiveAlgorithm::direct};
    break;
  case CollectiveKind::broadcast:
    // MPI's binomial tree or pipelined chain; NCCL's ring only.
    candidates = {CollectiveAlgorithm::ring, CollectiveAlgorithm::tree};
    break;
  default:
    candidates = {CollectiveAlgorithm::ring};
    break;
  }
  CollectiveCost best{kInfinity, CollectiveAlgorithm::ring, library};
  for (CollectiveAlgorithm algorithm : candidates) {
    // MPI: the ring formulas (a tree only for a broadcast).
    if (library == CollectiveLibrary::mpi && algorithm == CollectiveAlgorithm::tree &&
        kind != CollectiveKind::broadcast)
      continue;
    double seconds = library == CollectiveLibrary::nccl
                         ? ncclCollectiveTime(kind, algorithm, bytes, placement, cluster)
                         : collectiveTime(kind, algorithm, bytes, placement, cluster);
    if (seconds < best.seconds)
      best = {seconds, algorithm, library};
  }
  return best;
}

std::string cleave::describeCollective(const CollectiveCost &cost) {
  std::string name = stringifyCollectiveLibrary(cost.library).str();
  // MPI chooses its algorithm itself; the model's ring is a price, not a
  // prediction of which one.
  if (cost.algorithm == CollectiveAlgorithm::library || cost.library == CollectiveLibrary::mpi)
    return name;
  return name + " " + stringifyCollectiveAlgorithm(cost.algorithm).str();
}
