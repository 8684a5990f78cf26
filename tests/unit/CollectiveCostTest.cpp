// Collective times under the alpha-beta model. Expected values are worked
// out by hand in the comments from the shipped h100-sxm-8xN profile (NVLink
// 450 GB/s and 2 us, InfiniBand 50 GB/s and 5 us, collectives at 80% of
// link bandwidth) or from a cluster with round numbers.
#include "passes/Analysis/Cost/CollectiveCost.h"

#include <catch2/catch.hpp>

#include <cmath>

using namespace mlir::cleave;

namespace {
Cluster h100(int64_t nodes) {
  llvm::Expected<Cluster> cluster = loadCluster("h100-sxm-8x" + std::to_string(nodes), 0);
  if (!cluster)
    FAIL(llvm::toString(cluster.takeError()));
  return *cluster;
}

/// Links of 1 GB/s (inside a node) and 0.1 GB/s, latencies 1 us and 10 us,
/// full collective efficiency; nodes of 4.
Cluster roundCluster(int64_t nodes) {
  Cluster cluster;
  cluster.nodes = nodes;
  cluster.devicesPerNode = 4;
  cluster.intraNode = {1e9, 1e-6};
  cluster.interNode = {0.1e9, 10e-6};
  return cluster;
}

/// checkGridFits' message, or "" when the grid fits.
std::string gridError(llvm::ArrayRef<int64_t> grid, const Cluster &cluster) {
  llvm::Error error = checkGridFits(grid, cluster);
  return error ? llvm::toString(std::move(error)) : "";
}

GroupPlacement place(std::initializer_list<int64_t> grid, std::initializer_list<int64_t> axes,
                     const Cluster &cluster) {
  GroupSpec spec;
  spec.gridShape.assign(grid);
  spec.axes.assign(axes);
  return placeGroup(spec, cluster);
}

/// `group` has `size` devices on `nodes` nodes, `devicesPerNode` on each
/// (0 where nodes hold different counts).
void checkPlacement(const GroupPlacement &group, int64_t size, int64_t nodes,
                    int64_t devicesPerNode) {
  CHECK(group.size == size);
  CHECK(group.nodes == nodes);
  CHECK(group.devicesPerNode == devicesPerNode);
}
} // namespace

