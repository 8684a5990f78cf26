//===- SplitCuts.cpp - where a train step's forward can be cut, and where to //
#include "passes/Pipeline/SplitCuts.h"

#include "dialects/Cleave/IR/NodeName.h"
#include "dialects/Cleave/Interfaces/CostInterface.h"
#include "passes/TrainStepAttrs.h"

#include "llvm/ADT/DenseSet.h"
#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/Support/Debug.h"

#include <algorithm>
#include <cmath>
#include <limits>

using namespace mlir;
using namespace mlir::cleave;

#define DEBUG_TYPE "cleave-pipeline-split"

/// Whether `op` reads a trainable parameter of rank >= 2 directly: a
/// matmul, convolution or embedding lookup, what a layer is made around.
static bool readsWeight(Operation *op, func::FuncOp function) {
  Block &body = function.getBody().front();
  return llvm::any_of(op->getOperands(), [&](Value operand) {
    auto arg = dyn_cast<BlockArgument>(operand);
    if (!arg || arg.getOwner() != &body || !isTrainableParam(function, arg.getArgNumber()))
      return false;
    auto type = dyn_cast<RankedTensorType>(arg.getType());
    return type && type.getRank() >= 2;
  });
}

CutProfile mlir::cleave::profileCuts(const TrainStepPhases &phases,
                                     llvm::function_ref<double(Operation *)> seconds) {
  int64_t n = phases.getForwardOps().size();
  CutProfile profile;
  profile.forwardSeconds.assign(n, 0.0);
  profile.backwardSeconds.assign(n, 0.0);
  std::vector<int64_t> countDelta(n + 2, 0), bytesDelta(n + 2, 0);
  std::vector<bool> weightAt(n, false);
  func::FuncOp function = phases.getFunction();
  Block &body = function.getBody().front();
  // Activations: the forward values that depend on the batch. Those made
  // from parameters and constants alone (RoPE tables, position embeddings,
  // a transposed weight) are the same for every micro-batch and live
  // across many layers; they count for the bytes a cut carries but do not
  // tell layers apart.
  llvm::DenseSet<Value> activations;
  auto isActivation = [&](Value value) {
    if (auto arg = dyn_cast<BlockArgument>(value))
      return arg.getOwner() == &body &&
             function.getArgAttr(arg.getArgNumber(), CleaveDialect::kInputAttrName);
    return activations.contains(value);
  };
  for (Operation *op : phases.getOps()) {
    const OpRole *role = phases.getRole(op);
    if (role->phase == SplitPhase::forward && llvm::any_of(op->getOperands(), isActivation))
      activations.insert(op->result_begin(), op->result_end());
  }
  for (Operation *op : phases.getOps()) {
    const OpRole *role = phases.getRole(op);
    if (role->phase == SplitPhase::update)
      continue;
    if (role->phase == SplitPhase::backward) {
      profile.backwardSeconds[role->anchor] += seconds(op);
      continue;
    }
    profile.forwardSeconds[role->anchor] += seconds(op);
    int64_t firstUse = n, lastUse = -1;
    for (Value result : op->getResults())
      for (Operation *user : result.getUsers())
        if (const OpRole *userRole = phases.getRole(user))
          if (userRole->phase == SplitPhase::forward && userRole->anchor > role->anchor) {
            firstUse = std::min(firstUse, userRole->anchor);
            lastUse = std::max(lastUse, userRole->anchor);
          }
    // A lookup that reads only arguments and constants (an embedding
    // gather, the slice of a fused weight, a first layer's product with the
    // batch) begins no layer of its own: it counts with its first reader.
    if (readsWeight(op, function)) {
      bool readsActivation = llvm::any_of(op->getOperands(), [&](Value operand) {
        Operation *producer = operand.getDefiningOp();
        return producer && phases.getRole(producer);
      });
      weightAt[readsActivation || firstUse == n ? role->anchor : firstUse] = true;
    }
    for (Value result : op->getResults()) {
      int64_t lastUse = -1;
      for (Operation *user : result.getUsers())
        if (const OpRole *userRole = phases.getRole(user))
          if (userRole->phase == SplitPhase::forward)
            lastUse = std::max(lastUse, userRole->anchor);
      if (lastUse <= role->anchor)
        continue;
      // Crosses the cuts at positions anchor + 1 .. lastUse.
      int64_t bytes = getTensorBytes(result.getType());
      if (activations.contains(result)) {
        countDelta[role->anchor + 1] += 1;
        countDelta[lastUse + 1] -= 1;
      }
      bytesDelta[role->anchor + 1] += bytes;
      bytesDelta[lastUse + 1] -= bytes;
    }
  }
  profile.crossingCount.assign(n + 1, 0);
  profile.crossingBytes.assign(n + 1, 0);
  profile.weightOpsBefore.assign(n + 1, 0);
  int64_t count = 0, bytes = 0;
  for (int64_t k = 0; k <= n; ++k) {
    count += countDelta[k];
    bytes += bytesDelta[k];
    profile.crossingCount[k] = count;
    profile.crossingBytes[k] = bytes;
    if (k > 0)
      profile.weightOpsBefore[k] = profile.weightOpsBefore[k - 1] + (weightAt[k - 1] ? 1 : 0);
  }

  // The interior cuts: after the first weight op, before the last.
  int64_t weights = profile.weightOpsBefore[n];
  auto interior = [&](int64_t k) {
    return profile.weightOpsBefore[k] > 0 && profile.weightOpsBefore[k] < weights;
  };
  // A cut inside one ONNX node's ops could not be pinned by its name.
  auto splitsNode = [&](int64_t k) {
    std::string before = nodeNameOf(phases.getForwardOps()[k - 1]);
    return !before.empty() && before == nodeNameOf(phases.getForwardOps()[k]);
  };
  int64_t fewest = std::numeric_limits<int64_t>::max();
  for (int64_t k = 1; k < n; ++k)
    if (interior(k) && !splitsNode(k))
      fewest = std::min(fewest, profile.crossingCount[k]);
  for (int64_t k = 1; k < n; ++k) {
    if (!interior(k) || splitsNode(k) || profile.crossingCount[k] != fewest)
      continue;
    // One per layer (no weight op between two boundaries): the one with
    // the fewest bytes crossing, the latest of those (after the ReLU, not
    // between the bias add and the ReLU; after a CNN's pooling).
    if (!profile.candidates.empty() &&
        profile.weightOpsBefore[profile.candidates.back()] == profile.weightOpsBefore[k]) {
      if (profile.crossingBytes[k] <= profile.crossingBytes[profile.candidates.back()])
        profile.candidates.back() = k;
      continue;
    }
    profile.candidates.push_back(k);
  }
  LLVM_DEBUG({
    for (int64_t k = 0; k < n; ++k)
      llvm::dbgs() << k << " " << phases.getForwardOps()[k]->getName() << " "
                   << nodeNameOf(phases.getForwardOps()[k]) << " cross=" << profile.crossingCount[k]
                   << "/" << profile.crossingBytes[k] << " w=" << profile.weightOpsBefore[k]
                   << (llvm::is_contained(profile.candidates, k) ? " boundary" : "") << "\n";
  });
  return profile;
}

