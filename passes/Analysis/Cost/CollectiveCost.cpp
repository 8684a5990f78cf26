//===- CollectiveCost.cpp - how long a collective takes -------------------===//
#include "passes/Analysis/Cost/CollectiveCost.h"

#include "llvm/ADT/DenseMap.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/MathExtras.h"

#include <algorithm>
#include <cmath>
#include <iterator>
#include <limits>
#include <map>

using namespace mlir;
using namespace mlir::cleave;

static constexpr double kInfinity = std::numeric_limits<double>::infinity();

// Names indexed by the enums, in their declaration order.
static constexpr llvm::StringLiteral kKindNames[] = {"all_reduce", "all_gather", "reduce_scatter",
                                                     "all_to_all", "broadcast",  "send_recv"};
static_assert(std::size(kKindNames) == static_cast<size_t>(CollectiveKind::sendRecv) + 1,
              "one name per CollectiveKind");
static constexpr llvm::StringLiteral kAlgorithmNames[] = {"ring",     "tree",   "hierarchical",
                                                          "pairwise", "direct", "library"};
static_assert(std::size(kAlgorithmNames) == static_cast<size_t>(CollectiveAlgorithm::library) + 1,
              "one name per CollectiveAlgorithm");

llvm::StringRef cleave::stringifyCollectiveKind(CollectiveKind kind) {
  size_t index = static_cast<size_t>(kind);
  return index < std::size(kKindNames) ? kKindNames[index] : "unknown";
}

llvm::StringRef cleave::stringifyCollectiveAlgorithm(CollectiveAlgorithm algorithm) {
  size_t index = static_cast<size_t>(algorithm);
  return index < std::size(kAlgorithmNames) ? kAlgorithmNames[index] : "unknown";
}

GroupPlacement cleave::placeGroup(const GroupSpec &group, const Cluster &cluster) {
  int64_t rank = group.gridShape.size();
  llvm::SmallVector<int64_t, 4> strides(rank, 1);
  for (int64_t axis = rank - 2; axis >= 0; --axis)
    strides[axis] = strides[axis + 1] * std::max<int64_t>(1, group.gridShape[axis + 1]);
  int64_t devices = rank == 0 ? 1 : strides[0] * std::max<int64_t>(1, group.gridShape[0]);
  llvm::SmallVector<bool, 4> inGroup(rank, false);
  for (int64_t axis : group.axes)
    if (axis >= 0 && axis < rank)
      inGroup[axis] = true;

  // Devices per (group, node): a group is named by the device's index with
  // its coordinates along the group's axes zeroed.
  std::map<std::pair<int64_t, int64_t>, int64_t> perGroupNode;
  for (int64_t device = 0; device < devices; ++device) {
    int64_t key = 0;
    for (int64_t axis = 0; axis < rank; ++axis)
      if (!inGroup[axis])
        key +=
            (device / strides[axis]) % std::max<int64_t>(1, group.gridShape[axis]) * strides[axis];
    ++perGroupNode[{key, cluster.nodeOf(device)}];
  }

  GroupPlacement placement;
  placement.size = 1;
  for (int64_t axis = 0; axis < rank; ++axis)
    if (inGroup[axis])
      placement.size *= std::max<int64_t>(1, group.gridShape[axis]);
  llvm::DenseMap<int64_t, int64_t> nodesOfGroup;
  bool even = true;
  for (const auto &[groupNode, count] : perGroupNode) {
    ++nodesOfGroup[groupNode.first];
    even &= count == perGroupNode.begin()->second;
  }
  placement.nodes = 1;
  for (const auto &entry : nodesOfGroup)
    placement.nodes = std::max(placement.nodes, entry.second);
  placement.devicesPerNode =
      even && placement.size % placement.nodes == 0 ? placement.size / placement.nodes : 0;
  return placement;
}

llvm::Error cleave::checkGridFits(llvm::ArrayRef<int64_t> gridShape, const Cluster &cluster) {
  int64_t devices = 1;
  for (int64_t size : gridShape) {
    if (size < 1)
      return llvm::createStringError(
          llvm::inconvertibleErrorCode(),
          llvm::formatv("a device grid's axes must have positive sizes, got {0}", size).str());
    devices *= size;
  }
  if (devices != cluster.numDevices())
    return llvm::createStringError(
        llvm::inconvertibleErrorCode(),
        llvm::formatv("the device grid has {0} devices but cluster '{1}' has {2}", devices,
                      cluster.name, cluster.numDevices())
            .str());
  return llvm::Error::success();
}

namespace {
/// One link as the alpha-beta model uses it.
struct Wire {
  double bandwidth; // effective bytes/s
  double latency;   // s
};
} // namespace

static Wire wireOf(const Link &link, const Cluster &cluster) {
  return {link.bandwidth * cluster.collectiveEfficiency, link.latency};
}

