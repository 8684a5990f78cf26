//===- ClusterLookup.cpp - from a profile name and a device count ---------===//
//
// Resolves `--cluster NAME|PATH` with `--devices N` to the cluster a plan is
// made for:
//   1. a path is read as it is; a name is looked up as NAME.json in the
//      profile directories, then as a node pattern: `h100-sxm-8x4` is the
//      pattern file `h100-sxm-8xN.json` with 4 nodes;
//   2. a pattern without a node count takes as many nodes as N needs;
//   3. the plan's N devices are fitted into the cluster: one partial node or
//      whole nodes, or, on an oversubscribable profile (cpu), more ranks
//      than devices on one node sharing its rates.
//
//===----------------------------------------------------------------------===//
#include "passes/Analysis/Cluster/Cluster.h"

#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"

#include <set>

using namespace mlir;
using namespace mlir::cleave;

/// The suffix that marks a pattern file: N stands for the node count.
static constexpr llvm::StringLiteral kPatternSuffix = "xN";

static llvm::Error makeError(const llvm::Twine &message) {
  return llvm::createStringError(llvm::inconvertibleErrorCode(), message.str());
}

std::vector<std::string> cleave::getClusterProfileDirs() {
  std::vector<std::string> dirs;
  // Build tree and installed tree alike: <root>/bin/<tool> beside
  // <root>/share/cleave/clusters.
  static int anchor;
  std::string exe = llvm::sys::fs::getMainExecutable("cleave", &anchor);
  if (!exe.empty()) {
    llvm::SmallString<256> dir(llvm::sys::path::parent_path(llvm::sys::path::parent_path(exe)));
    llvm::sys::path::append(dir, "share", "cleave", "clusters");
    dirs.push_back(dir.str().str());
  }
#ifdef CLEAVE_INSTALLED_CLUSTER_DIR
  if (!llvm::is_contained(dirs, CLEAVE_INSTALLED_CLUSTER_DIR))
    dirs.push_back(CLEAVE_INSTALLED_CLUSTER_DIR);
#endif
  return dirs;
}

llvm::StringRef cleave::getDefaultClusterName(bool cudaTarget) {
  return cudaTarget ? "h100-sxm-8xN" : "cpu";
}

/// The first `<dir>/<name>.json` that exists, or "".
static std::string findProfile(llvm::StringRef name, llvm::ArrayRef<std::string> dirs) {
  for (const std::string &dir : dirs) {
    llvm::SmallString<256> path(dir);
    llvm::sys::path::append(path, name + ".json");
    if (llvm::sys::fs::exists(path))
      return path.str().str();
  }
  return "";
}

/// "cpu, a100-8x<N>, h100-sxm-8x<N>": the names the directories offer.
static std::string listProfiles(llvm::ArrayRef<std::string> dirs) {
  std::set<std::string> names;
  for (const std::string &dir : dirs) {
    std::error_code ec;
    for (llvm::sys::fs::directory_iterator it(dir, ec), end; it != end && !ec; it.increment(ec)) {
      llvm::StringRef file = llvm::sys::path::filename(it->path());
      if (!file.consume_back(".json"))
        continue;
      if (file.consume_back(kPatternSuffix))
        names.insert((file + "x<N>").str());
      else
        names.insert(file.str());
    }
  }
  return names.empty() ? std::string("none found") : llvm::join(names, ", ");
}

/// The name of a pattern file "<prefix>-<D>xN.json" in `dirs` without its
/// final "N" ("h100-sxm-8x"), or "".
static std::string findPatternWithPrefix(llvm::StringRef prefix, llvm::ArrayRef<std::string> dirs) {
  for (const std::string &dir : dirs) {
    std::error_code ec;
    for (llvm::sys::fs::directory_iterator it(dir, ec), end; it != end && !ec; it.increment(ec)) {
      llvm::StringRef file = llvm::sys::path::filename(it->path());
      if (!file.consume_back(".json") || !file.consume_back(kPatternSuffix))
        continue;
      llvm::StringRef count = file;
      if (!count.consume_front(prefix) || !count.consume_front("-") || count.empty() ||
          !llvm::all_of(count, llvm::isDigit))
        continue;
      return (file + "x").str();
    }
  }
  return "";
}

static llvm::Expected<Cluster> readProfile(llvm::StringRef path) {
  llvm::ErrorOr<std::unique_ptr<llvm::MemoryBuffer>> buffer =
      llvm::MemoryBuffer::getFile(path, /*IsText=*/true);
  if (!buffer)
    return makeError("cannot read cluster profile '" + path + "': " + buffer.getError().message());
  return parseCluster((*buffer)->getBuffer(), path);
}

/// Splits "h100-sxm-8x4" into ("h100-sxm-8", 4); nullopt if not of that form.
static std::optional<std::pair<llvm::StringRef, int64_t>> splitNodeCount(llvm::StringRef name) {
  size_t x = name.rfind('x');
  if (x == llvm::StringRef::npos)
    return std::nullopt;
  llvm::StringRef base = name.take_front(x), count = name.drop_front(x + 1);
  int64_t nodes;
  if (count.empty() || !llvm::all_of(count, llvm::isDigit) || count.getAsInteger(10, nodes))
    return std::nullopt;
  return std::make_pair(base, nodes);
}

