//===- SearchProblem.cpp - groups, classes and the least-memory plan ------===//
//
// Builds the search's problem (SearchProblem.h): which ops and arguments
// decide, which follow, which groups share a choice. Candidates and edges
// are priced in SearchCosts.cpp.
//
//===----------------------------------------------------------------------===//
#include "passes/Sharding/SearchProblem.h"
#include "passes/Sharding/StructuralLabels.h"
#include "passes/TrainStepAttrs.h"

#include "dialects/Cleave/IR/CleaveOps.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/Support/DebugLog.h"
#include "llvm/Support/InterleavedRange.h"

#include <map>

#define DEBUG_TYPE "cleave-search-sharding"

using namespace mlir;
using namespace mlir::cleave;

SearchProblem::SearchProblem(func::FuncOp func, const GridInfo &grid, const Cluster &cluster,
                             DenseMap<unsigned, SmallVector<AxisList, 4>> pinned)
    : func(func), grid(grid), cluster(cluster), pinned(std::move(pinned)),
      collectives(cluster, grid.shape) {}

LogicalResult SearchProblem::build(int64_t maxDistinctOps) {
  buildArgumentGroups();
  findSavedActivations();
  buildOpGroups();
  classifyGroups();
  LDBG() << "grid " << llvm::interleaved(grid.names) << " of " << llvm::interleaved(grid.shape)
         << ": " << groups.size() << " groups in " << classes.size() << " classes, " << distinctOps
         << " distinct ops";
  if (distinctOps > maxDistinctOps)
    return func.emitOpError() << "the sharding search's groups hold " << distinctOps
                              << " distinct ops (repeated structure counted once), more than "
                                 "its limit of "
                              << maxDistinctOps,
           failure();
  for (auto [index, group] : llvm::enumerate(groups))
    if (group.arguments.empty() && group.candidates.empty() &&
        group.representative == static_cast<int>(index))
      enumerateOpCandidates(group);

  // Objective per class column: the members' compute and in-group
  // resharding.
  baseCosts.assign(classes.size(), {});
  for (auto [index, groupClass] : llvm::enumerate(classes))
    for (const Candidate &candidate : groups[groupClass.representative].candidates)
      baseCosts[index].push_back(candidate.seconds * groupClass.count);
  buildEdges();
  computeAxisTargets();
  computeLeastMemoryPlan();
  LDBG() << edges.size() << " edges; least memory " << leastMemoryBytes / 1e9 << " GB of "
         << usableBytes() / 1e9 << " usable";
  return success();
}

double SearchProblem::candidateBytes(int groupClass, int c) const {
  const Candidate &chosen = candidate(groupClass, c);
  return (chosen.memoryBytes + chosen.activationBytes) * classes[groupClass].count;
}

void SearchProblem::computeLeastMemoryPlan() {
  leastMemoryPlan.clear();
  leastMemoryBytes = 0;
  for (size_t k = 0; k < classes.size(); ++k) {
    const std::vector<Candidate> &candidates = groups[classes[k].representative].candidates;
    int least = 0;
    for (size_t c = 1; c < candidates.size(); ++c)
      if (candidates[c].memoryBytes + candidates[c].activationBytes <
          candidates[least].memoryBytes + candidates[least].activationBytes)
        least = c;
    leastMemoryPlan.push_back(least);
    const Candidate &smallest = candidates[least];
    leastMemoryBytes += (smallest.memoryBytes + smallest.activationBytes) * classes[k].count;
  }
}

std::string SearchProblem::describeCandidate(int groupClass, int c) const {
  const Group &group = groups[classes[groupClass].representative];
  const Candidate &chosen = group.candidates[c];
  std::string text;
  llvm::raw_string_ostream os(text);
  auto axes = [&](ArrayRef<AxisList> split) {
    os << "[";
    llvm::interleaveComma(split, os, [&](const AxisList &a) { os << grid.axesName(a); });
    os << "]";
  };
  if (!group.arguments.empty()) {
    os << "argument #" << group.arguments.front() << " x" << classes[groupClass].count << ": dims ";
    axes(chosen.argumentDims);
  } else {
    os << group.ops.front()->getName() << " " << group.ops.front()->getLoc() << " x"
       << classes[groupClass].count << ": factors ";
    axes(chosen.factorAxes.empty() ? ArrayRef<AxisList>() : chosen.factorAxes.front());
  }
  os << ", " << baseCosts[groupClass][c] << " s, " << candidateBytes(groupClass, c) / 1e6 << " MB";
  return text;
}