std::vector<int64_t> mlir::cleave::balanceCuts(const CutProfile &profile, int64_t chunks) {
  int64_t n = profile.forwardSeconds.size();
  // Boundaries: the start, the candidates, the end.
  std::vector<int64_t> bounds = {0};
  llvm::append_range(bounds, profile.candidates);
  bounds.push_back(n);
  std::vector<double> prefix(n + 1, 0.0);
  for (int64_t k = 0; k < n; ++k)
    prefix[k + 1] = prefix[k] + profile.forwardSeconds[k] + profile.backwardSeconds[k];
  int64_t b = bounds.size();
  auto seconds = [&](int64_t from, int64_t to) {
    return prefix[bounds[to]] - prefix[bounds[from]];
  };
  const double inf = std::numeric_limits<double>::infinity();

  // 1. The slowest chunk of the best split: slowest[j][i] for [0,
  //    bounds[i]) in j + 1 chunks.
  std::vector<std::vector<double>> slowest(chunks, std::vector<double>(b, inf));
  for (int64_t i = 1; i < b; ++i)
    slowest[0][i] = seconds(0, i);
  for (int64_t j = 1; j < chunks; ++j)
    for (int64_t i = j + 1; i < b; ++i)
      for (int64_t a = j; a < i; ++a)
        slowest[j][i] = std::min(slowest[j][i], std::max(slowest[j - 1][a], seconds(a, i)));

  // 2. Among the splits whose chunks all fit that time, the fewest bytes
  //    crossing the cuts. (One pass with (time, bytes) pairs would not do:
  //    a prefix with a faster chunk but more bytes can lose once a slower
  //    chunk follows.) Times within a relative 1e-9 count as equal, so that
  //    sums of the same costs in another order still reach the bytes.
  double limit = slowest[chunks - 1][b - 1] * (1 + 1e-9);
  const int64_t none = std::numeric_limits<int64_t>::max();
  std::vector<std::vector<int64_t>> bytes(chunks, std::vector<int64_t>(b, none));
  std::vector<std::vector<int64_t>> from(chunks, std::vector<int64_t>(b, -1));
  for (int64_t i = 1; i < b; ++i)
    if (seconds(0, i) <= limit)
      bytes[0][i] = 0;
  for (int64_t j = 1; j < chunks; ++j)
    for (int64_t i = j + 1; i < b; ++i)
      for (int64_t a = j; a < i; ++a) {
        if (bytes[j - 1][a] == none || seconds(a, i) > limit)
          continue;
        int64_t total = bytes[j - 1][a] + profile.crossingBytes[bounds[a]];
        if (total < bytes[j][i]) {
          bytes[j][i] = total;
          from[j][i] = a;
        }
      }
  std::vector<int64_t> starts(chunks, 0);
  int64_t i = b - 1;
  for (int64_t j = chunks - 1; j > 0; --j) {
    i = from[j][i];
    starts[j] = bounds[i];
  }
  return starts;
}

