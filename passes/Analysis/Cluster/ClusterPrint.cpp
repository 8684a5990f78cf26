//===- ClusterPrint.cpp - a cluster as JSON and as one readable line ------===//
//
// The inverse of ClusterParse.cpp: SI units back to the profile's TFLOP/s,
// GB/s, GB and microseconds.
//
//===----------------------------------------------------------------------===//
#include "passes/Analysis/Cluster/Cluster.h"

#include "llvm/Support/Format.h"
#include "llvm/Support/FormatVariadic.h"

using namespace mlir;
using namespace mlir::cleave;
namespace json = llvm::json;

static constexpr double kTera = 1e12;
static constexpr double kGiga = 1e9;
static constexpr double kMicro = 1e-6;

static json::Object linkToJSON(const Link &link) {
  return json::Object{{"bandwidth_gb_per_s", link.bandwidth / kGiga},
                      {"latency_us", link.latency / kMicro}};
}

json::Value cleave::clusterToJSON(const Cluster &cluster) {
  json::Object peaks;
  for (DType type : {DType::f32, DType::bf16, DType::f16})
    peaks[stringifyDType(type)] = cluster.peak(type) / kTera;
  json::Object device{{"peak_tflops", std::move(peaks)},
                      {"compute_efficiency", cluster.computeEfficiency},
                      {"memory_bandwidth_gb_per_s", cluster.memoryBandwidth / kGiga},
                      {"memory_efficiency", cluster.memoryEfficiency},
                      {"memory_gb", cluster.memoryCapacity / kGiga}};
  if (cluster.kernelLaunch > 0)
    device["kernel_launch_us"] = cluster.kernelLaunch / kMicro;
  json::Object root{{"devices_per_node", cluster.devicesPerNode},
                    {"device", std::move(device)},
                    {"intra_node", linkToJSON(cluster.intraNode)},
                    {"collective_efficiency", cluster.collectiveEfficiency}};
  if (!cluster.description.empty())
    root["description"] = cluster.description;
  // A pattern (nodes = 0) stays one.
  if (cluster.nodes > 0)
    root["nodes"] = cluster.nodes;
  if (cluster.oversubscribe)
    root["oversubscribe"] = true;
  // One node's inter-node link is still worth keeping when it is real (a
  // pattern loaded for one node); a copy of intra_node is the parser's.
  bool copiedLink = cluster.interNode.bandwidth == cluster.intraNode.bandwidth &&
                    cluster.interNode.latency == cluster.intraNode.latency;
  if (cluster.nodes != 1 || !copiedLink)
    root["inter_node"] = linkToJSON(cluster.interNode);
  return root;
}

/// A number as people write it: 3350, 989, 12.6, 0.85, 0.0428.
static std::string num(double value) {
  return llvm::formatv("{0}", llvm::format(value >= 100 ? "%.0f" : "%.3g", value));
}

void cleave::printCluster(const Cluster &cluster, llvm::raw_ostream &os) {
  os << cluster.name << ": " << cluster.nodes << " node(s) x " << cluster.devicesPerNode
     << " device(s), " << num(cluster.peak(DType::bf16) / kTera) << " TFLOP/s bf16 ("
     << num(cluster.peak(DType::f32) / kTera) << " f32) x " << num(cluster.computeEfficiency)
     << ", " << num(cluster.memoryBandwidth / kGiga) << " GB/s x " << num(cluster.memoryEfficiency)
     << ", " << num(cluster.memoryCapacity / kGiga) << " GB; links "
     << num(cluster.intraNode.bandwidth / kGiga) << " GB/s "
     << num(cluster.intraNode.latency / kMicro) << " us in a node";
  if (cluster.nodes > 1)
    os << ", " << num(cluster.interNode.bandwidth / kGiga) << " GB/s "
       << num(cluster.interNode.latency / kMicro) << " us between nodes";
  os << ", collectives x " << num(cluster.collectiveEfficiency);
}