void SearchProblem::traceChoice(ArrayRef<int> chosen) const {
  for (size_t k = 0; k < classes.size(); ++k) {
    int own = 0;
    for (int c = 1; c < numCandidates(k); ++c)
      if (baseCosts[k][c] < baseCosts[k][own])
        own = c;
    LDBG() << "class " << k << ": candidate " << chosen[k] << " of " << numCandidates(k) << ", "
           << describeCandidate(k, chosen[k]);
    if (own != chosen[k])
      LDBG() << "  (alone it would take candidate " << own << ", " << describeCandidate(k, own)
             << ": resharding or memory decided)";
  }
}

SearchPlan SearchProblem::planOf(ArrayRef<int> chosen) const {
  SearchPlan plan;
  plan.grid.sizes.assign(grid.shape.begin(), grid.shape.end());
  plan.grid.names.assign(grid.names.begin(), grid.names.end());
  plan.seconds = evaluate(chosen);
  for (auto [index, group] : llvm::enumerate(groups)) {
    const Candidate &candidate = candidatesOf(index)[chosen[classOfGroup[index]]];
    plan.stateBytes += candidate.memoryBytes;
    plan.activationBytes += candidate.activationBytes;
    for (unsigned argument : group.arguments)
      if (cast<RankedTensorType>(getFunction().getArgument(argument).getType()).getRank() > 0)
        plan.arguments.push_back({argument, candidate.argumentDims});
    for (auto [member, op] : llvm::enumerate(group.ops))
      if (rules.count(op))
        plan.ops.push_back({op, candidate.factorAxes[member]});
  }
  return plan;
}

void SearchProblem::buildArgumentGroups() {
  // A parameter and its optimizer state ("w.exp_avg") share one layout.
  llvm::StringMap<int> paramGroup;
  for (BlockArgument argument : func.getArguments()) {
    unsigned index = argument.getArgNumber();
    auto type = cast<RankedTensorType>(argument.getType());
    bool isParam = static_cast<bool>(getParamAttr(func, index));
    bool isInput = static_cast<bool>(func.getArgAttr(index, CleaveDialect::kInputAttrName));
    if (!isParam && !isInput)
      continue;
    Group group;
    group.arguments.push_back(index);
    Candidate whole;
    whole.argumentDims.resize(type.getRank());
    group.candidates.push_back(whole);
    // Split one dimension (rows only for a batch input) over any set of axes.
    int64_t dims = isInput ? std::min<int64_t>(1, type.getRank()) : type.getRank();
    unsigned axisCount = grid.shape.size();
    for (int64_t dim = 0; dim < dims; ++dim)
      for (unsigned mask = 1; mask < (1u << axisCount); ++mask) {
        AxisList axes;
        for (unsigned axis = 0; axis < axisCount; ++axis)
          if (mask & (1u << axis))
            axes.push_back(static_cast<int16_t>(axis));
        if (type.getDimSize(dim) % grid.axesSize(axes) != 0)
          continue;
        Candidate candidate;
        candidate.argumentDims.resize(type.getRank());
        candidate.argumentDims[dim] = axes;
        group.candidates.push_back(candidate);
      }
    if (isParam)
      paramGroup[getParamAttr(func, index).getName()] = groups.size();
    argumentGroup[argument] = groups.size();
    groups.push_back(std::move(group));
  }
  for (BlockArgument argument : func.getArguments()) {
    auto state = func.getArgAttrOfType<StringAttr>(argument.getArgNumber(),
                                                   CleaveDialect::kOptStateAttrName);
    if (!state)
      continue;
    auto it = paramGroup.find(state.getValue().rsplit('.').first);
    if (it == paramGroup.end())
      continue;
    Group &group = groups[it->second];
    auto paramType = cast<RankedTensorType>(func.getArgument(group.arguments.front()).getType());
    if (paramType != argument.getType())
      continue;
    group.arguments.push_back(argument.getArgNumber());
    argumentGroup[argument] = it->second;
  }
  // A pinned parameter has one layout: the pin.
  for (Group &group : groups)
    if (auto pin = pinned.find(group.arguments.front()); pin != pinned.end()) {
      Candidate candidate;
      candidate.argumentDims.assign(pin->second.begin(), pin->second.end());
      group.candidates.assign(1, candidate);
    }
  for (Group &group : groups) {
    int64_t bytes = 0;
    for (unsigned index : group.arguments) {
      Type type = func.getArgument(index).getType();
      // At bf16 a parameter is a working copy plus its fp32 master.
      bytes += getParamAttr(func, index) ? getParameterBytes(type, precision)
               : func.getArgAttr(index, CleaveDialect::kOptStateAttrName)
                   ? getOptimizerStateBytes(type, precision)
                   : getTensorBytes(type);
    }
    // A trainable parameter's gradient is laid out like it (reduce-scattered
    // into its shards, or all-reduced whole).
    unsigned first = group.arguments.front();
    if (isTrainableParam(func, first))
      bytes += getActivationBytes(func.getArgument(first).getType(), precision);
    for (Candidate &candidate : group.candidates) {
      int64_t parts = 1;
      for (const AxisList &axes : candidate.argumentDims)
        parts *= grid.axesSize(axes);
      candidate.memoryBytes = static_cast<double>(bytes) / static_cast<double>(parts);
    }
  }
}

