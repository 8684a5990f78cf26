//===- RoundCluster.h - a cluster with round numbers, for plan tests ------===//
#ifndef CLEAVE_TESTS_UNIT_ROUNDCLUSTER_H
#define CLEAVE_TESTS_UNIT_ROUNDCLUSTER_H

#include "passes/Analysis/Cluster/Cluster.h"

namespace mlir::cleave::test {

/// 4 devices on one node: f32 at 100 TFLOP/s x 0.5, memory 1 TB/s x 0.5,
/// links 1 GB/s with 1 us latency at full collective efficiency, 1 MB each,
/// so that the plan tests' expected figures can be worked out by hand.
inline Cluster makeRoundCluster() {
  Cluster cluster;
  cluster.name = "round";
  cluster.nodes = 1;
  cluster.devicesPerNode = 4;
  cluster.peakFlops = {100e12, 200e12, 200e12};
  cluster.computeEfficiency = 0.5;
  cluster.memoryBandwidth = 1e12;
  cluster.memoryEfficiency = 0.5;
  cluster.memoryCapacity = 1'000'000;
  cluster.intraNode = {1e9, 1e-6};
  cluster.interNode = cluster.intraNode;
  return cluster;
}

} // namespace mlir::cleave::test

#endif // CLEAVE_TESTS_UNIT_ROUNDCLUSTER_H
