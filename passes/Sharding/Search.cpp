//===- Search.cpp - choose every op's sharding by cost (Alpa's intra-op ILP)
//
// For a fixed device grid, every op of the train step may run under several
// strategies (assignments of grid axes to its factors, FactorRule.h); each
// costs compute time, and where a value's layout differs from what its user
// needs, resharding costs communication. The search picks one strategy per
// op minimising the predicted step time, under the per-device memory limit,
// as Alpa does (Zheng et al., OSDI'22):
//
//   min  sum_v c_v . s_v  +  sum_(u,v) s_u^T R_uv s_v     s_v one-hot
//
// solved exactly as a 0-1 program by CBC. Two reductions keep it small:
//   * groups: an op that is cheap and moves no data across its factors
//     (elementwise, reshape, transpose, broadcast, slice, ...) follows the
//     layout of its first operand computed in the program, so only "heavy"
//     ops (matmul, convolution, normalisations, softmax, reductions, losses,
//     gathers) and arguments are decisions; a group's strategy fixes its
//     followers, whose compute and internal resharding it pays;
//   * edges: the product s_u^T R s_v is linearised over the distinct
//     layouts the producer can give the value and the consumer can ask for
//     (a transportation polytope whose marginals are the one-hot choices),
//     not over strategy pairs.
// Arguments are decisions too: a parameter (with its optimizer state) is
// stored whole or split along one dimension over a set of axes (ZeRO-3 or
// tensor-parallel storage), a batch input whole or split by rows.
//
// The result is written as cleave.factor_axes on ops and cleave.sharding on
// arguments and results, exactly what cleave-partition reads; the chosen
// grid's objective is stored as `cleave.predicted_step_seconds` on the
// function for reports.
//
//===----------------------------------------------------------------------===//
#include "passes/Passes.h"
#include "passes/Sharding/IlpSolver.h"
#include "passes/Sharding/StructuralLabels.h"
#include "passes/TrainStepAttrs.h"

#include "passes/Analysis/Cluster/Cluster.h"
#include "passes/Analysis/Cost/CollectiveCost.h"
#include "passes/Analysis/Cost/ComputeCost.h"
#include "passes/Analysis/Cost/ReshardCost.h"
#include "passes/Analysis/Sharding/GridSpec.h"
#include "passes/Analysis/Sharding/ShardingAttrs.h"

#include "dialects/Cleave/IR/CleaveOps.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/Threading.h"
#include "mlir/Pass/PassManager.h"
#include "llvm/ADT/DenseSet.h"
#include "llvm/ADT/SmallBitVector.h"
#include "llvm/ADT/StringMap.h"

#include <cmath>
#include <functional>
#include <limits>
#include <map>
#include <numeric>

namespace mlir::cleave {
#define GEN_PASS_DEF_CLEAVESEARCHSHARDING
#include "passes/Passes.h.inc"
} // namespace mlir::cleave

using namespace mlir;
using namespace mlir::cleave;

namespace {

std::string key(const TensorSharding &sharding) {
  std::string text;
  for (const AxisList &axes : sharding.dims) {
    text += '[';
    for (int16_t axis : axes)
      text += std::to_string(axis) + ",";
    text += ']';
  }
  text += "p";
  for (int16_t axis : sharding.partial)
    text += std::to_string(axis) + ",";
  text += std::to_string(static_cast<int>(sharding.partialKind));
  return text;
}

/// Ops whose layout is worth deciding; the rest follow their operands.
bool isHeavy(Operation *op) {
  return isa<MatmulOp, Conv2dOp, Conv2dGradInputOp, Conv2dGradFilterOp, LayerNormOp,
             LayerNormGradOp, BatchNormOp, BatchNormGradOp, SoftmaxOp, SoftmaxGradOp, ReduceOp,
             CrossEntropyOp, CrossEntropyGradOp, GatherOp, ScatterAddOp, Pool2dOp, Pool2dGradOp>(
      op);
}

struct Candidate {
  /// Factor axes of each member op, in member order.
  SmallVector<SmallVector<AxisList>> factorAxes;
  /// Per dimension, for an argument group (its parameter's or input's layout).
  SmallVector<AxisList, 4> argumentDims;
  double seconds = 0;         // compute plus resharding inside the group
  double memoryBytes = 0;     // parameters, their gradients and optimizer state per device
  double activationBytes = 0; // values kept from the forward pass for the backward
  DenseMap<Value, TensorSharding> produced; // layouts of an op group's values
};

struct Group {
  SmallVector<Operation *> ops; // leader first, then followers in program order
  SmallVector<unsigned> arguments;
  /// Filled on a class's representative only; the others share them.
  std::vector<Candidate> candidates;
  int representative = -1;
};

/// Groups of identical structure in the same context (the same op of every
/// repeated layer) share one choice: one set of columns, their costs and
/// memory multiplied by `count`.
/// A value passed between groups: the resharding it costs for each pair of
/// the producer's and consumer's layouts, and how many uses share it.
struct Edge {
  int producerClass = -1, consumerClass = -1; // -1: fixed (whole)
  SmallVector<int> fromOf, toOf;              // candidate -> distinct layout
  SmallVector<SmallVector<double>> cost;      // [from layout][to layout]
  int count = 0;
  bool anyCost = false;
};

/// The layout an argument group's candidate stores its arguments in.
TensorSharding argumentLayout(const Candidate &candidate) {
  TensorSharding sharding;
  sharding.dims.assign(candidate.argumentDims.begin(), candidate.argumentDims.end());
  return sharding;
}

struct GroupClass {
  int representative;
  int count = 0;
};

class Search {
public:
  Search(func::FuncOp func, const GridInfo &grid, const Cluster &cluster)
      : func(func), grid(grid), cluster(cluster), collectives(cluster, grid.shape) {}

