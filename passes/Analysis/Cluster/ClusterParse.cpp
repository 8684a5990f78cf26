//===- ClusterParse.cpp - a cluster profile from its JSON text ------------===//
//
// The profile format is documented field by field in docs/cluster.md. Every
// field is checked (present when required, of the right kind, in range) and
// unknown fields are rejected, so that a typo such as "memory_gbs" is an
// error naming the field rather than a silently missing number.
//
//===----------------------------------------------------------------------===//
#include "passes/Analysis/Cluster/Cluster.h"

#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/JSON.h"

#include <cmath>
#include <iterator>

using namespace mlir;
using namespace mlir::cleave;
namespace json = llvm::json;

// The JSON files' units, converted to SI here.
static constexpr double kTera = 1e12;  // peak_tflops
static constexpr double kGiga = 1e9;   // *_gb_per_s and memory_gb (decimal GB)
static constexpr double kMicro = 1e-6; // latency_us

// Indexed by DType.
static constexpr llvm::StringLiteral kDTypeNames[] = {"f32", "bf16", "f16"};
static_assert(std::size(kDTypeNames) == kNumDTypes, "one name per DType");

llvm::StringRef cleave::stringifyDType(DType type) {
  size_t index = static_cast<size_t>(type);
  return index < kNumDTypes ? kDTypeNames[index] : "f32";
}

std::optional<DType> cleave::parseDType(llvm::StringRef name) {
  for (DType type : {DType::f32, DType::bf16, DType::f16})
    if (name == stringifyDType(type))
      return type;
  return std::nullopt;
}

namespace {
/// What a number field may hold.
enum class Range {
  positive,    // > 0
  nonNegative, // >= 0
  fraction,    // in (0, 1]
};

/// Reads fields and remembers the first problem, so that the parser reads
/// straight through and reports one clear message at the end.
class ProfileReader {
public:
  explicit ProfileReader(llvm::StringRef source) : source(source) {}

  bool failed() const { return !problem.empty(); }
  llvm::Error takeError() const {
    return llvm::createStringError(llvm::inconvertibleErrorCode(), "cluster profile '%s': %s",
                                   source.c_str(), problem.c_str());
  }

  /// A nested object, or null (with a problem recorded if `required`).
  const json::Object *object(const json::Object &parent, llvm::StringRef prefix,
                             llvm::StringRef key, bool required, llvm::StringRef what) {
    const json::Value *value = parent.get(key);
    if (!value) {
      if (required)
        fail(llvm::formatv("missing field '{0}' ({1})", join(prefix, key), what));
      return nullptr;
    }
    const json::Object *object = value->getAsObject();
    if (!object)
      fail(llvm::formatv("field '{0}' must be an object ({1})", join(prefix, key), what));
    return object;
  }

  /// A number in `range`, or nullopt (with a problem recorded if `required`).
  std::optional<double> number(const json::Object &parent, llvm::StringRef prefix,
                               llvm::StringRef key, bool required, Range range,
                               llvm::StringRef unit) {
    const json::Value *value = parent.get(key);
    if (!value) {
      if (required)
        fail(llvm::formatv("missing field '{0}' ({1})", join(prefix, key), unit));
      return std::nullopt;
    }
    std::optional<double> number = value->getAsNumber();
    bool inRange = number && std::isfinite(*number) &&
                   (range == Range::positive      ? *number > 0
                    : range == Range::nonNegative ? *number >= 0
                                                  : *number > 0 && *number <= 1);
    if (!inRange) {
      llvm::StringRef expected = range == Range::positive      ? "a number > 0"
                                 : range == Range::nonNegative ? "a number >= 0"
                                                               : "a fraction in (0, 1]";
      fail(llvm::formatv("field '{0}' must be {1} ({2}), got {3}", join(prefix, key), expected,
                         unit, render(*value)));
      return std::nullopt;
    }
    return number;
  }

  /// A positive integer, or nullopt (with a problem recorded if `required`).
  std::optional<int64_t> count(const json::Object &parent, llvm::StringRef key, bool required,
                               llvm::StringRef what) {
    const json::Value *value = parent.get(key);
    if (!value) {
      if (required)
        fail(llvm::formatv("missing field '{0}' ({1})", key, what));
      return std::nullopt;
    }
    std::optional<int64_t> count = value->getAsInteger();
    if (!count || *count <= 0) {
      fail(llvm::formatv("field '{0}' must be a positive integer ({1}), got {2}", key, what,
                         render(*value)));
      return std::nullopt;
    }
    return count;
  }

  std::optional<bool> boolean(const json::Object &parent, llvm::StringRef key) {
    const json::Value *value = parent.get(key);
    if (!value)
      return std::nullopt;
    std::optional<bool> flag = value->getAsBoolean();
    if (!flag)
      fail(llvm::formatv("field '{0}' must be true or false, got {1}", key, render(*value)));
    return flag;
  }

  std::string string(const json::Object &parent, llvm::StringRef key) {
    const json::Value *value = parent.get(key);
    if (!value)
      return "";
    std::optional<llvm::StringRef> text = value->getAsString();
    if (!text) {
      fail(llvm::formatv("field '{0}' must be a string, got {1}", key, render(*value)));
      return "";
    }
    return text->str();
  }

  /// Records a problem for the first field of `object` not in `known`.
  void rejectUnknown(const json::Object &object, llvm::StringRef prefix,
                     llvm::ArrayRef<llvm::StringRef> known) {
    for (const auto &[key, value] : object) {
      if (llvm::is_contained(known, llvm::StringRef(key)))
        continue;
      fail(llvm::formatv("unknown field '{0}' (known here: {1})", join(prefix, key),
                         llvm::join(known, ", ")));
      return;
    }
  }

