// Cluster profiles: the shipped ones as the build tree offers them, node
// patterns, fitting a device count, and every kind of bad profile or name
// giving a message that names the problem.
#include "passes/Analysis/Cluster/Cluster.h"

#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/raw_ostream.h"

#include <catch2/catch.hpp>

using namespace mlir::cleave;

namespace {
/// The message of a failed Expected, or "" when it succeeded.
template <typename T> std::string errorOf(llvm::Expected<T> result) {
  if (result)
    return "";
  return llvm::toString(result.takeError());
}

Cluster mustLoad(llvm::StringRef name, int64_t devices, llvm::ArrayRef<std::string> dirs = {}) {
  llvm::Expected<Cluster> cluster = loadCluster(name, devices, dirs);
  INFO(name.str() << " with " << devices << " devices");
  if (!cluster)
    FAIL(llvm::toString(cluster.takeError()));
  return *cluster;
}

/// Loading `name` for `devices` fails with an error containing `message`.
void checkLoadFails(llvm::StringRef name, int64_t devices, llvm::ArrayRef<std::string> dirs,
                    const std::string &message) {
  INFO(name.str() << " with " << devices << " devices");
  CHECK_THAT(errorOf(loadCluster(name, devices, dirs)), Catch::Matchers::Contains(message));
}
void checkLoadFails(llvm::StringRef name, int64_t devices, const std::string &message) {
  checkLoadFails(name, devices, {}, message);
}

/// A fresh directory holding `files` (name -> contents).
std::string writeProfiles(std::initializer_list<std::pair<const char *, const char *>> files) {
  llvm::SmallString<128> dir;
  REQUIRE_FALSE(llvm::sys::fs::createUniqueDirectory("cleave-cluster-test", dir));
  for (const auto &[name, text] : files) {
    llvm::SmallString<128> path(dir);
    llvm::sys::path::append(path, name);
    std::error_code ec;
    llvm::raw_fd_ostream os(path, ec);
    REQUIRE_FALSE(ec);
    os << text;
  }
  return dir.str().str();
}

// A valid one-node profile; tests below break one field at a time.
const char *kSmall = R"json({
  "devices_per_node": 4, "nodes": 1,
  "device": {"peak_tflops": {"f32": 10, "bf16": 100}, "compute_efficiency": 0.5,
             "memory_bandwidth_gb_per_s": 1000, "memory_efficiency": 0.8, "memory_gb": 16},
  "intra_node": {"bandwidth_gb_per_s": 100, "latency_us": 4},
  "collective_efficiency": 0.9
})json";
} // namespace

