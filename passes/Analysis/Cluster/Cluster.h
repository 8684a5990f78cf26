//===- Cluster.h - the machines a plan is made for ------------------------===//
//
// A cluster is `nodes` identical nodes of `devicesPerNode` identical devices
// (GPUs, or MPI ranks on a CPU). The cost model needs only a handful of
// numbers per device and per link; docs/cluster.md documents the JSON file
// they are read from, every field with its unit, and the shipped profiles.
//
// All quantities here are in SI base units: FLOP/s, bytes, bytes/s, seconds.
// The JSON files use friendlier units (TFLOP/s, GB/s, GB, microseconds);
// the parser converts.
//
//===----------------------------------------------------------------------===//
#ifndef CLEAVE_PASSES_ANALYSIS_CLUSTER_CLUSTER_H
#define CLEAVE_PASSES_ANALYSIS_CLUSTER_CLUSTER_H

#include "llvm/ADT/ArrayRef.h"
#include "llvm/ADT/StringRef.h"
#include "llvm/Support/Error.h"
#include "llvm/Support/JSON.h"
#include "llvm/Support/raw_ostream.h"

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace mlir::cleave {

/// The arithmetic types a device has a separate peak rate for.
enum class DType { f32 = 0, bf16 = 1, f16 = 2 };
constexpr size_t kNumDTypes = 3;

/// "f32", "bf16" or "f16".
llvm::StringRef stringifyDType(DType type);
std::optional<DType> parseDType(llvm::StringRef name);

/// A class of link between two devices, as the alpha-beta model sees it.
struct Link {
  /// Bytes per second one device can send over this link in one direction
  /// (for InfiniBand: the device's share of its node's network cards).
  double bandwidth = 0;
  /// Seconds one message costs regardless of its size (alpha).
  double latency = 0;
};

struct Cluster {
  /// The profile it came from (a shipped name or a file path), for messages.
  std::string name;
  /// Free text from the profile: where its numbers come from.
  std::string description;

  int64_t nodes = 1;
  int64_t devicesPerNode = 1;

  /// Peak FLOP/s of one device, indexed by DType.
  std::array<double, kNumDTypes> peakFlops{};
  /// Fraction of the peak real kernels reach (the roofline's compute side).
  double computeEfficiency = 1;
  /// Bytes per second of one device's memory.
  double memoryBandwidth = 0;
  /// Fraction of memoryBandwidth real kernels reach.
  double memoryEfficiency = 1;
  /// Bytes of memory one device may use.
  int64_t memoryCapacity = 0;

  /// Between devices of one node (NVLink, shared memory).
  Link intraNode;
  /// Between devices of different nodes (InfiniBand, Ethernet). Equal to
  /// intraNode for a profile that has no inter-node link and one node.
  Link interNode;
  /// Fraction of the link bandwidth collectives reach.
  double collectiveEfficiency = 1;
  /// More ranks than devicesPerNode may share one node (CPU ranks share
  /// cores); loadCluster divides the per-device rates among them.
  bool oversubscribe = false;

  /// Seconds a kernel costs at least on the device (launch and ramp-up):
  /// a GPU step of many small kernels is bound by it. 0 on CPU ranks.
  double kernelLaunch = 0;

  int64_t numDevices() const { return nodes * devicesPerNode; }
  /// Which node device `device` (row-major rank) sits on.
  int64_t nodeOf(int64_t device) const { return device / devicesPerNode; }
  double peak(DType type) const { return peakFlops[static_cast<size_t>(type)]; }
};

/// Parses a profile from JSON text. `source` names it in messages (a path).
/// A profile whose `nodes` field is absent is a pattern (`h100-sxm-8xN`):
/// the result then has nodes = 0 and loadCluster fills it in. Errors name
/// the field and what was wrong with it.
llvm::Expected<Cluster> parseCluster(llvm::StringRef json, llvm::StringRef source);

/// `cluster` in the profile format (docs/cluster.md), with the node count
/// and links it has: parseCluster reads it back to an equal cluster. For
/// cleave-calibrate's output and machine-readable plan dumps.
llvm::json::Value clusterToJSON(const Cluster &cluster);

/// One line for people: "h100-sxm-8x2: 2 node(s) x 8 device(s), 989
/// TFLOP/s bf16 (67 f32) x 0.7, 3350 GB/s x 0.85, 80 GB; links 450 GB/s
/// 2 us in a node, 50 GB/s 5 us between nodes, collectives x 0.8".
void printCluster(const Cluster &cluster, llvm::raw_ostream &os);

/// Directories searched for shipped profiles, in order: `share/cleave/
/// clusters` beside the running executable's `bin/` (the build tree and an
/// installed tree both have that layout), then the install prefix's.
std::vector<std::string> getClusterProfileDirs();

/// The cluster a plan for `devices` devices is made for.
///
/// `nameOrPath` is a path to a JSON file (it contains '/' or ends in
/// ".json") or a profile name looked up in `searchDirs` (default:
/// getClusterProfileDirs()): `cpu`, `h100-sxm-8x<N>` or `a100-8x<N>` for N
/// nodes of 8 devices, `h100-sxm-8xN` to take as many nodes as `devices`
/// needs. `devices` = 0 takes every device of the profile. A plan may use
/// part of a cluster: one partial node, or whole nodes. A profile that
/// allows oversubscription (the cpu one) runs more ranks than its devices
/// on one node, each with its share of the node's compute and memory.
/// Errors say which name, file, field or device count is wrong and what
/// would fit.
llvm::Expected<Cluster> loadCluster(llvm::StringRef nameOrPath, int64_t devices,
                                    llvm::ArrayRef<std::string> searchDirs = {});

/// The profile `cleavec --devices N` uses without `--cluster`: "cpu" for
/// the CPU target, "h100-sxm-8xN" (as many nodes as N needs) for CUDA.
llvm::StringRef getDefaultClusterName(bool cudaTarget);

} // namespace mlir::cleave

#endif // CLEAVE_PASSES_ANALYSIS_CLUSTER_CLUSTER_H