  /// Builds and solves the program; returns the predicted seconds, or
  /// failure with a diagnostic.
  FailureOr<double> run(double timeLimit, bool apply);
  /// Programs larger than this are not solved (the pass falls back).
  int maxColumns = 400000;
  /// Nor are programs whose distinct groups hold more ops than this.
  int64_t maxDistinctOps = 2500;
  bool tooLarge = false;
  /// Ops in distinct groups (each repeated structure counted once).
  int64_t distinctOps = 0;
  /// Relative gain below which a change of plan is not worth making (a
  /// bias laid out differently, say): ties keep the simpler plan.
  static constexpr double kMinGain = 1e-3;
  /// Set before run(): layouts the user pinned (--shard), by argument
  /// number of the parameter; its optimizer state follows.
  DenseMap<unsigned, SmallVector<AxisList, 4>> pinned;
  /// Set before run(): ignore time and take the plan that needs the least
  /// memory (when no plan fits, to say by how much); `chosenBytes` is then
  /// its estimate.
  bool leastMemory = false;
  double chosenBytes = 0;
  /// Set before run() on a grid of several axes: the plan found on one axis
  /// over the same devices (per class, the factor or dimension it split),
  /// the descent's start. run() on one axis fills `chosenTargets` with it.
  std::optional<std::vector<int8_t>> oneAxisPlan, chosenTargets;

private:
  void buildArgumentGroups();
  void findSavedActivations();
  LogicalResult buildOpGroups();
  /// Ties groups of equal structure and context (StructuralLabels.h).
  void classifyGroups();
  void buildEdges();
  /// The operand a follower takes its layout from: the largest one computed
  /// by a grouped op (in `group`, unless -1).
  std::optional<unsigned> leadingOperand(Operation *op, int group) const;
  /// The operand of a cheap op that reads a parameter directly, when it
  /// reads one and otherwise only constants.
  std::optional<unsigned> sharedParameter(Operation *op) const;
  /// For each class and candidate, the factor (op groups) or dimension
  /// (argument groups) each grid axis splits, -1 for none.
  void computeAxisTargets();
  /// Solves the program over the candidates `allowed(class, candidate)`
  /// admits, from `start` (a candidate per class, or empty); fills
  /// `chosen` and returns its predicted seconds.
  FailureOr<double> solveRestricted(llvm::function_ref<bool(int, int)> allowed, ArrayRef<int> start,
                                    std::vector<int> &chosen, double timeLimit);
  /// Predicted seconds of one candidate per class.
  double evaluate(ArrayRef<int> chosen) const;
  static constexpr int kMaxDescentRounds = 4;
  /// What the search lets its memory estimate use: the estimate counts
  /// parameters, gradients, optimizer state and the activations kept for
  /// the backward, not the backward's temporaries or the buffer plan's
  /// fragmentation (a few percent on GPT; docs/sharding.md).
  double usableBytes() const { return 0.95 * static_cast<double>(cluster.memoryCapacity); }
  const std::vector<Candidate> &candidatesOf(int group) const {
    return groups[groups[group].representative].candidates;
  }
  void enumerateOpCandidates(Group &group);
  /// Fills a candidate's followers from the leader's factor axes (a
  /// follower factor the layout cannot split stays whole) and prices them.
  void completeCandidate(Group &group, Candidate &candidate);
  TensorSharding resultSharding(const FactorRule &rule, ArrayRef<AxisList> axes,
                                unsigned result) const;
  static TensorSharding operandSharding(const FactorRule &rule, ArrayRef<AxisList> axes,
                                        unsigned operand);
  double computeSeconds(Operation *op, ArrayRef<AxisList> axes);
  bool validAxes(const FactorRule &rule, ArrayRef<AxisList> axes) const;
  /// The layout `value` has under each candidate of its group (or fixed).
  TensorSharding layoutOf(Value value, int candidate) const;

  func::FuncOp func;
  const GridInfo &grid;
  const Cluster &cluster;
  GridCollectives collectives;
  std::vector<Group> groups;
  std::vector<GroupClass> classes;
  std::vector<int> classOfGroup;
  std::vector<std::vector<double>> baseCosts; // [class][candidate]
  std::vector<int> leastMemoryPlan;           // per class, its smallest candidate
  bool leastMemoryFits = false;
  std::vector<Edge> edges;
  std::vector<std::vector<SmallVector<int8_t>>> axisTargets; // [class][candidate][axis]
  DenseSet<Value> savedActivations;
  DenseMap<Operation *, std::pair<int, int>> memberOf; // op -> (group, member index)
  DenseMap<Value, int> argumentGroup;                  // argument -> group
  DenseMap<Operation *, FactorRule> rules;
};

TensorSharding Search::resultSharding(const FactorRule &rule, ArrayRef<AxisList> axes,
                                      unsigned result) const {
  TensorSharding sharding;
  for (const DimFactors &factors : rule.results[result])
    sharding.dims.push_back(factors.empty() ? AxisList{} : axes[factors.front()]);
  for (auto [factor, factorAxes] : llvm::enumerate(axes))
    if (!factorAxes.empty() && !rule.resultCarries(result, factor))
      sharding.partial.append(factorAxes.begin(), factorAxes.end());
  llvm::sort(sharding.partial);
  sharding.partialKind = rule.resultReductions[result];
  return sharding;
}

TensorSharding Search::operandSharding(const FactorRule &rule, ArrayRef<AxisList> axes,
                                       unsigned operand) {
  TensorSharding sharding;
  for (const DimFactors &factors : rule.operands[operand])
    sharding.dims.push_back(factors.empty() ? AxisList{} : axes[factors.front()]);
  return sharding;
}

bool Search::validAxes(const FactorRule &rule, ArrayRef<AxisList> axes) const {
  for (auto [index, factorAxes] : llvm::enumerate(axes)) {
    if (factorAxes.empty())
      continue;
    const Factor &factor = rule.factors[index];
    if (factor.kind == FactorKind::whole || factor.size % grid.axesSize(factorAxes) != 0)
      return false;
  }
  auto minorSplit = [&](const TensorFactors &dims) {
    for (const DimFactors &factors : dims)
      for (size_t i = 1; i < factors.size(); ++i)
        if (!axes[factors[i]].empty())
          return true;
    return false;
  };
  return !llvm::any_of(rule.operands, minorSplit) && !llvm::any_of(rule.results, minorSplit);
}

double Search::computeSeconds(Operation *op, ArrayRef<AxisList> axes) {
  int64_t factor = 1;
  for (const AxisList &factorAxes : axes)
    factor *= grid.axesSize(factorAxes);
  return computeTime(op, cluster, factor);
}

void Search::buildArgumentGroups() {
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
    for (unsigned index : group.arguments)
      bytes += getTensorBytes(cast<RankedTensorType>(func.getArgument(index).getType()));
    // A trainable parameter's gradient is laid out like it (reduce-scattered
    // into its shards, or all-reduced whole).
    unsigned first = group.arguments.front();
    if (isTrainableParam(func, first))
      bytes += getTensorBytes(cast<RankedTensorType>(func.getArgument(first).getType()));
    for (Candidate &candidate : group.candidates) {
      int64_t parts = 1;
      for (const AxisList &axes : candidate.argumentDims)
        parts *= grid.axesSize(axes);
      candidate.memoryBytes = static_cast<double>(bytes) / static_cast<double>(parts);
    }
  }
}