  void fail(const llvm::Twine &message) {
    if (problem.empty())
      problem = message.str();
  }

private:
  static std::string join(llvm::StringRef prefix, llvm::StringRef key) {
    return prefix.empty() ? key.str() : (prefix + "." + key).str();
  }
  static std::string render(const json::Value &value) {
    std::string text;
    llvm::raw_string_ostream os(text);
    os << value;
    return text;
  }

  std::string source;
  std::string problem;
};
} // namespace

/// Reads a link object ("intra_node" or "inter_node").
static std::optional<Link> readLink(ProfileReader &reader, const json::Object &root,
                                    llvm::StringRef key, bool required) {
  const json::Object *object =
      reader.object(root, "", key, required, "bandwidth_gb_per_s and latency_us");
  if (!object)
    return std::nullopt;
  reader.rejectUnknown(*object, key, {"bandwidth_gb_per_s", "latency_us"});
  std::optional<double> bandwidth =
      reader.number(*object, key, "bandwidth_gb_per_s", true, Range::positive,
                    "GB/s one device sends in one direction");
  std::optional<double> latency = reader.number(*object, key, "latency_us", true,
                                                Range::nonNegative, "microseconds per message");
  if (!bandwidth || !latency)
    return std::nullopt;
  return Link{*bandwidth * kGiga, *latency * kMicro};
}

llvm::Expected<Cluster> cleave::parseCluster(llvm::StringRef text, llvm::StringRef source) {
  llvm::Expected<json::Value> parsed = json::parse(text);
  if (!parsed)
    return llvm::createStringError(
        llvm::inconvertibleErrorCode(), "cluster profile '%s' is not valid JSON: %s",
        source.str().c_str(), llvm::toString(parsed.takeError()).c_str());
  ProfileReader reader(source);
  const json::Object *root = parsed->getAsObject();
  if (!root) {
    reader.fail("the top level must be a JSON object");
    return reader.takeError();
  }
  reader.rejectUnknown(*root, "",
                       {"description", "devices_per_node", "nodes", "oversubscribe", "device",
                        "intra_node", "inter_node", "collective_efficiency"});

  Cluster cluster;
  cluster.name = source.str();
  cluster.description = reader.string(*root, "description");
  cluster.devicesPerNode =
      reader.count(*root, "devices_per_node", true, "devices in one node").value_or(1);
  // No node count: a pattern whose name gives it (h100-sxm-8xN).
  cluster.nodes = reader.count(*root, "nodes", false, "nodes in the cluster").value_or(0);
  cluster.oversubscribe = reader.boolean(*root, "oversubscribe").value_or(false);

  if (const json::Object *device =
          reader.object(*root, "", "device", true, "per-device rates and memory")) {
    reader.rejectUnknown(*device, "device",
                         {"peak_tflops", "compute_efficiency", "memory_bandwidth_gb_per_s",
                          "memory_efficiency", "memory_gb", "kernel_launch_us"});
    if (const json::Object *peaks =
            reader.object(*device, "device", "peak_tflops", true, "TFLOP/s by f32, bf16, f16")) {
      reader.rejectUnknown(*peaks, "device.peak_tflops", {"f32", "bf16", "f16"});
      // f32 is required; a device without faster 16-bit units runs them at
      // its f32 rate.
      double f32 = reader
                       .number(*peaks, "device.peak_tflops", "f32", true, Range::positive,
                               "dense f32 TFLOP/s")
                       .value_or(0);
      cluster.peakFlops.fill(f32 * kTera);
      for (DType type : {DType::bf16, DType::f16})
        if (std::optional<double> peak =
                reader.number(*peaks, "device.peak_tflops", stringifyDType(type), false,
                              Range::positive, "dense TFLOP/s"))
          cluster.peakFlops[static_cast<size_t>(type)] = *peak * kTera;
    }
    cluster.computeEfficiency = reader
                                    .number(*device, "device", "compute_efficiency", false,
                                            Range::fraction, "fraction of peak reached")
                                    .value_or(1.0);
    cluster.memoryBandwidth = reader
                                  .number(*device, "device", "memory_bandwidth_gb_per_s", true,
                                          Range::positive, "GB/s of device memory")
                                  .value_or(0) *
                              kGiga;
    cluster.memoryEfficiency = reader
                                   .number(*device, "device", "memory_efficiency", false,
                                           Range::fraction, "fraction of bandwidth reached")
                                   .value_or(1.0);
    cluster.memoryCapacity =
        static_cast<int64_t>(reader
                                 .number(*device, "device", "memory_gb", true, Range::positive,
                                         "GB of memory per device")
                                 .value_or(0) *
                             kGiga);
    cluster.kernelLaunch = reader
                               .number(*device, "device", "kernel_launch_us", false,
                                       Range::nonNegative, "microseconds a kernel costs at least")
                               .value_or(0) *
                           kMicro;
  }

  // A link nobody uses may be left out: inside a node of one device, or
  // between the nodes of a one-node cluster.
  bool needsIntra = cluster.devicesPerNode > 1 || cluster.oversubscribe;
  bool needsInter = cluster.nodes != 1;
  std::optional<Link> intra = readLink(reader, *root, "intra_node", needsIntra);
  std::optional<Link> inter = readLink(reader, *root, "inter_node", needsInter);
  cluster.intraNode = intra ? *intra : inter.value_or(Link{});
  cluster.interNode = inter ? *inter : cluster.intraNode;
  cluster.collectiveEfficiency = reader
                                     .number(*root, "", "collective_efficiency", false,
                                             Range::fraction, "fraction of link bandwidth")
                                     .value_or(1.0);
  if (reader.failed())
    return reader.takeError();
  return cluster;
}