/// The link a flat algorithm over the group is bounded by.
static Wire flatWire(const GroupPlacement &placement, const Cluster &cluster) {
  if (placement.nodes <= 1)
    return wireOf(cluster.intraNode, cluster);
  return {std::min(cluster.intraNode.bandwidth, cluster.interNode.bandwidth) *
              cluster.collectiveEfficiency,
          std::max(cluster.intraNode.latency, cluster.interNode.latency)};
}

/// (n-1)/n * S/B + (n-1) * alpha: one pass round a ring (all-gather,
/// reduce-scatter) and pairwise all-to-all.
static double ringPass(int64_t n, double bytes, Wire wire) {
  if (n <= 1)
    return 0;
  return static_cast<double>(n - 1) / n * bytes / wire.bandwidth + (n - 1) * wire.latency;
}

static double ringAllReduce(int64_t n, double bytes, Wire wire) {
  return 2 * ringPass(n, bytes, wire);
}

static double treeAllReduce(int64_t n, double bytes, Wire wire) {
  if (n <= 1)
    return 0;
  return 2 * llvm::Log2_64_Ceil(n) * wire.latency + 2 * bytes / wire.bandwidth;
}

double cleave::collectiveTime(CollectiveKind kind, CollectiveAlgorithm algorithm, int64_t bytes,
                              const GroupPlacement &placement, const Cluster &cluster) {
  int64_t n = placement.size;
  if (n <= 1)
    return 0;
  double size = static_cast<double>(bytes);
  Wire flat = flatWire(placement, cluster);
  // Hierarchical: g devices on each of m nodes, g > 1 and m > 1.
  int64_t g = placement.devicesPerNode, m = placement.nodes;
  bool hierarchical = m > 1 && g > 1;
  Wire intra = wireOf(cluster.intraNode, cluster);
  Wire inter = wireOf(cluster.interNode, cluster);

  switch (kind) {
  case CollectiveKind::allReduce:
    if (algorithm == CollectiveAlgorithm::ring)
      return ringAllReduce(n, size, flat);
    if (algorithm == CollectiveAlgorithm::tree)
      return treeAllReduce(n, size, flat);
    if (algorithm == CollectiveAlgorithm::hierarchical && hierarchical)
      return ringPass(g, size, intra) +
             std::min(ringAllReduce(m, size / g, inter), treeAllReduce(m, size / g, inter)) +
             ringPass(g, size, intra);
    return kInfinity;
  case CollectiveKind::allGather:
  case CollectiveKind::reduceScatter:
    if (algorithm == CollectiveAlgorithm::ring)
      return ringPass(n, size, flat);
    if (algorithm == CollectiveAlgorithm::hierarchical && hierarchical)
      return ringPass(m, size / g, inter) + ringPass(g, size, intra);
    return kInfinity;
  case CollectiveKind::allToAll:
    if (algorithm == CollectiveAlgorithm::pairwise)
      return ringPass(n, size, flat);
    return kInfinity;
  case CollectiveKind::broadcast:
    if (algorithm == CollectiveAlgorithm::ring)
      return size / flat.bandwidth + (n - 1) * flat.latency;
    if (algorithm == CollectiveAlgorithm::tree)
      return llvm::Log2_64_Ceil(n) * (flat.latency + size / flat.bandwidth);
    return kInfinity;
  case CollectiveKind::sendRecv:
    if (algorithm == CollectiveAlgorithm::direct)
      return flat.latency + size / flat.bandwidth;
    return kInfinity;
  }
  return kInfinity;
}

double cleave::collectiveTime(CollectiveKind kind, int64_t bytes, const GroupSpec &group,
                              const Cluster &cluster) {
  return bestCollective(kind, bytes, placeGroup(group, cluster), cluster).seconds;
}

GridCollectives::GridCollectives(const Cluster &cluster, llvm::ArrayRef<int64_t> gridShape)
    : cluster(cluster), gridShape(gridShape) {}

const GroupPlacement &GridCollectives::getPlacement(llvm::ArrayRef<int16_t> axes) {
  uint64_t key = 0;
  GroupSpec spec;
  spec.gridShape = gridShape;
  for (int16_t axis : axes) {
    // Axes out of the grid's range are ignored, as placeGroup does.
    if (axis < 0 || axis >= static_cast<int64_t>(gridShape.size()))
      continue;
    key |= uint64_t(1) << axis;
    spec.axes.push_back(axis);
  }
  auto [it, inserted] = placements.try_emplace(key);
  if (inserted)
    it->second = placeGroup(spec, cluster);
  return it->second;
}

CollectiveCost GridCollectives::getCost(CollectiveKind kind, int64_t bytes,
                                        llvm::ArrayRef<int16_t> axes) {
  return bestCollective(kind, bytes, getPlacement(axes), cluster);
}