void SearchProblem::findSavedActivations() {
  // Values computed before the loss and used after it stay live from the
  // forward pass into the backward: the activation memory that peaks when
  // the backward starts.
  Operation *lossOp = findLossOp(func);
  if (!lossOp)
    return;
  for (Operation &op : func.getBody().front()) {
    if (&op == lossOp)
      break;
    for (Value result : op.getResults())
      if (llvm::any_of(result.getUsers(),
                       [&](Operation *user) { return lossOp->isBeforeInBlock(user); }))
        savedActivations.insert(result);
  }
}

void SearchProblem::classifyGroups() {
  // Enough rounds to tell a layer's ops apart from their neighbours' within
  // the layer, few enough that only the first and last layers stand apart.
  constexpr int kLabelRounds = 4;
  StructuralLabels labels = computeStructuralLabels(func, kLabelRounds);
  auto pointer = [](const void *p) {
    return static_cast<uint64_t>(reinterpret_cast<uintptr_t>(p));
  };
  std::map<std::vector<uint64_t>, int> classIds;
  for (auto [index, group] : llvm::enumerate(groups)) {
    // The exact structure (uniqued names, attributes, types and the wiring
    // inside the group) makes tied groups' candidates identical; the labels
    // add the context.
    std::vector<uint64_t> signature;
    if (!group.arguments.empty()) {
      signature.push_back(1);
      for (unsigned argument : group.arguments) {
        signature.push_back(pointer(func.getArgument(argument).getType().getAsOpaquePointer()));
        signature.push_back(labels.arguments[argument]);
      }
      // A pinned parameter decides nothing and ties with nothing.
      if (pinned.count(group.arguments.front()))
        signature.push_back(3 + index);
    } else {
      signature.push_back(2);
      for (Operation *op : group.ops) {
        signature.push_back(pointer(op->getName().getAsOpaquePointer()));
        signature.push_back(pointer(op->getRawDictionaryAttrs().getAsOpaquePointer()));
        for (Value operand : op->getOperands()) {
          signature.push_back(pointer(operand.getType().getAsOpaquePointer()));
          Operation *producer = operand.getDefiningOp();
          auto it = producer ? memberOf.find(producer) : memberOf.end();
          bool inside = it != memberOf.end() && it->second.first == static_cast<int>(index);
          signature.push_back(
              inside ? 1 + it->second.second * 256 + cast<OpResult>(operand).getResultNumber() : 0);
        }
        for (Value result : op->getResults()) {
          signature.push_back(pointer(result.getType().getAsOpaquePointer()));
          signature.push_back(savedActivations.contains(result));
        }
        signature.push_back(labels.ops.lookup(op));
      }
    }
    auto [it, inserted] = classIds.try_emplace(std::move(signature), classes.size());
    if (inserted)
      classes.push_back({static_cast<int>(index)});
    ++classes[it->second].count;
    group.representative = classes[it->second].representative;
    classOfGroup.push_back(it->second);
  }
  distinctOps = 0;
  for (const GroupClass &groupClass : classes)
    distinctOps += groups[groupClass.representative].ops.size();
}