TEST_CASE("ring all-reduce on one H100 node, by hand", "[cost][collective]") {
  Cluster cluster = h100(1);
  GroupPlacement eight = place({8}, {0}, cluster);
  REQUIRE(eight.size == 8);
  REQUIRE(eight.nodes == 1);
  // S = 1 GB over 8 GPUs on NVLink: B = 450 GB/s * 0.8 = 360 GB/s, alpha = 2 us.
  //   ring = 2 (n-1)/n S/B + 2 (n-1) alpha
  //        = 2 * 7/8 * 1e9 / 360e9 + 14 * 2e-6
  //        = 4.861111 ms + 0.028 ms = 4.889111 ms
  //   tree = 2 ceil(log2 8) alpha + 2 S/B = 12e-6 + 5.555556 ms = 5.567556 ms
  double ring = collectiveTime(CollectiveKind::allReduce, CollectiveAlgorithm::ring, 1'000'000'000,
                               eight, cluster);
  CHECK(ring == Approx(4.889111e-3).epsilon(1e-6));
  double tree = collectiveTime(CollectiveKind::allReduce, CollectiveAlgorithm::tree, 1'000'000'000,
                               eight, cluster);
  CHECK(tree == Approx(5.567556e-3).epsilon(1e-6));
  // The profile runs NCCL: its ring, plus one 4 us kernel launch.
  CollectiveCost best = bestCollective(CollectiveKind::allReduce, 1'000'000'000, eight, cluster);
  CHECK(best.algorithm == CollectiveAlgorithm::ring);
  CHECK(best.seconds == Approx(ring + 4e-6));
  CHECK(describeCollective(best) == "nccl ring");
  // Inside one node there is no hierarchy to exploit.
  CHECK(std::isinf(collectiveTime(CollectiveKind::allReduce, CollectiveAlgorithm::hierarchical,
                                  1'000'000'000, eight, cluster)));

  // 1 kB: latency dominates and the binary tree formula wins,
  //   ring = 2 * 7/8 * 1e3 / 360e9 + 28e-6 = 28.004861 us
  //   tree = 12e-6 + 2e3 / 360e9          = 12.005556 us
  // but NCCL's tree is a chain inside a node (14 hops up and down, as the
  // ring's), so NCCL runs its ring: 28.004861 + 4 us.
  CHECK(collectiveTime(CollectiveKind::allReduce, CollectiveAlgorithm::tree, 1000, eight,
                       cluster) == Approx(12.005556e-6).epsilon(1e-6));
  best = bestCollective(CollectiveKind::allReduce, 1000, eight, cluster);
  CHECK(best.algorithm == CollectiveAlgorithm::ring);
  CHECK(best.seconds == Approx(32.004861e-6).epsilon(1e-6));
  CHECK(collectiveTime(CollectiveKind::allReduce, CollectiveAlgorithm::ring, 1000, eight,
                       cluster) == Approx(28.004861e-6).epsilon(1e-6));
}

TEST_CASE("all-gather and reduce-scatter move (n-1)/n of the data once", "[cost][collective]") {
  Cluster cluster = h100(1);
  GroupPlacement eight = place({8}, {0}, cluster);
  // (n-1)/n S/B + (n-1) alpha = 7/8 * 1e9 / 360e9 + 7 * 2e-6 = 2.444556 ms,
  // NCCL's ring plus its kernel launch 2.448556 ms.
  for (CollectiveKind kind : {CollectiveKind::allGather, CollectiveKind::reduceScatter}) {
    CHECK(collectiveTime(kind, CollectiveAlgorithm::ring, 1'000'000'000, eight, cluster) ==
          Approx(2.444556e-3).epsilon(1e-6));
    CHECK(collectiveTime(kind, 1'000'000'000, GroupSpec{{8}, {0}}, cluster) ==
          Approx(2.448556e-3).epsilon(1e-6));
  }
  // Together they are exactly one ring all-reduce (ZeRO's observation).
  CHECK(2 * collectiveTime(CollectiveKind::allGather, CollectiveAlgorithm::ring, 1'000'000'000,
                           eight, cluster) ==
        Approx(collectiveTime(CollectiveKind::allReduce, CollectiveAlgorithm::ring, 1'000'000'000,
                              eight, cluster)));
}

TEST_CASE("dp=8,tp=8 on 8 nodes: tp inside nodes, dp across", "[cost][collective]") {
  Cluster cluster = h100(8);
  REQUIRE(gridError({8, 8}, cluster).empty());
  GroupPlacement tp = place({8, 8}, {1}, cluster);
  checkPlacement(tp, 8, 1, 8);
  GroupPlacement dp = place({8, 8}, {0}, cluster);
  checkPlacement(dp, 8, 8, 1);
  GroupPlacement all = place({8, 8}, {0, 1}, cluster);
  checkPlacement(all, 64, 8, 8);

  const int64_t gb = 1'000'000'000;
  // tp: NCCL's ring as on one node, 4.893111 ms.
  CHECK(bestCollective(CollectiveKind::allReduce, gb, tp, cluster).seconds ==
        Approx(4.893111e-3).epsilon(1e-6));
  // dp spans nodes: bounded by InfiniBand, B = 50 * 0.8 = 40 GB/s, alpha = 5 us.
  //   ring = 2 * 7/8 * 1e9 / 40e9 + 14 * 5e-6 = 43.75 ms + 0.07 ms = 43.82 ms
  //   tree = 6 * 5e-6 + 2e9 / 40e9 = 50.03 ms; one GPU per node: no hierarchy.
  CHECK(collectiveTime(CollectiveKind::allReduce, CollectiveAlgorithm::ring, gb, dp, cluster) ==
        Approx(43.82e-3).epsilon(1e-6));
  // NCCL: the same ring + 4 us launch = 43.824 ms; its tree 2 * 3 * 5 us +
  // 2e9 / (0.9 * 40e9) + 4 us = 55.589556 ms.
  CollectiveCost dpCost = bestCollective(CollectiveKind::allReduce, gb, dp, cluster);
  CHECK(dpCost.algorithm == CollectiveAlgorithm::ring);
  CHECK(dpCost.seconds == Approx(43.824e-3).epsilon(1e-6));
  CHECK(ncclCollectiveTime(CollectiveKind::allReduce, CollectiveAlgorithm::tree, gb, dp, cluster) ==
        Approx(55.589556e-3).epsilon(1e-6));

  // All 64 GPUs. Flat ring: 2 * 63/64 * 1e9 / 40e9 + 126 * 5e-6 = 49.84875 ms.
  // Hierarchical, g = 8 per node on m = 8 nodes:
  //   reduce-scatter in node: 7/8 * 1e9 / 360e9 + 7 * 2e-6 = 2.444556 ms
  //   all-reduce across nodes of 1e9/8: ring 2 * 7/8 * 125e6 / 40e9 + 14 * 5e-6
  //     = 5.53875 ms (tree: 30e-6 + 250e6 / 40e9 = 6.28 ms)
  //   all-gather in node: 2.444556 ms; total 10.427861 ms.
  CHECK(collectiveTime(CollectiveKind::allReduce, CollectiveAlgorithm::ring, gb, all, cluster) ==
        Approx(49.84875e-3).epsilon(1e-6));
  CHECK(collectiveTime(CollectiveKind::allReduce, CollectiveAlgorithm::hierarchical, gb, all,
                       cluster) == Approx(10.427861e-3).epsilon(1e-6));
  // NCCL runs neither: its 8 rings (one per channel) each leave a node on
  // another GPU's card, so the nodes' 8 cards carry them together at
  // min(450, 8 * 50) * 0.8 = 320 GB/s; 56 NVLink hops of 2 us and 7
  // InfiniBand hops of 5 us each way:
  //   ring = 2 * 63/64 * 1e9 / 320e9 + 2 * (56 * 2 + 7 * 5) us + 4 us
  //        = 6.152344 + 0.294 + 0.004 ms = 6.450344 ms
  //   tree = 2e9 / (0.9 * 320e9) + 2 * (7 * 2 + 3 * 5) us + 4 us = 7.006444 ms
  CollectiveCost allCost = bestCollective(CollectiveKind::allReduce, gb, all, cluster);
  CHECK(allCost.algorithm == CollectiveAlgorithm::ring);
  CHECK(allCost.seconds == Approx(6.450344e-3).epsilon(1e-6));
  CHECK(ncclCollectiveTime(CollectiveKind::allReduce, CollectiveAlgorithm::tree, gb, all,
                           cluster) == Approx(7.006444e-3).epsilon(1e-6));
  // Small messages take the tree: 1 kB, ring 294 + 4 us (+ 6 ns), tree
  // 58 + 4 us (+ 7 ns).
  CollectiveCost small = bestCollective(CollectiveKind::allReduce, 1000, all, cluster);
  CHECK(small.algorithm == CollectiveAlgorithm::tree);
  CHECK(describeCollective(small) == "nccl tree");
  CHECK(small.seconds == Approx(62.006944e-6).epsilon(1e-6));
  // So does dp over 8 nodes at 1 kB: tree 30 + 4 us against ring 70 + 4 us.
  CHECK(bestCollective(CollectiveKind::allReduce, 1000, dp, cluster).algorithm ==
        CollectiveAlgorithm::tree);

  // Hierarchical all-gather of 1 GB over all 64: across nodes 7/8 * 125e6 /
  // 40e9 + 7 * 5e-6 = 2.769375 ms, then in node 2.444556 ms = 5.213931 ms
  // (flat ring: 63/64 * 1e9 / 40e9 + 63 * 5e-6 = 24.924375 ms).
  CHECK(collectiveTime(CollectiveKind::allGather, CollectiveAlgorithm::hierarchical, gb, all,
                       cluster) == Approx(5.213931e-3).epsilon(1e-6));
  // NCCL's ring: 63/64 * 1e9 / 320e9 + (56 * 2 + 7 * 5) us + 4 us = 3.227172 ms.
  CollectiveCost gather = bestCollective(CollectiveKind::allGather, gb, all, cluster);
  CHECK(gather.algorithm == CollectiveAlgorithm::ring);
  CHECK(gather.seconds == Approx(3.227172e-3).epsilon(1e-6));
}

TEST_CASE("MPI: the ring formulas, or the profile's measured fit", "[cost][collective]") {
  // The round cluster runs MPI (no `collectives` in it).
  Cluster cluster = roundCluster(1);
  GroupPlacement four = place({4}, {0}, cluster);
  const int64_t mb = 1'000'000;
  // Ring: 2 * 3/4 * 1e6 / 1e9 + 6 * 1e-6 = 1506 us, even where the tree
  // formula is faster (1 kB: ring 6 + 1.5 = 7.5 us, tree 4 + 2 = 6 us).
  CollectiveCost ring = bestCollective(CollectiveKind::allReduce, mb, four, cluster);
  CHECK(ring.seconds == Approx(1506e-6));
  CHECK(describeCollective(ring) == "mpi");
  CHECK(bestCollective(CollectiveKind::allReduce, 1000, four, cluster).seconds == Approx(7.5e-6));
  // A measured all-reduce: 30 us + 2 * 3/4 * 1e6 / 0.5e9 = 3030 us; the
  // kinds not measured keep the formulas (all-gather: 3/4 * 1e6 / 1e9 +
  // 3 us = 753 us).
  cluster.measuredAllReduce = MeasuredCollective{30e-6, 0.5e9};
  cluster.measuredReduceScatter = MeasuredCollective{10e-6, 0.25e9};
  CollectiveCost measured = bestCollective(CollectiveKind::allReduce, mb, four, cluster);
  CHECK(measured.algorithm == CollectiveAlgorithm::library);
  CHECK(measured.seconds == Approx(3030e-6));
  CHECK(describeCollective(measured) == "mpi");
  CHECK(bestCollective(CollectiveKind::reduceScatter, mb, four, cluster).seconds ==
        Approx(10e-6 + 0.75e6 / 0.25e9));
  CollectiveCost gather = bestCollective(CollectiveKind::allGather, mb, four, cluster);
  CHECK(gather.algorithm == CollectiveAlgorithm::ring);
  CHECK(gather.seconds == Approx(753e-6));
  // Measured under NCCL: named after the library alone.
  cluster.collectiveLibrary = CollectiveLibrary::nccl;
  CHECK(describeCollective(bestCollective(CollectiveKind::allReduce, mb, four, cluster)) == "nccl");
}

TEST_CASE("all-to-all, broadcast and send-recv", "[cost][collective]") {
  Cluster cluster = roundCluster(1);
  GroupPlacement four = place({4}, {0}, cluster);
  const int64_t mb = 1'000'000;
  // all-to-all, pairwise: 3/4 * 1e6 / 1e9 + 3 * 1e-6 = 753 us.
  CHECK(bestCollective(CollectiveKind::allToAll, mb, four, cluster).seconds == Approx(753e-6));
  // broadcast: ring (pipelined) 1e6 / 1e9 + 3 * 1e-6 = 1003 us; tree
  // 2 * (1e-6 + 1e6 / 1e9) = 2002 us.
  CollectiveCost broadcast = bestCollective(CollectiveKind::broadcast, mb, four, cluster);
  CHECK(broadcast.algorithm == CollectiveAlgorithm::ring);
  CHECK(broadcast.seconds == Approx(1003e-6));
  CHECK(collectiveTime(CollectiveKind::broadcast, CollectiveAlgorithm::tree, mb, four, cluster) ==
        Approx(2002e-6));
  // send-recv: 1e-6 + 1e6 / 1e9 = 1001 us.
  CHECK(bestCollective(CollectiveKind::sendRecv, mb, four, cluster).seconds == Approx(1001e-6));
  // The efficiency factor scales bandwidth only: at 50%, 1e-6 + 2e6 / 1e9.
  cluster.collectiveEfficiency = 0.5;
  CHECK(bestCollective(CollectiveKind::sendRecv, mb, four, cluster).seconds == Approx(2001e-6));
  // A group of one device communicates nothing.
  CHECK(bestCollective(CollectiveKind::allReduce, mb, place({4}, {}, cluster), cluster).seconds ==
        0);
}

TEST_CASE("groups that straddle nodes unevenly use the slowest link", "[cost][collective]") {
  // 3 nodes of 4 = 12 devices as a 2x6 grid: the first group along axis 1 is
  // devices 0-5, 4 on node 0 and 2 on node 1.
  Cluster cluster = roundCluster(3);
  REQUIRE(gridError({2, 6}, cluster).empty());
  GroupPlacement rows = place({2, 6}, {1}, cluster);
  checkPlacement(rows, 6, 2, 0);
  // No hierarchical algorithm on an uneven group; the ring runs at 0.1 GB/s
  // and 10 us: 2 * 5/6 * 1e6 / 0.1e9 + 10 * 10e-6 = 16.7667 ms.
  CHECK(std::isinf(collectiveTime(CollectiveKind::allReduce, CollectiveAlgorithm::hierarchical,
                                  1'000'000, rows, cluster)));
  CHECK(collectiveTime(CollectiveKind::allReduce, CollectiveAlgorithm::ring, 1'000'000, rows,
                       cluster) == Approx(16.766667e-3).epsilon(1e-6));
}

TEST_CASE("a grid must cover the cluster exactly", "[cost][collective]") {
  Cluster cluster = roundCluster(2);
  using Catch::Matchers::Contains;
  CHECK_THAT(gridError({3, 2}, cluster),
             Contains("the device grid has 6 devices but cluster '' has 8"));
  CHECK_THAT(gridError({0, 8}, cluster), Contains("positive sizes, got 0"));
  CHECK(stringifyCollectiveKind(CollectiveKind::reduceScatter) == "reduce_scatter");
  CHECK(stringifyCollectiveAlgorithm(CollectiveAlgorithm::hierarchical) == "hierarchical");
}

TEST_CASE("GridCollectives caches placements and agrees with the free functions",
          "[cost][collective]") {
  Cluster cluster = h100(8);
  GridCollectives grid(cluster, {8, 8});
  const int64_t gb = 1'000'000'000;
  // The same numbers as "dp=8,tp=8 on 8 nodes" above.
  CHECK(grid.getTime(CollectiveKind::allReduce, gb, {1}) == Approx(4.893111e-3).epsilon(1e-6));
  CHECK(grid.getTime(CollectiveKind::allReduce, gb, {0}) == Approx(43.824e-3).epsilon(1e-6));
  CollectiveCost all = grid.getCost(CollectiveKind::allReduce, gb, {1, 0});
  CHECK(all.algorithm == CollectiveAlgorithm::ring);
  CHECK(all.seconds == Approx(6.450344e-3).epsilon(1e-6));
  // Axis order does not matter; the cached entry is the same object.
  CHECK(&grid.getPlacement({0, 1}) == &grid.getPlacement({1, 0}));
  CHECK(grid.getPlacement({}).size == 1);
  CHECK(grid.getTime(CollectiveKind::allGather, gb, {}) == 0);
}