void Search::findSavedActivations() {
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

void Search::classifyGroups() {
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

LogicalResult Search::buildOpGroups() {
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
    if (!isHeavy(&op)) {
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
  classifyGroups();
  if (distinctOps > maxDistinctOps)
    return success(); // the caller reports it; enumerating would be wasted
  for (auto [index, group] : llvm::enumerate(groups))
    if (group.arguments.empty() && group.candidates.empty() &&
        group.representative == static_cast<int>(index))
      enumerateOpCandidates(group);
  return success();
}

void Search::enumerateOpCandidates(Group &group) {
  Operation *leader = group.ops.front();
  const FactorRule &rule = rules[leader];
  unsigned axisCount = grid.shape.size();
  unsigned factorCount = rule.factors.size();
  // Each grid axis goes to one factor or to none.
  SmallVector<unsigned> choice(axisCount, 0); // 0 = none, f + 1 = factor f
  std::map<std::string, bool> seen;
  while (true) {
    SmallVector<AxisList> axes(factorCount);
    for (unsigned axis = 0; axis < axisCount; ++axis)
      if (choice[axis])
        axes[choice[axis] - 1].push_back(static_cast<int16_t>(axis));
    if (validAxes(rule, axes)) {
      Candidate candidate;
      candidate.factorAxes.push_back(axes);
      completeCandidate(group, candidate);
      group.candidates.push_back(std::move(candidate));
    }
    unsigned axis = 0;
    while (axis < axisCount && ++choice[axis] > factorCount)
      choice[axis++] = 0;
    if (axis == axisCount)
      break;
  }
}

std::optional<unsigned> Search::sharedParameter(Operation *op) const {
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

std::optional<unsigned> Search::leadingOperand(Operation *op, int group) const {
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

TensorSharding Search::layoutOf(Value value, int candidate) const {
  auto type = cast<RankedTensorType>(value.getType());
  if (auto argument = dyn_cast<BlockArgument>(value)) {
    auto it = argumentGroup.find(argument);
    if (it == argumentGroup.end())
      return TensorSharding::replicated(type.getRank());
    return argumentLayout(candidatesOf(it->second)[candidate]);
  }
  auto it = memberOf.find(value.getDefiningOp());
  if (it == memberOf.end())
    return TensorSharding::replicated(type.getRank());
  // The same member's result in the class representative.
  const Group &representative = groups[groups[it->second.first].representative];
  Value same =
      representative.ops[it->second.second]->getResult(cast<OpResult>(value).getResultNumber());
  return representative.candidates[candidate].produced.lookup(same);
}

void Search::completeCandidate(Group &group, Candidate &candidate) {
  Operation *leader = group.ops.front();
  const FactorRule &leaderRule = rules[leader];
  candidate.seconds += computeSeconds(leader, candidate.factorAxes[0]);
  for (auto [index, result] : llvm::enumerate(leader->getResults()))
    candidate.produced[result] = resultSharding(leaderRule, candidate.factorAxes[0], index);
  int groupIndex = memberOf[leader].first;
  for (Operation *member : llvm::drop_begin(group.ops)) {
    const FactorRule &rule = rules[member];
    SmallVector<AxisList> axes(rule.factors.size());
    // Follow the operand the member joined the group by, dimension by
    // dimension: a value computed in the group, or the parameter it reads
    // with the leader, read as the leader reads it.
    std::optional<unsigned> leading = leadingOperand(member, groupIndex);
    TensorSharding layout;
    if (leading) {
      layout = candidate.produced[member->getOperand(*leading)];
    } else if (std::optional<unsigned> shared = sharedParameter(member)) {
      Value parameter = member->getOperand(*shared);
      for (auto [index, operand] : llvm::enumerate(leader->getOperands()))
        if (operand == parameter && !leading) {
          layout = operandSharding(leaderRule, candidate.factorAxes[0], index);
          leading = *shared;
        }
    }
    if (leading) {
      unsigned operandIndex = *leading;
      llvm::SmallBitVector used(grid.shape.size());
      for (auto [dim, factors] : llvm::enumerate(rule.operands[operandIndex])) {
        if (factors.empty() || layout.dims[dim].empty())
          continue;
        SmallVector<AxisList> trial = axes;
        trial[factors.front()] = layout.dims[dim];
        bool clash = false;
        for (int16_t axis : layout.dims[dim])
          clash |= used.test(axis);
        if (clash || !validAxes(rule, trial))
          continue;
        axes = trial;
        for (int16_t axis : layout.dims[dim])
          used.set(axis);
      }
    }
    candidate.factorAxes.push_back(axes);
    candidate.seconds += computeSeconds(member, axes);
    // Resharding of operands computed in the group is this group's cost.
    for (auto [operandIndex, operand] : llvm::enumerate(member->getOperands())) {
      Operation *producer = operand.getDefiningOp();
      auto it = producer ? memberOf.find(producer) : memberOf.end();
      if (it == memberOf.end() || it->second.first != groupIndex)
        continue;
      candidate.seconds +=
          reshardSeconds(cast<RankedTensorType>(operand.getType()), candidate.produced[operand],
                         operandSharding(rule, axes, operandIndex), grid, collectives);
    }
    for (auto [index, result] : llvm::enumerate(member->getResults()))
      candidate.produced[result] = resultSharding(rule, axes, index);
  }
  for (Operation *member : group.ops)
    for (Value result : member->getResults())
      if (savedActivations.contains(result)) {
        auto type = cast<RankedTensorType>(result.getType());
        double bytes = getTensorBytes(type);
        for (const AxisList &axes : candidate.produced[result].dims)
          bytes /= grid.axesSize(axes);
        candidate.activationBytes += bytes;
      }
}

FailureOr<double> Search::run(double timeLimit, bool apply) {
  buildArgumentGroups();
  findSavedActivations();
  if (failed(buildOpGroups()))
    return failure();
  if (distinctOps > maxDistinctOps) {
    tooLarge = true;
    return func.emitOpError() << "the sharding search's groups hold " << distinctOps
                              << " distinct ops (repeated structure counted once), more than "
                                 "its limit of "
                              << maxDistinctOps,
           failure();
  }

  // Objective per class column: the members' compute and in-group
  // resharding.
  baseCosts.assign(classes.size(), {});
  for (auto [index, groupClass] : llvm::enumerate(classes))
    for (const Candidate &candidate : groups[groupClass.representative].candidates)
      baseCosts[index].push_back(candidate.seconds * groupClass.count);
  buildEdges();
  computeAxisTargets();

  std::vector<int> chosen;
  FailureOr<double> objective = failure();
  // Memory is a sum over classes: the least of it takes each class's
  // smallest candidate.
  std::vector<int> smallest;
  double smallestBytes = 0;
  for (size_t k = 0; k < classes.size(); ++k) {
    const std::vector<Candidate> &candidates = groups[classes[k].representative].candidates;
    int least = 0;
    for (size_t c = 1; c < candidates.size(); ++c)
      if (candidates[c].memoryBytes + candidates[c].activationBytes <
          candidates[least].memoryBytes + candidates[least].activationBytes)
        least = c;
    smallest.push_back(least);
    const Candidate &candidate = candidates[least];
    smallestBytes += (candidate.memoryBytes + candidate.activationBytes) * classes[k].count;
  }
  leastMemoryPlan = smallest;
  leastMemoryFits = cluster.memoryCapacity <= 0 || smallestBytes <= usableBytes();
  if (leastMemory) {
    chosen = smallest;
    chosenBytes = smallestBytes;
    objective = evaluate(chosen);
  } else if (grid.shape.size() == 1) {
    objective = solveRestricted([](int, int) { return true; }, {}, chosen, timeLimit);
    if (succeeded(objective)) {
      chosenTargets.emplace();
      for (size_t k = 0; k < classes.size(); ++k)
        chosenTargets->push_back(axisTargets[k][chosen[k]].front());
    }
  } else {
    // Several axes: the joint program grows with the product of the axes'
    // choices, past what CBC solves in seconds. Start from the best plan
    // that treats the grid as one axis (every axis splits the same factor),
    // then improve one axis at a time with the others held: each step is
    // exact over its axis and starts from the plan it must beat, so the
    // predicted time never rises (block coordinate descent).
    if (oneAxisPlan) {
      // The one-axis plan, with every axis where that plan's one axis was:
      // the same split over the same devices.
      chosen.assign(classes.size(), -1);
      for (size_t k = 0; k < classes.size() && oneAxisPlan->size() == classes.size(); ++k) {
        int8_t target = (*oneAxisPlan)[k];
        if (axisTargets[k].size() == 1)
          chosen[k] = 0;
        for (size_t c = 0; c < axisTargets[k].size() && chosen[k] < 0; ++c)
          if (llvm::all_of(axisTargets[k][c], [&](int8_t t) { return t == target; }))
            chosen[k] = c;
      }
      if (oneAxisPlan->size() != classes.size() || llvm::is_contained(chosen, -1))
        chosen.clear();
      else
        objective = evaluate(chosen);
    }
    if (chosen.empty())
      objective = solveRestricted(
          [&](int groupClass, int c) { return llvm::all_equal(axisTargets[groupClass][c]); }, {},
          chosen, timeLimit);
    // Each improving step leaves the plan optimal along its axis; once
    // every other axis has been tried without gain, it is optimal along all.
    int axisCount = grid.shape.size();
    int stale = 0;
    bool improvedOnce = false;
    for (int step = 0; succeeded(objective) && step < kMaxDescentRounds * axisCount; ++step) {
      int free = axisCount - 1 - step % axisCount;
      std::vector<int> next;
      std::vector<int> current = chosen;
      FailureOr<double> seconds = solveRestricted(
          [&](int groupClass, int c) {
            const SmallVector<int8_t> &targets = axisTargets[groupClass][c];
            const SmallVector<int8_t> &held = axisTargets[groupClass][current[groupClass]];
            for (int axis = 0; axis < axisCount; ++axis)
              if (axis != free && targets[axis] != held[axis])
                return false;
            return true;
          },
          current, next, timeLimit);
      if (succeeded(seconds) && *seconds < *objective * (1 - kMinGain)) {
        objective = seconds;
        chosen = std::move(next);
        improvedOnce = true;
        stale = 0;
      } else if (++stale >= (improvedOnce ? axisCount - 1 : axisCount)) {
        break;
      }
    }
  }
  if (failed(objective))
    return failure();
  if (!apply)
    return *objective;

  MLIRContext *context = func.getContext();
  for (auto [index, group] : llvm::enumerate(groups)) {
    const std::vector<Candidate> &candidates = candidatesOf(index);
    const Candidate &candidate = candidates[chosen[classOfGroup[index]]];
    for (unsigned index : group.arguments)
      if (cast<RankedTensorType>(func.getArgument(index).getType()).getRank() > 0)
        setArgSharding(func, index, candidate.argumentDims);
    for (auto [member, op] : llvm::enumerate(group.ops)) {
      if (!rules.count(op))
        continue;
      setFactorAxes(op, candidate.factorAxes[member]);
    }
  }
  for (unsigned r = 0; r < func.getNumResults(); ++r) {
    int64_t updated = getUpdatedArgument(func, r);
    auto attr =
        updated >= 0 ? func.getArgAttr(updated, CleaveDialect::kShardingAttrName) : Attribute();
    if (attr)
      func.setResultAttr(r, CleaveDialect::kShardingAttrName, attr);
    else
      func.removeResultAttr(r, StringAttr::get(context, CleaveDialect::kShardingAttrName));
  }
  setPredictedStepSeconds(func, *objective);
  return *objective;
}

void Search::buildEdges() {
  // A value used by an op of another group (or returned). Edges between
  // the same classes at the same places cost the same under each choice,
  // so they are priced once and counted.
  std::map<std::tuple<int, int64_t, int, std::vector<int64_t>, const void *>, int> edgeIds;
  auto producerGroup = [&](Value value) -> int {
    if (auto argument = dyn_cast<BlockArgument>(value)) {
      auto it = argumentGroup.find(argument);
      return it == argumentGroup.end() ? -1 : it->second;
    }
    auto it = memberOf.find(value.getDefiningOp());
    return it == memberOf.end() ? -1 : it->second.first;
  };
  // `required(c)`: the layouts the consumer needs under its class's
  // candidate c, one per place it uses the value; consumerSlots name the
  // places (member and operand). Places that need the same layout share
  // one resharding, as in the partitioner.
  auto addUse = [&](Value value, int consumerGroup, std::vector<int64_t> consumerSlots,
                    const std::function<SmallVector<TensorSharding>(int)> &required) {
    auto type = cast<RankedTensorType>(value.getType());
    int producer = producerGroup(value);
    int producerClass = producer < 0 ? -1 : classOfGroup[producer];
    int consumerClass = consumerGroup < 0 ? -1 : classOfGroup[consumerGroup];
    if (producerClass < 0 && consumerClass < 0)
      return;
    int64_t producerSlot = -1;
    if (auto result = dyn_cast<OpResult>(value); result && producer >= 0)
      producerSlot = memberOf[result.getOwner()].second * 256 + result.getResultNumber();
    auto edgeKey = std::make_tuple(producerClass, producerSlot, consumerClass,
                                   std::move(consumerSlots), type.getAsOpaquePointer());
    auto [it, inserted] = edgeIds.try_emplace(edgeKey, edges.size());
    if (!inserted) {
      ++edges[it->second].count;
      return;
    }
    Edge edge;
    edge.producerClass = producerClass;
    edge.consumerClass = consumerClass;
    edge.count = 1;
    int producerCount = producer < 0 ? 1 : candidatesOf(producer).size();
    int consumerCount = consumerGroup < 0 ? 1 : candidatesOf(consumerGroup).size();
    std::map<std::string, int> fromIds, toIds;
    SmallVector<TensorSharding> fromLayouts;
    SmallVector<SmallVector<TensorSharding>> toLayouts; // distinct layouts each
    for (int c = 0; c < producerCount; ++c) {
      TensorSharding layout =
          producer < 0 ? TensorSharding::replicated(type.getRank()) : layoutOf(value, c);
      auto [id, fresh] = fromIds.try_emplace(key(layout), fromLayouts.size());
      if (fresh)
        fromLayouts.push_back(layout);
      edge.fromOf.push_back(id->second);
    }
    for (int c = 0; c < consumerCount; ++c) {
      std::map<std::string, TensorSharding> distinct;
      for (TensorSharding &layout : required(c))
        distinct.try_emplace(key(layout), std::move(layout));
      std::string name;
      SmallVector<TensorSharding> layouts;
      for (auto &[layoutKey, layout] : distinct) {
        name += layoutKey + ";";
        layouts.push_back(layout);
      }
      auto [id, fresh] = toIds.try_emplace(name, toLayouts.size());
      if (fresh)
        toLayouts.push_back(std::move(layouts));
      edge.toOf.push_back(id->second);
    }
    edge.cost.assign(fromLayouts.size(), SmallVector<double>(toLayouts.size()));
    for (auto [i, from] : llvm::enumerate(fromLayouts))
      for (auto [j, to] : llvm::enumerate(toLayouts)) {
        for (const TensorSharding &layout : to)
          edge.cost[i][j] += reshardSeconds(type, from, layout, grid, collectives);
        edge.anyCost |= edge.cost[i][j] > 0;
      }
    edges.push_back(std::move(edge));
  };

  // The places (member, operand) each group uses each outside value at,
  // in program order, before and after the loss apart (the partitioner
  // does not keep a gathered copy across it).
  using UseKey = std::tuple<const void *, int, bool>;
  std::vector<UseKey> order;
  std::map<UseKey, SmallVector<std::pair<int, unsigned>, 1>> places;
  Block &body = func.getBody().front();
  Operation *lossOp = findLossOp(func);
  bool pastLoss = false;
  for (Operation &op : body.without_terminator()) {
    pastLoss |= &op == lossOp;
    auto member = memberOf.find(&op);
    if (member == memberOf.end())
      continue;
    int consumer = member->second.first;
    int memberIndex = member->second.second;
    for (auto [operandIndex, operand] : llvm::enumerate(op.getOperands())) {
      Operation *producer = operand.getDefiningOp();
      if (producer) {
        auto it = memberOf.find(producer);
        if (it != memberOf.end() && it->second.first == consumer)
          continue; // inside the group: already priced
      }
      UseKey useKey{operand.getAsOpaquePointer(), consumer, pastLoss};
      auto &uses = places[useKey];
      if (uses.empty())
        order.push_back(useKey);
      uses.push_back({memberIndex, static_cast<unsigned>(operandIndex)});
    }
  }
  for (const UseKey &useKey : order) {
    Value operand = Value::getFromOpaquePointer(std::get<0>(useKey));
    int consumer = std::get<1>(useKey);
    SmallVector<std::pair<int, unsigned>, 1> uses = places[useKey];
    std::vector<int64_t> slots;
    for (auto [memberIndex, index] : uses)
      slots.push_back(memberIndex * 256 + index);
    int group = consumer;
    addUse(operand, consumer, std::move(slots), [&, group, uses](int c) {
      SmallVector<TensorSharding> layouts;
      for (auto [memberIndex, index] : uses) {
        Operation *user = groups[groups[group].representative].ops[memberIndex];
        auto rule = rules.find(user);
        if (rule == rules.end())
          layouts.push_back(TensorSharding::replicated(
              cast<RankedTensorType>(user->getOperand(index).getType()).getRank()));
        else
          layouts.push_back(
              operandSharding(rule->second, candidatesOf(group)[c].factorAxes[memberIndex], index));
      }
      return layouts;
    });
  }
  auto returnOp = cast<func::ReturnOp>(body.getTerminator());
  for (auto [index, operand] : llvm::enumerate(returnOp.getOperands())) {
    int64_t updated = getUpdatedArgument(func, index);
    auto type = cast<RankedTensorType>(operand.getType());
    if (updated >= 0 && argumentGroup.count(func.getArgument(updated))) {
      // An updated parameter is written back in its own layout.
      int target = argumentGroup[func.getArgument(updated)];
      addUse(operand, target, {-2}, [&, target](int c) {
        return SmallVector<TensorSharding>{argumentLayout(candidatesOf(target)[c])};
      });
    } else {
      addUse(operand, -1, {-1}, [type](int) {
        return SmallVector<TensorSharding>{TensorSharding::replicated(type.getRank())};
      });
    }
  }
}

FailureOr<double> Search::solveRestricted(llvm::function_ref<bool(int, int)> allowed,
                                          ArrayRef<int> start, std::vector<int> &chosen,
                                          double timeLimit) {
  // Columns only for the allowed candidates of each class.
  std::vector<SmallVector<int>> allowedOf(classes.size());
  for (size_t k = 0; k < classes.size(); ++k)
    for (size_t c = 0; c < baseCosts[k].size(); ++c)
      if (baseCosts[k].size() == 1 || allowed(k, c)) // a pin is always allowed
        allowedOf[k].push_back(c);
  std::vector<std::vector<double>> costs(classes.size());
  for (size_t k = 0; k < classes.size(); ++k)
    for (int c : allowedOf[k])
      costs[k].push_back(baseCosts[k][c]);

  // Edges whose cost depends on one choice only (one side fixed, or one
  // allowed layout, or two groups of one class, which choose alike) go
  // into the objective; the rest are linearised below.
  struct Transport {
    const Edge *edge;
    SmallVector<int> fromLayouts, toLayouts; // distinct allowed layouts
  };
  std::vector<Transport> transports;
  for (const Edge &edge : edges) {
    if (!edge.anyCost)
      continue;
    int p = edge.producerClass, q = edge.consumerClass;
    if (p >= 0 && p == q) {
      for (auto [column, c] : llvm::enumerate(allowedOf[p]))
        costs[p][column] += edge.count * edge.cost[edge.fromOf[c]][edge.toOf[c]];
      continue;
    }
    SmallVector<int> fromLayouts, toLayouts;
    if (p >= 0)
      for (int c : allowedOf[p])
        if (!llvm::is_contained(fromLayouts, edge.fromOf[c]))
          fromLayouts.push_back(edge.fromOf[c]);
    if (q >= 0)
      for (int c : allowedOf[q])
        if (!llvm::is_contained(toLayouts, edge.toOf[c]))
          toLayouts.push_back(edge.toOf[c]);
    if (p < 0 || fromLayouts.size() == 1) {
      int from = p < 0 ? 0 : fromLayouts.front();
      if (q >= 0)
        for (auto [column, c] : llvm::enumerate(allowedOf[q]))
          costs[q][column] += edge.count * edge.cost[from][edge.toOf[c]];
      continue;
    }
    if (q < 0 || toLayouts.size() == 1) {
      int to = q < 0 ? 0 : toLayouts.front();
      for (auto [column, c] : llvm::enumerate(allowedOf[p]))
        costs[p][column] += edge.count * edge.cost[edge.fromOf[c]][to];
      continue;
    }
    transports.push_back({&edge, fromLayouts, toLayouts});
  }

  IlpProblem problem;
  std::vector<int> firstColumn(classes.size());
  std::vector<int> startColumns;
  for (size_t k = 0; k < classes.size(); ++k) {
    firstColumn[k] = problem.numColumns();
    std::vector<int> columns;
    for (double seconds : costs[k])
      columns.push_back(problem.addColumn(seconds, true));
    if (columns.empty())
      return func.emitOpError("the sharding search has no allowed strategy for a group"), failure();
    problem.addRow(columns, std::vector<double>(columns.size(), 1.0), 'E', 1.0);
    // The plan to beat, or the first allowed candidate (least split).
    int startCandidate = start.empty() ? allowedOf[k].front() : start[k];
    startColumns.push_back(
        firstColumn[k] +
        static_cast<int>(llvm::find(allowedOf[k], startCandidate) - allowedOf[k].begin()));
  }
  for (const Transport &transport : transports) {
    // y[i][j] >= 0 with row sums = the producer's layout choice and column
    // sums = the consumer's requirement choice; with one-hot marginals y is
    // their product, so y . cost is exact.
    const Edge &edge = *transport.edge;
    int p = edge.producerClass, q = edge.consumerClass;
    SmallVector<SmallVector<int>> y(transport.fromLayouts.size());
    for (auto [i, from] : llvm::enumerate(transport.fromLayouts))
      for (int to : transport.toLayouts)
        y[i].push_back(problem.addColumn(edge.count * edge.cost[from][to], false));
    for (auto [i, from] : llvm::enumerate(transport.fromLayouts)) {
      std::vector<int> columns(y[i].begin(), y[i].end());
      std::vector<double> coefficients(columns.size(), 1.0);
      for (auto [column, c] : llvm::enumerate(allowedOf[p]))
        if (edge.fromOf[c] == from) {
          columns.push_back(firstColumn[p] + column);
          coefficients.push_back(-1.0);
        }
      problem.addRow(columns, coefficients, 'E', 0.0);
    }
    for (auto [j, to] : llvm::enumerate(transport.toLayouts)) {
      std::vector<int> columns;
      std::vector<double> coefficients;
      for (size_t i = 0; i < transport.fromLayouts.size(); ++i) {
        columns.push_back(y[i][j]);
        coefficients.push_back(1.0);
      }
      for (auto [column, c] : llvm::enumerate(allowedOf[q]))
        if (edge.toOf[c] == to) {
          columns.push_back(firstColumn[q] + column);
          coefficients.push_back(-1.0);
        }
      problem.addRow(columns, coefficients, 'E', 0.0);
    }
  }

  // Memory: parameters, gradients, optimizer state and the activations kept
  // for the backward, per device, within the capacity.
  auto candidateBytes = [&](int k, int c) {
    const Candidate &candidate = groups[classes[k].representative].candidates[c];
    return (candidate.memoryBytes + candidate.activationBytes) * classes[k].count;
  };
  if (cluster.memoryCapacity > 0) {
    std::vector<int> columns;
    std::vector<double> coefficients;
    for (size_t k = 0; k < classes.size(); ++k)
      for (auto [column, c] : llvm::enumerate(allowedOf[k]))
        if (double bytes = candidateBytes(k, c); bytes > 0) {
          columns.push_back(firstColumn[k] + column);
          coefficients.push_back(bytes / 1e9); // GB keeps CBC well scaled
        }
    problem.addRow(columns, coefficients, 'L', usableBytes() / 1e9);
  }

  if (problem.numColumns() > maxColumns) {
    tooLarge = true;
    return func.emitOpError() << "the sharding search's program has " << problem.numColumns()
                              << " columns, more than its limit of " << maxColumns,
           failure();
  }
  problem.setStart(startColumns);
  IlpProblem::Solution solution = problem.solve(timeLimit, kMinGain / 2);
  if (!solution.feasible || solution.values.empty())
    return func.emitOpError() << "the sharding search found no plan (" << solution.status
                              << "): parameters, gradients, optimizer state and activations do "
                                 "not fit the devices' memory under any layout; use more devices",
           failure();
  chosen.assign(classes.size(), 0);
  for (size_t k = 0; k < classes.size(); ++k)
    for (auto [column, c] : llvm::enumerate(allowedOf[k]))
      if (solution.values[firstColumn[k] + column] > 0.5)
        chosen[k] = c;
  if (solution.status != "optimal" && solution.status != "time limit" &&
      cluster.memoryCapacity > 0) {
    // CBC found nothing in time and handed back the start: a plan only if
    // it fits.
    double bytes = 0;
    for (size_t k = 0; k < classes.size(); ++k)
      bytes += candidateBytes(k, chosen[k]);
    // Once more from the least-memory plan, when it fits and is allowed:
    // CBC then has a feasible plan to improve from the first node.
    bool leastAllowed = start.empty() && leastMemoryFits && !leastMemoryPlan.empty();
    for (size_t k = 0; k < classes.size() && leastAllowed; ++k)
      leastAllowed = llvm::is_contained(allowedOf[k], leastMemoryPlan[k]);
    if (bytes > usableBytes() && leastAllowed)
      return solveRestricted(allowed, leastMemoryPlan, chosen, timeLimit);
    if (bytes > usableBytes())
      return func.emitOpError("the sharding search found no plan within its time limit"), failure();
  }
  return evaluate(chosen);
}

void Search::computeAxisTargets() {
  axisTargets.assign(classes.size(), {});
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
      axisTargets[k].push_back(targets);
    }
}

double Search::evaluate(ArrayRef<int> chosen) const {
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

struct SearchShardingPass
    : public mlir::cleave::impl::CleaveSearchShardingBase<SearchShardingPass> {
  using CleaveSearchShardingBase::CleaveSearchShardingBase;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    auto func = module.lookupSymbol<func::FuncOp>(function);
    if (!func || func.isExternal()) {
      module.emitError() << "cleave-search-sharding: no function @" << function;
      return signalPassFailure();
    }
    if (devices < 1) {
      module.emitError("cleave-search-sharding needs devices >= 1");
      return signalPassFailure();
    }
    llvm::Expected<Cluster> cluster = loadCluster(clusterName, devices);
    if (!cluster) {
      module.emitError() << llvm::toString(cluster.takeError());
      return signalPassFailure();
    }
    // Candidate grids: the pinned one (--grid), or (a, devices / a) named
    // dp and tp; the search decides what each axis splits, so the names
    // only label the plan. The second axis stays inside a node when there
    // are several (it carries the fine-grained collectives that need the
    // node's links, as Megatron and Alpa place tensor parallelism);
    // (1, devices) is (devices, 1) renamed.
    SmallVector<ParsedGrid> grids;
    if (!gridSpec.empty()) {
      FailureOr<ParsedGrid> pinnedGrid = parseGrid(gridSpec, module);
      if (failed(pinnedGrid))
        return signalPassFailure();
      int64_t product = pinnedGrid->devices();
      if (product != devices) {
        module.emitError() << "the grid " << gridSpec << " has " << product << " devices, not "
                           << devices.getValue();
        return signalPassFailure();
      }
      grids.push_back(*pinnedGrid);
    } else {
      for (int64_t a = devices; a >= 1; --a) {
        int64_t b = devices / a;
        if (devices % a != 0 || (a == 1 && devices > 1))
          continue;
        if (cluster->nodes > 1 && cluster->devicesPerNode % b != 0)
          continue;
        ParsedGrid grid;
        grid.names.push_back("dp");
        grid.sizes.push_back(a);
        if (b > 1) {
          grid.names.push_back("tp");
          grid.sizes.push_back(b);
        }
        grids.push_back(grid);
      }
    }
    // Pins by parameter name (their layouts are read per grid below).
    FailureOr<llvm::StringMap<std::string>> parsedPins = parsePins(pins, module);
    if (failed(parsedPins))
      return signalPassFailure();
    llvm::StringMap<std::string> pinSpecs = std::move(*parsedPins);
    llvm::StringMap<unsigned> paramArguments;
    for (BlockArgument argument : func.getArguments())
      if (ParamAttr param = getParamAttr(func, argument.getArgNumber()))
        paramArguments[param.getName()] = argument.getArgNumber();
    for (const auto &pin : pinSpecs)
      if (!paramArguments.count(pin.getKey())) {
        module.emitError() << "--shard " << pin.getKey() << ": no parameter has that name";
        return signalPassFailure();
      }
    double best = std::numeric_limits<double>::infinity();
    OwningOpRef<ModuleOp> bestTrial;
    // Past `max-ops` distinct ops (repeated layers counted once) the exact
    // search is skipped for the fallback below.
    bool anyTooLarge = false;
    std::string reasons;
    {
      // A grid without a plan is not an error as long as another has one.
      ScopedDiagnosticHandler quiet(module.getContext(), [&](Diagnostic &diagnostic) {
        reasons += "\n  " + diagnostic.str();
        return success();
      });
      struct Trial {
        OwningOpRef<ModuleOp> module;
        FailureOr<double> seconds = failure();
        bool tooLarge = false;
        int64_t distinctOps = 0;
        double bytes = 0;
        DenseMap<unsigned, SmallVector<AxisList, 4>> pinned;
      };
      // A grid the pins do not fit (an axis it lacks, a size that does not
      // divide) is not a candidate; the reason is kept for the error.
      std::vector<Trial> trials;
      for (const ParsedGrid &shape : grids) {
        Trial trial;
        bool usable = true;
        for (const auto &pin : pinSpecs) {
          unsigned index = paramArguments.lookup(pin.getKey());
          auto type = cast<RankedTensorType>(func.getArgument(index).getType());
          FailureOr<SmallVector<AxisList, 4>> dims =
              parseSpec(pin.getValue(), shape, type.getRank(), pin.getKey(), func);
          if (failed(dims)) {
            usable = false;
            break;
          }
          for (auto [dim, axes] : llvm::enumerate(*dims)) {
            int64_t parts = 1;
            for (int16_t axis : axes)
              parts *= shape.sizes[axis];
            if (type.getDimSize(dim) % parts != 0) {
              func.emitError() << "--shard " << pin.getKey() << "=" << pin.getValue()
                               << ": dimension " << dim << " (size " << type.getDimSize(dim)
                               << ") cannot be split " << parts << " ways";
              usable = false;
            }
          }
          trial.pinned[index] = *dims;
        }
        if (!usable)
          continue;
        trial.module = module.clone();
        addGrid(*trial.module, shape);
        trials.push_back(std::move(trial));
      }
      std::optional<std::vector<int8_t>> oneAxisPlan;
      bool leastMemory = false;
      auto runTrial = [&](size_t index) {
        Trial &trial = trials[index];
        if (leastMemory) {
          FailureOr<GridInfo> used = getGrid(*trial.module);
          ParsedGrid shape;
          if (succeeded(used))
            for (auto [name, size] : llvm::zip(used->names, used->shape)) {
              shape.names.push_back(name);
              shape.sizes.push_back(size);
            }
          trial.module = module.clone();
          addGrid(*trial.module, shape);
        }
        FailureOr<GridInfo> grid = getGrid(*trial.module);
        if (failed(grid))
          return;
        Search search(trial.module->lookupSymbol<func::FuncOp>(function), *grid, *cluster);
        search.maxDistinctOps = maxOps;
        search.pinned = trial.pinned;
        search.oneAxisPlan = oneAxisPlan;
        search.leastMemory = leastMemory;
        trial.seconds = search.run(timeLimit, true);
        trial.tooLarge = search.tooLarge;
        trial.distinctOps = search.distinctOps;
        trial.bytes = search.chosenBytes;
        if (grid->shape.size() == 1)
          oneAxisPlan = search.chosenTargets;
      };
      // The one-axis grid first: its plan is where the others start. They
      // are independent of each other and run side by side.
      if (!trials.empty()) {
        runTrial(0);
        if (!(trials[0].tooLarge && trials[0].distinctOps > maxOps))
          // Most tensor-parallel first: those take the most steps.
          mlir::parallelFor(module.getContext(), 1, trials.size(),
                            [&](size_t index) { runTrial(trials.size() - index); });
      }
      for (Trial &trial : trials) {
        anyTooLarge |= trial.tooLarge;
        // Grids come from one axis to more: a later one must gain.
        if (succeeded(trial.seconds) && *trial.seconds < best * (1 - Search::kMinGain)) {
          best = *trial.seconds;
          bestTrial = std::move(trial.module);
        }
      }
      if (!bestTrial && !anyTooLarge && !trials.empty()) {
        // No plan fits: the one that needs the least memory, so that the
        // report and cleavec can say by how much it misses and what helps.
        leastMemory = true;
        double leastBytes = std::numeric_limits<double>::infinity();
        for (size_t index = 0; index < trials.size(); ++index) {
          runTrial(index);
          Trial &trial = trials[index];
          if (succeeded(trial.seconds) && trial.bytes < leastBytes * (1 - Search::kMinGain)) {
            leastBytes = trial.bytes;
            bestTrial = std::move(trial.module);
          }
        }
      }
    }
    if (!bestTrial && anyTooLarge) {
      // Beyond the exact search's size: data parallelism over every device,
      // ZeRO-3 when parameters and optimizer state would take more than
      // half a device's memory, then propagation (docs/sharding.md).
      int64_t stateBytes = 0;
      for (BlockArgument argument : func.getArguments())
        if (getParamAttr(func, argument.getArgNumber()) ||
            func.getArgAttr(argument.getArgNumber(), CleaveDialect::kOptStateAttrName))
          stateBytes += getTensorBytes(cast<RankedTensorType>(argument.getType()));
      // dp as large as the batch allows; the remaining devices form a tp
      // axis that propagation leaves to pins.
      int64_t rows = 0;
      for (BlockArgument argument : func.getArguments())
        if (func.getArgAttr(argument.getArgNumber(), CleaveDialect::kInputAttrName) &&
            cast<RankedTensorType>(argument.getType()).getRank() > 0) {
          rows = cast<RankedTensorType>(argument.getType()).getDimSize(0);
          break;
        }
      int64_t deviceCount = devices;
      int64_t dp = rows > 0 ? std::gcd<int64_t>(rows, deviceCount) : deviceCount;
      CleaveSeedShardingOptions seed;
      seed.function = function;
      seed.gridSpec = "dp=" + std::to_string(dp);
      if (deviceCount / dp > 1)
        seed.gridSpec += ",tp=" + std::to_string(deviceCount / dp);
      if (!gridSpec.empty())
        seed.gridSpec = gridSpec;
      seed.pins = pins;
      seed.zero = stateBytes > cluster->memoryCapacity / 2 ? 3 : 0;
      OpPassManager fallback(ModuleOp::getOperationName());
      fallback.addPass(createCleaveSeedSharding(seed));
      CleavePropagateShardingOptions propagate;
      propagate.function = function;
      fallback.addPass(createCleavePropagateSharding(propagate));
      if (failed(runPipeline(fallback, module)))
        return signalPassFailure();
      return;
    }
    if (!bestTrial) {
      module.emitError() << "no plan for " << devices.getValue() << " devices on cluster '"
                         << clusterName << "':" << reasons;
      return signalPassFailure();
    }
    copyPlan(*bestTrial, module);
  }

  /// Moves the chosen trial's plan (grid, op and argument attributes) onto
  /// `module`, which has the same ops in the same order.
  void copyPlan(ModuleOp from, ModuleOp to) {
    for (auto existing : llvm::make_early_inc_range(to.getOps<shard::GridOp>()))
      existing.erase();
    OpBuilder builder(to.getContext());
    builder.setInsertionPointToStart(to.getBody());
    builder.clone(**from.getOps<shard::GridOp>().begin());
    auto source = from.lookupSymbol<func::FuncOp>(function);
    auto target = to.lookupSymbol<func::FuncOp>(function);
    target->setAttrs(source->getAttrDictionary());
    SmallVector<Operation *> sourceOps, targetOps;
    source.walk([&](Operation *op) { sourceOps.push_back(op); });
    target.walk([&](Operation *op) { targetOps.push_back(op); });
    for (auto [a, b] : llvm::zip(sourceOps, targetOps))
      if (a != source.getOperation())
        b->setAttrs(a->getAttrDictionary());
  }

  void addGrid(ModuleOp module, const ParsedGrid &shape) {
    for (auto existing : llvm::make_early_inc_range(module.getOps<shard::GridOp>()))
      existing.erase();
    OpBuilder builder(module.getContext());
    builder.setInsertionPointToStart(module.getBody());
    auto grid = shard::GridOp::create(builder, module.getLoc(), "grid", shape.sizes);
    setAxisNames(grid, shape.names);
  }
};

} // namespace