TEST_CASE("a profile's units are converted to SI", "[cluster]") {
  llvm::Expected<Cluster> cluster = parseCluster(kSmall, "small.json");
  if (!cluster)
    FAIL(llvm::toString(cluster.takeError()));
  CHECK(cluster->nodes == 1);
  CHECK(cluster->devicesPerNode == 4);
  CHECK(cluster->peak(DType::f32) == 10e12);
  CHECK(cluster->peak(DType::bf16) == 100e12);
  // f16 not given: a device without faster f16 units runs it at f32's rate.
  CHECK(cluster->peak(DType::f16) == 10e12);
  CHECK(cluster->computeEfficiency == 0.5);
  CHECK(cluster->memoryBandwidth == 1000e9);
  CHECK(cluster->memoryEfficiency == 0.8);
  CHECK(cluster->memoryCapacity == 16'000'000'000);
  CHECK(cluster->intraNode.bandwidth == 100e9);
  CHECK(cluster->intraNode.latency == Approx(4e-6));
  // No inter_node on one node: never used, set equal to intra_node.
  CHECK(cluster->interNode.bandwidth == 100e9);
  CHECK(cluster->collectiveEfficiency == 0.9);
  CHECK_FALSE(cluster->oversubscribe);
}

TEST_CASE("bad profiles name the field and what is wrong", "[cluster]") {
  auto parseWith = [](const std::string &from, const std::string &to) {
    std::string text = kSmall;
    size_t at = text.find(from);
    REQUIRE(at != std::string::npos);
    text.replace(at, from.size(), to);
    return errorOf(parseCluster(text, "bad.json"));
  };
  using Catch::Matchers::Contains;
  CHECK_THAT(errorOf(parseCluster("{\"devices_per_node\": 4,", "broken.json")),
             Contains("cluster profile 'broken.json' is not valid JSON"));
  CHECK_THAT(errorOf(parseCluster("[1, 2]", "list.json")),
             Contains("cluster profile 'list.json': the top level must be a JSON object"));
  // Each edit of kSmall, and what the message must say.
  struct BadEdit {
    const char *from, *to, *message;
  };
  const BadEdit edits[] = {
      {"\"memory_gb\": 16", "\"memory_gbs\": 16", "unknown field 'device.memory_gbs'"},
      {", \"memory_gb\": 16", "", "missing field 'device.memory_gb' (GB of memory per device)"},
      {"\"memory_gb\": 16", "\"memory_gb\": \"16\"",
       "field 'device.memory_gb' must be a number > 0 (GB of memory per "
       "device), got \"16\""},
      {"\"compute_efficiency\": 0.5", "\"compute_efficiency\": 1.5",
       "field 'device.compute_efficiency' must be a fraction in (0, 1]"},
      {"\"devices_per_node\": 4", "\"devices_per_node\": 2.5",
       "field 'devices_per_node' must be a positive integer"},
      {"\"devices_per_node\": 4", "\"devices_per_node\": 0",
       "field 'devices_per_node' must be a positive integer"},
      {"\"latency_us\": 4", "\"latency_us\": -1",
       "field 'intra_node.latency_us' must be a number >= 0"},
      {"\"f32\": 10, ", "", "missing field 'device.peak_tflops.f32'"},
      {"\"bf16\": 100", "\"bf16\": 100, \"fp8\": 400",
       "unknown field 'device.peak_tflops.fp8' (known here: f32, bf16, f16)"},
      // Several nodes need a link between them.
      {"\"nodes\": 1", "\"nodes\": 2",
       "missing field 'inter_node' (bandwidth_gb_per_s and latency_us)"},
      {"\"nodes\": 1", "\"nodes\": 1, \"oversubscribe\": \"yes\"",
       "field 'oversubscribe' must be true or false"},
  };
  for (const BadEdit &edit : edits) {
    INFO(edit.from << " -> " << edit.to);
    CHECK_THAT(parseWith(edit.from, edit.to), Contains(edit.message));
  }
}

TEST_CASE("shipped profiles are found beside the executable", "[cluster]") {
  Cluster h100 = mustLoad("h100-sxm-8x1", 0);
  CHECK(h100.name == "h100-sxm-8x1");
  CHECK(h100.nodes == 1);
  CHECK(h100.devicesPerNode == 8);
  CHECK(h100.peak(DType::bf16) == 989e12);
  CHECK(h100.peak(DType::f32) == 67e12);
  CHECK(h100.memoryBandwidth == 3350e9);
  CHECK(h100.memoryCapacity == 80'000'000'000);
  CHECK(h100.intraNode.bandwidth == 450e9);
  CHECK(h100.interNode.bandwidth == 50e9);

  Cluster a100 = mustLoad("a100-8x2", 0);
  CHECK(a100.numDevices() == 16);
  CHECK(a100.peak(DType::bf16) == 312e12);
  CHECK(a100.interNode.bandwidth == 25e9);

  Cluster cpu = mustLoad("cpu", 0);
  CHECK(cpu.nodes == 1);
  CHECK(cpu.oversubscribe);
  CHECK(cpu.peak(DType::f32) > 0);
  CHECK(cpu.memoryBandwidth > 0);
  CHECK(cpu.intraNode.bandwidth > 0);

  // The lookup a user sees in messages lists every shipped profile.
  std::vector<std::string> dirs = getClusterProfileDirs();
  REQUIRE_FALSE(dirs.empty());
  CHECK(llvm::sys::fs::exists(dirs.front() + "/h100-sxm-8xN.json"));
}

TEST_CASE("a node pattern takes its node count from the name or the devices", "[cluster]") {
  Cluster four = mustLoad("h100-sxm-8x4", 0);
  CHECK(four.nodes == 4);
  CHECK(four.numDevices() == 32);
  CHECK(four.name == "h100-sxm-8x4");

  // cleavec --devices 16 for CUDA: the default pattern grows to 2 nodes.
  REQUIRE(getDefaultClusterName(/*cudaTarget=*/true) == "h100-sxm-8xN");
  REQUIRE(getDefaultClusterName(/*cudaTarget=*/false) == "cpu");
  Cluster sixteen = mustLoad("h100-sxm-8xN", 16);
  CHECK(sixteen.nodes == 2);
  CHECK(sixteen.devicesPerNode == 8);
  CHECK(sixteen.name == "h100-sxm-8x2");
  Cluster three = mustLoad("h100-sxm-8xN", 3);
  CHECK(three.nodes == 1);
  CHECK(three.devicesPerNode == 3);
}

TEST_CASE("a plan uses a partial node or whole nodes", "[cluster]") {
  Cluster partial = mustLoad("a100-8x2", 4);
  CHECK(partial.nodes == 1);
  CHECK(partial.devicesPerNode == 4);
  Cluster whole = mustLoad("a100-8x4", 16);
  CHECK(whole.nodes == 2);
  CHECK(whole.devicesPerNode == 8);

  checkLoadFails("h100-sxm-8x1", 16,
                 "16 devices do not fit cluster 'h100-sxm-8x1': it has 8 (1 node(s) of "
                 "8); name 'h100-sxm-8x2' or 'h100-sxm-8xN'");
  checkLoadFails("h100-sxm-8x2", 12,
                 "12 devices do not fit cluster 'h100-sxm-8x2': a plan uses one partial "
                 "node (at most 8 devices) or whole nodes (a multiple of 8, up to 16)");
  checkLoadFails("h100-sxm-8xN", 12, "12 devices do not fit cluster 'h100-sxm-8x2'");
  checkLoadFails("cpu", -2, "must be positive, got -2");
}

TEST_CASE("cpu ranks beyond the cores share the node", "[cluster]") {
  Cluster node = mustLoad("cpu", 0);
  int64_t ranks = node.devicesPerNode * 2;
  Cluster shared = mustLoad("cpu", ranks);
  CHECK(shared.nodes == 1);
  CHECK(shared.devicesPerNode == ranks);
  CHECK(shared.peak(DType::f32) == Approx(node.peak(DType::f32) / 2));
  CHECK(shared.memoryBandwidth == Approx(node.memoryBandwidth / 2));
  CHECK(shared.memoryCapacity == node.memoryCapacity / 2);
  // The link between ranks is not shared out.
  CHECK(shared.intraNode.bandwidth == node.intraNode.bandwidth);
}

TEST_CASE("unknown names and files say what exists", "[cluster]") {
  using Catch::Matchers::Contains;
  std::string unknown = errorOf(loadCluster("tpu-v5", 4));
  CHECK_THAT(unknown, Contains("unknown cluster profile 'tpu-v5': the shipped ones are "
                               "a100-8x<N>, cpu, h100-sxm-8x<N>"));
  CHECK_THAT(unknown, Contains("docs/cluster.md"));
  checkLoadFails("h100-sxm-8xN", 0,
                 "cluster profile 'h100-sxm-8xN' is a pattern: name its node count "
                 "(e.g. 'h100-sxm-8x2') or give a device count");
  checkLoadFails("h100-sxm-4x2", 0,
                 "unknown cluster profile 'h100-sxm-4x2': nodes of 'h100-sxm' have a "
                 "different device count; name it as 'h100-sxm-8x2'");
  checkLoadFails("h100-sxm-8x0", 0, "cluster 'h100-sxm-8x0' names 0 nodes; it needs at least one");
  checkLoadFails("/nonexistent/cluster.json", 4,
                 "cannot read cluster profile '/nonexistent/cluster.json'");
  checkLoadFails("", 4, "no cluster profile named");
}

TEST_CASE("profiles from a path or a directory of one's own", "[cluster]") {
  std::string pattern = kSmall;
  // A pattern: no node count, and a link between its nodes.
  pattern.replace(pattern.find("\"nodes\": 1,"), 11,
                  "\"inter_node\": {\"bandwidth_gb_per_s\": 10, \"latency_us\": 9},");
  std::string dir = writeProfiles({{"small.json", kSmall},
                                   {"fixed-4xN.json", kSmall},
                                   {"odd-8xN.json", pattern.c_str()},
                                   {"quad-4xN.json", pattern.c_str()},
                                   {"broken.json", "{\"devices_per_node\": 4"}});
  Cluster byPath = mustLoad(dir + "/small.json", 2);
  CHECK(byPath.devicesPerNode == 2);
  CHECK(byPath.name == dir + "/small.json");
  Cluster byName = mustLoad("small", 4, {dir});
  CHECK(byName.peak(DType::bf16) == 100e12);

  // fixed-4xN.json has "nodes": 1, so it is no pattern to give a count to.
  checkLoadFails("fixed-4x2", 0, {dir}, "gives its own node count");
  Cluster quad = mustLoad("quad-4x3", 0, {dir});
  CHECK(quad.numDevices() == 12);
  // A pattern file whose name says 8 devices per node but whose contents say 4.
  checkLoadFails("odd-8x2", 0, {dir},
                 "cluster 'odd-8x2' names 8 devices per node, but its profile");
  checkLoadFails("broken", 4, {dir}, "broken.json' is not valid JSON");
  // A profile with its own node count cannot name a bigger one.
  checkLoadFails("small", 8, {dir},
                 "8 devices do not fit cluster 'small': it has 4 (1 node(s) of 4); "
                 "name a larger cluster");
  llvm::sys::fs::remove_directories(dir);
}

TEST_CASE("a cluster written as JSON reads back the same", "[cluster]") {
  for (const char *name : {"h100-sxm-8x2", "a100-8x1", "cpu"}) {
    Cluster cluster = mustLoad(name, 0);
    std::string text;
    llvm::raw_string_ostream os(text);
    os << clusterToJSON(cluster);
    llvm::Expected<Cluster> back = parseCluster(text, name);
    INFO(text);
    if (!back)
      FAIL(llvm::toString(back.takeError()));
    CHECK(back->nodes == cluster.nodes);
    CHECK(back->devicesPerNode == cluster.devicesPerNode);
    CHECK(back->oversubscribe == cluster.oversubscribe);
    CHECK(back->description == cluster.description);
    for (DType type : {DType::f32, DType::bf16, DType::f16})
      CHECK(back->peak(type) == Approx(cluster.peak(type)));
    CHECK(back->computeEfficiency == cluster.computeEfficiency);
    CHECK(back->memoryBandwidth == Approx(cluster.memoryBandwidth));
    CHECK(back->memoryEfficiency == cluster.memoryEfficiency);
    CHECK(back->memoryCapacity == cluster.memoryCapacity);
    CHECK(back->intraNode.bandwidth == Approx(cluster.intraNode.bandwidth));
    CHECK(back->intraNode.latency == Approx(cluster.intraNode.latency));
    CHECK(back->interNode.bandwidth == Approx(cluster.interNode.bandwidth));
    CHECK(back->interNode.latency == Approx(cluster.interNode.latency));
    CHECK(back->collectiveEfficiency == cluster.collectiveEfficiency);
    CHECK(back->kernelLaunch == Approx(cluster.kernelLaunch));
    CHECK(back->collectiveLibrary == cluster.collectiveLibrary);
  }
}

TEST_CASE("the collective library, its measurements and the launch overhead", "[cluster]") {
  // Shipped GPU profiles run NCCL and pay a launch per kernel; the CPU one
  // runs MPI and does not.
  Cluster h100 = mustLoad("h100-sxm-8x1", 0);
  CHECK(h100.collectiveLibrary == CollectiveLibrary::nccl);
  CHECK(h100.kernelLaunch == Approx(4e-6));
  CHECK_FALSE(h100.measuredAllReduce);
  Cluster cpu = mustLoad("cpu", 0);
  CHECK(cpu.collectiveLibrary == CollectiveLibrary::mpi);

  std::string text = kSmall;
  const std::string memory = "\"memory_gb\": 16", efficiency = "\"collective_efficiency\": 0.9";
  text.replace(text.find(memory), memory.size(), "\"memory_gb\": 16, \"kernel_launch_us\": 2.5");
  text.replace(text.find(efficiency), efficiency.size(),
               R"("collective_efficiency": 0.9, "collectives": {"library": "mpi",
                  "all_reduce": {"latency_us": 30, "bandwidth_gb_per_s": 0.5},
                  "reduce_scatter": {"latency_us": 20, "bandwidth_gb_per_s": 0.25}})");
  llvm::Expected<Cluster> cluster = parseCluster(text, "measured.json");
  if (!cluster)
    FAIL(llvm::toString(cluster.takeError()));
  CHECK(cluster->kernelLaunch == Approx(2.5e-6));
  CHECK(cluster->collectiveLibrary == CollectiveLibrary::mpi);
  REQUIRE(cluster->measuredAllReduce);
  CHECK(cluster->measuredAllReduce->latency == Approx(30e-6));
  CHECK(cluster->measuredAllReduce->bandwidth == Approx(0.5e9));
  REQUIRE(cluster->measuredReduceScatter);
  CHECK(cluster->measuredReduceScatter->bandwidth == Approx(0.25e9));
  CHECK_FALSE(cluster->measuredAllGather);

  // The round trip keeps every measured kind and nothing else.
  std::string written;
  llvm::raw_string_ostream os(written);
  os << clusterToJSON(*cluster);
  llvm::Expected<Cluster> back = parseCluster(written, "written.json");
  INFO(written);
  if (!back)
    FAIL(llvm::toString(back.takeError()));
  CHECK(back->kernelLaunch == Approx(2.5e-6));
  REQUIRE(back->measuredAllReduce);
  CHECK(back->measuredAllReduce->latency == Approx(30e-6));
  CHECK(back->measuredAllReduce->bandwidth == Approx(0.5e9));
  REQUIRE(back->measuredReduceScatter);
  CHECK(back->measuredReduceScatter->latency == Approx(20e-6));
  CHECK_FALSE(back->measuredAllGather);
}

TEST_CASE("a cluster in one line", "[cluster]") {
  std::string line;
  llvm::raw_string_ostream os(line);
  printCluster(mustLoad("h100-sxm-8x2", 0), os);
  CHECK(line == "h100-sxm-8x2: 2 node(s) x 8 device(s), 989 TFLOP/s bf16 (67 f32) x 0.7, "
                "3350 GB/s x 0.85, 80 GB; links 450 GB/s 2 us in a node, 50 GB/s 5 us between "
                "nodes, collectives x 0.8 (nccl), 4 us per kernel");
}