std::string mlir::cleave::nameCutBefore(const TrainStepPhases &phases, int64_t start) {
  Operation *last = phases.getForwardOps()[start - 1];
  std::string node = nodeNameOf(last);
  if (!node.empty())
    return node;
  auto id = last->getAttrOfType<IntegerAttr>(CleaveDialect::kForwardIdAttrName);
  return last->getName().getStringRef().str() + "#" + std::to_string(id ? id.getInt() : 0);
}

FailureOr<std::vector<int64_t>> mlir::cleave::resolvePinnedCuts(const TrainStepPhases &phases,
                                                                llvm::ArrayRef<std::string> cuts) {
  llvm::ArrayRef<Operation *> forward = phases.getForwardOps();
  int64_t n = forward.size();
  llvm::StringMap<int64_t> lastPosition;
  std::vector<std::string> names;
  for (auto [position, op] : llvm::enumerate(forward)) {
    std::string node = nodeNameOf(op);
    if (node.empty())
      continue;
    if (!lastPosition.count(node))
      names.push_back(node);
    lastPosition[node] = position;
  }
  func::FuncOp function = phases.getFunction();
  std::vector<int64_t> starts = {0};
  for (const std::string &cut : cuts) {
    auto it = lastPosition.find(cut);
    if (it == lastPosition.end()) {
      InFlightDiagnostic diag = function.emitOpError() << "has no forward op of ONNX node '" << cut
                                                       << "' to cut the pipeline after";
      if (names.empty()) {
        diag << "; its ops carry no ONNX node names (the IR was printed without locations)";
        return diag;
      }
      std::vector<std::string> nearest = names;
      llvm::stable_sort(nearest, [&](const std::string &a, const std::string &b) {
        return llvm::StringRef(a).edit_distance(cut) < llvm::StringRef(b).edit_distance(cut);
      });
      nearest.resize(std::min<size_t>(nearest.size(), 4));
      diag << "; near names: ";
      llvm::interleaveComma(nearest, diag,
                            [&](const std::string &name) { diag << "'" << name << "'"; });
      return diag;
    }
    int64_t start = it->second + 1;
    if (start >= n)
      return function.emitOpError() << "cannot cut the pipeline after ONNX node '" << cut
                                    << "': it ends the forward, so the last chunk would be empty";
    if (start <= starts.back())
      return function.emitOpError()
             << "pipeline cut '" << cut << "' ends at or before the previous cut "
             << (starts.size() > 1 ? "'" + cuts[starts.size() - 2] + "'"
                                   : std::string("(the start)"))
             << ": give the cuts in forward order, one per chunk boundary";
    starts.push_back(start);
  }
  return starts;
}