/// Fits `devices` devices (0: all) into `cluster`, as the header describes.
static llvm::Error fitDevices(Cluster &cluster, int64_t devices) {
  int64_t total = cluster.numDevices();
  int64_t perNode = cluster.devicesPerNode;
  if (devices == 0)
    return llvm::Error::success();
  if (devices <= perNode) {
    cluster.nodes = 1;
    cluster.devicesPerNode = devices;
    return llvm::Error::success();
  }
  if (devices > total && cluster.oversubscribe && cluster.nodes == 1) {
    // The node's cores, memory bandwidth and memory are shared evenly.
    double share = static_cast<double>(perNode) / devices;
    for (double &peak : cluster.peakFlops)
      peak *= share;
    cluster.memoryBandwidth *= share;
    cluster.memoryCapacity = static_cast<int64_t>(cluster.memoryCapacity * share);
    cluster.devicesPerNode = devices;
    return llvm::Error::success();
  }
  if (devices > total)
    return makeError(llvm::formatv("{0} devices do not fit cluster '{1}': it has {2} ({3} "
                                   "node(s) of {4}); name a larger cluster",
                                   devices, cluster.name, total, cluster.nodes, perNode));
  if (devices % perNode != 0)
    return makeError(llvm::formatv("{0} devices do not fit cluster '{1}': a plan uses one "
                                   "partial node (at most {2} devices) or whole nodes (a "
                                   "multiple of {2}, up to {3})",
                                   devices, cluster.name, perNode, total));
  cluster.nodes = devices / perNode;
  return llvm::Error::success();
}

llvm::Expected<Cluster> cleave::loadCluster(llvm::StringRef nameOrPath, int64_t devices,
                                            llvm::ArrayRef<std::string> searchDirs) {
  if (devices < 0)
    return makeError(llvm::formatv("the device count must be positive, got {0}", devices));
  if (nameOrPath.empty())
    return makeError("no cluster profile named (a name such as 'cpu' or 'h100-sxm-8x2', or "
                     "a path to a JSON file)");
  std::vector<std::string> defaultDirs;
  if (searchDirs.empty()) {
    defaultDirs = getClusterProfileDirs();
    searchDirs = defaultDirs;
  }

  bool isPath = nameOrPath.contains('/') || nameOrPath.ends_with(".json");
  std::string path;
  std::optional<int64_t> namedNodes;
  std::optional<int64_t> namedPerNode;
  if (isPath) {
    path = nameOrPath.str();
  } else {
    path = findProfile(nameOrPath, searchDirs);
    if (path.empty())
      if (auto split = splitNodeCount(nameOrPath)) {
        // "h100-sxm-8" + "xN": the digits after the last '-' are the
        // devices per node, part of the pattern file's name.
        llvm::StringRef base = split->first;
        path = findProfile((base + kPatternSuffix).str(), searchDirs);
        namedNodes = split->second;
        size_t dash = base.rfind('-');
        int64_t perNode;
        if (dash != llvm::StringRef::npos && !base.drop_front(dash + 1).getAsInteger(10, perNode))
          namedPerNode = perNode;
        if (path.empty() && namedPerNode)
          if (std::string other = findPatternWithPrefix(base.take_front(dash), searchDirs);
              !other.empty())
            return makeError(llvm::formatv("unknown cluster profile '{0}': nodes of '{1}' have "
                                           "a different device count; name it as '{2}'",
                                           nameOrPath, base.take_front(dash),
                                           (other + llvm::Twine(split->second)).str()));
      }
    if (path.empty())
      return makeError(llvm::formatv("unknown cluster profile '{0}': the shipped ones are {1} "
                                     "(looked in {2}); or give the path of a JSON profile "
                                     "(docs/cluster.md)",
                                     nameOrPath, listProfiles(searchDirs),
                                     llvm::join(searchDirs, ", ")));
  }

  llvm::Expected<Cluster> loaded = readProfile(path);
  if (!loaded)
    return loaded.takeError();
  Cluster cluster = std::move(*loaded);
  cluster.name = nameOrPath.str();
  bool isPattern = cluster.nodes == 0;

  if (namedNodes) {
    if (!isPattern)
      return makeError(llvm::formatv("cluster profile '{0}' gives its own node count; name it "
                                     "without '-...x{1}'",
                                     path, *namedNodes));
    if (namedPerNode && *namedPerNode != cluster.devicesPerNode)
      return makeError(llvm::formatv("cluster '{0}' names {1} devices per node, but its "
                                     "profile '{2}' has {3}",
                                     nameOrPath, *namedPerNode, path, cluster.devicesPerNode));
    if (*namedNodes < 1)
      return makeError(llvm::formatv("cluster '{0}' names {1} nodes; it needs at least one",
                                     nameOrPath, *namedNodes));
    cluster.nodes = *namedNodes;
    // Too few nodes named: say which name fits.
    if (devices > cluster.numDevices() && !cluster.oversubscribe) {
      llvm::StringRef base = nameOrPath.take_front(nameOrPath.rfind('x') + 1);
      return makeError(llvm::formatv("{0} devices do not fit cluster '{1}': it has {2} ({3} "
                                     "node(s) of {4}); name '{5}{6}' or '{5}N'",
                                     devices, nameOrPath, cluster.numDevices(), cluster.nodes,
                                     cluster.devicesPerNode, base,
                                     llvm::divideCeil(devices, cluster.devicesPerNode)));
    }
  } else if (isPattern) {
    if (devices == 0)
      return makeError(llvm::formatv("cluster profile '{0}' is a pattern: name its node count "
                                     "(e.g. '{1}2') or give a device count",
                                     nameOrPath, nameOrPath.drop_back()));
    cluster.nodes = llvm::divideCeil(devices, cluster.devicesPerNode);
    // Name the cluster as the user would have: h100-sxm-8x2.
    if (!isPath && nameOrPath.ends_with(kPatternSuffix))
      cluster.name = (nameOrPath.drop_back() + llvm::Twine(cluster.nodes)).str();
  }
  if (llvm::Error error = fitDevices(cluster, devices))
    return std::move(error);
  return cluster;
}