void SearchProblem::buildOpGroups() {
  Block &body = func.getBody().front();
  // Cheap ops that read a parameter directly (the q, k and v slices of a
  // fused weight), by the parameter they read: they join one group. Only
  // before the loss: the partitioner gathers again for users after it.
  DenseMap<Value, int> readerGroup;
  Operation *lossOp = findLossOp(func);
  bool pastLoss = false;
  for (Operation &op : body.without_terminator()) {
    pastLoss |= &op == lossOp;
    auto ruleOp = dyn_cast<FactorRuleOpInterface>(&op);
    if (isa<ConstantOp>(&op))
      continue; // fixed: whole, and free to slice
    if (!ruleOp) {
      // No rule: runs on whole tensors, a group with one (empty) strategy.
      Group group;
      group.ops.push_back(&op);
      Candidate candidate;
      candidate.factorAxes.push_back({});
      for (Value result : op.getResults())
        candidate.produced[result] =
            TensorSharding::replicated(cast<RankedTensorType>(result.getType()).getRank());
      group.candidates.push_back(candidate);
      memberOf[&op] = {static_cast<int>(groups.size()), 0};
      groups.push_back(std::move(group));
      continue;
    }
    rules[&op] = ruleOp.getFactorRule();
    // A follower joins the group of its largest operand computed by a
    // grouped op (a select follows its data, not its broadcast mask).
    if (!op.hasTrait<OpTrait::cleave::HeavyOp>()) {
      if (std::optional<unsigned> leading = leadingOperand(&op, -1)) {
        int groupIndex = memberOf[op.getOperand(*leading).getDefiningOp()].first;
        Group &group = groups[groupIndex];
        memberOf[&op] = {groupIndex, static_cast<int>(group.ops.size())};
        group.ops.push_back(&op);
        continue;
      }
      // Several cheap readers of one parameter decide together how they
      // read it, so that one resharding of it serves them all, as the
      // partitioner shares it (its cache is per value and layout). Apart,
      // each would pay its own collective for its part: one weight split
      // by slices costs three gathers where the same weight read through
      // one transpose costs one, and the plan would depend on which of
      // the two ways the model was written.
      std::optional<unsigned> shared = sharedParameter(&op);
      if (shared && !pastLoss) {
        Value parameter = op.getOperand(*shared);
        if (auto it = readerGroup.find(parameter); it != readerGroup.end()) {
          Group &group = groups[it->second];
          memberOf[&op] = {it->second, static_cast<int>(group.ops.size())};
          group.ops.push_back(&op);
          continue;
        }
        readerGroup[parameter] = groups.size();
      }
    }
    Group group;
    group.ops.push_back(&op);
    memberOf[&op] = {static_cast<int>(groups.size()), 0};
    groups.push_back(std::move(group));
  }
}

std::optional<unsigned> SearchProblem::sharedParameter(Operation *op) const {
  std::optional<unsigned> shared;
  for (auto [index, operand] : llvm::enumerate(op->getOperands())) {
    if (isa<BlockArgument>(operand) && argumentGroup.count(operand)) {
      if (shared)
        return std::nullopt; // two parameters: no single one to follow
      shared = index;
    } else if (!isa_and_nonnull<ConstantOp>(operand.getDefiningOp())) {
      return std::nullopt;
    }
  }
  return shared;
}

std::optional<unsigned> SearchProblem::leadingOperand(Operation *op, int group) const {
  std::optional<unsigned> leading;
  int64_t leadingElements = -1;
  for (auto [index, operand] : llvm::enumerate(op->getOperands())) {
    Operation *producer = operand.getDefiningOp();
    auto it = producer ? memberOf.find(producer) : memberOf.end();
    if (it == memberOf.end() || !rules.count(producer) || (group >= 0 && it->second.first != group))
      continue;
    int64_t elements = cast<RankedTensorType>(operand.getType()).getNumElements();
    if (elements > leadingElements) {
      leading = index;
      leadingElements = elements;
    }
  }
  return leading;
}

void SearchProblem::computeAxisTargets() {
  targetsOf.assign(classes.size(), {});
  for (auto [k, groupClass] : llvm::enumerate(classes))
    for (const Candidate &candidate : groups[groupClass.representative].candidates) {
      SmallVector<int8_t> targets(grid.shape.size(), -1);
      auto mark = [&](ArrayRef<AxisList> split) {
        for (auto [target, axes] : llvm::enumerate(split))
          for (int16_t axis : axes)
            targets[axis] = static_cast<int8_t>(target);
      };
      if (!candidate.argumentDims.empty())
        mark(candidate.argumentDims);
      else if (!candidate.factorAxes.empty())
        mark(candidate.factorAxes.front());
      targetsOf[k].push_back(targets);
    }
}

double SearchProblem::evaluate(ArrayRef<int> chosen) const {
  double seconds = 0;
  for (size_t k = 0; k < classes.size(); ++k)
    seconds += baseCosts[k][chosen[k]];
  for (const Edge &edge : edges) {
    int from = edge.producerClass < 0 ? 0 : edge.fromOf[chosen[edge.producerClass]];
    int to = edge.consumerClass < 0 ? 0 : edge.toOf[chosen[edge.consumerClass]];
    seconds += edge.count * edge.cost[from][to];
  }
  return seconds;
}
