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
#include "passes/Sharding/Sharding.h"
#include "passes/TrainStepAttrs.h"

#include "compiler/Cluster/Cluster.h"
#include "compiler/Cost/CollectiveCost.h"
#include "compiler/Cost/ComputeCost.h"

#include "dialects/Cleave/IR/CleaveOps.h"
#include "mlir/IR/Builders.h"
#include "mlir/Pass/PassManager.h"
#include "llvm/ADT/SmallBitVector.h"
#include "llvm/ADT/StringMap.h"

#include <cmath>
#include <numeric>
#include <functional>
#include <limits>
#include <map>

namespace mlir::cleave {
#define GEN_PASS_DEF_CLEAVESEARCHSHARDING
#include "passes/Passes.h.inc"
} // namespace mlir::cleave

using namespace mlir;
using namespace mlir::cleave;

namespace {

int64_t tensorBytes(RankedTensorType type) {
  return type.getNumElements() * std::max<int64_t>(1, type.getElementTypeBitWidth() / 8);
}

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

/// Seconds to bring a value laid out as `from` into `to`, following the
/// partitioner's resharding (Partition.cpp) collective by collective.
double reshardSeconds(RankedTensorType global, const TensorSharding &from,
                      const TensorSharding &to, const GridInfo &grid,
                      GridCollectives &collectives) {
  auto bytes = [&](const TensorSharding &sharding) {
    int64_t elements = global.getNumElements();
    for (const AxisList &axes : sharding.dims)
      elements /= grid.axesSize(axes);
    return elements * std::max<int64_t>(1, global.getElementTypeBitWidth() / 8);
  };
  double seconds = 0;
  TensorSharding before = from;
  for (const ReshardStep &step : planReshard(from, to)) {
    // Alpha-beta sizes: reduce-scatter the bytes held before, gather the
    // bytes held after; slicing is local.
    switch (step.kind) {
    case ReshardStep::Kind::allReduce:
      seconds += collectives.getTime(CollectiveKind::allReduce, bytes(before), step.axes);
      break;
    case ReshardStep::Kind::reduceScatter:
      seconds += collectives.getTime(CollectiveKind::reduceScatter, bytes(before), step.axes);
      break;
    case ReshardStep::Kind::allGather:
      seconds += collectives.getTime(CollectiveKind::allGather, bytes(step.after), step.axes);
      break;
    case ReshardStep::Kind::allSlice:
      break;
    }
    before = step.after;
  }
  return seconds;
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
  double seconds = 0;      // compute plus resharding inside the group
  double memoryBytes = 0;  // parameters and optimizer state per device
  DenseMap<Value, TensorSharding> produced; // layouts of the group's values
};

struct Group {
  SmallVector<Operation *> ops;  // leader first, then followers in program order
  SmallVector<unsigned> arguments;
  std::vector<Candidate> candidates;
  int firstColumn = -1;
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
  bool tooLarge = false;

private:
  void buildArgumentGroups();
  LogicalResult buildOpGroups();
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
    auto paramType = cast<RankedTensorType>(
        func.getArgument(group.arguments.front()).getType());
    if (paramType != argument.getType())
      continue;
    group.arguments.push_back(argument.getArgNumber());
    argumentGroup[argument] = it->second;
  }
  for (Group &group : groups) {
    int64_t bytes = 0;
    for (unsigned index : group.arguments)
      bytes += tensorBytes(cast<RankedTensorType>(func.getArgument(index).getType()));
    for (Candidate &candidate : group.candidates) {
      int64_t parts = 1;
      for (const AxisList &axes : candidate.argumentDims)
        parts *= grid.axesSize(axes);
      candidate.memoryBytes = static_cast<double>(bytes) / static_cast<double>(parts);
      TensorSharding sharding;
      sharding.dims.assign(candidate.argumentDims.begin(), candidate.argumentDims.end());
      for (unsigned index : group.arguments)
        candidate.produced[func.getArgument(index)] = sharding;
    }
  }
}

LogicalResult Search::buildOpGroups() {
  Block &body = func.getBody().front();
  for (Operation &op : body.without_terminator()) {
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
    // A follower joins the group of its first operand computed by a grouped op.
    if (!isHeavy(&op)) {
      for (Value operand : op.getOperands()) {
        Operation *producer = operand.getDefiningOp();
        auto it = producer ? memberOf.find(producer) : memberOf.end();
        if (it == memberOf.end() || !rules.count(producer))
          continue;
        Group &group = groups[it->second.first];
        memberOf[&op] = {it->second.first, static_cast<int>(group.ops.size())};
        group.ops.push_back(&op);
        break;
      }
      if (memberOf.count(&op))
        continue;
    }
    Group group;
    group.ops.push_back(&op);
    memberOf[&op] = {static_cast<int>(groups.size()), 0};
    groups.push_back(std::move(group));
  }
  for (Group &group : groups)
    if (group.arguments.empty() && group.candidates.empty())
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

TensorSharding Search::layoutOf(Value value, int candidate) const {
  auto type = cast<RankedTensorType>(value.getType());
  if (auto argument = dyn_cast<BlockArgument>(value)) {
    auto it = argumentGroup.find(argument);
    if (it == argumentGroup.end())
      return TensorSharding::replicated(type.getRank());
    return groups[it->second].candidates[candidate].produced.lookup(value);
  }
  auto it = memberOf.find(value.getDefiningOp());
  if (it == memberOf.end())
    return TensorSharding::replicated(type.getRank());
  return groups[it->second.first].candidates[candidate].produced.lookup(value);
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
    // Follow the first operand computed in the group, dimension by dimension.
    for (auto [operandIndex, operand] : llvm::enumerate(member->getOperands())) {
      Operation *producer = operand.getDefiningOp();
      auto it = producer ? memberOf.find(producer) : memberOf.end();
      if (it == memberOf.end() || it->second.first != groupIndex)
        continue;
      const TensorSharding &layout = candidate.produced[operand];
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
      break;
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
}

FailureOr<double> Search::run(double timeLimit, bool apply) {
  buildArgumentGroups();
  if (failed(buildOpGroups()))
    return failure();

  IlpProblem problem;
  // One-hot choice per group; the first candidate of each (nothing split)
  // is a feasible start when it fits in memory.
  std::vector<int> start;
  for (Group &group : groups) {
    group.firstColumn = problem.numColumns();
    start.push_back(group.firstColumn);
    std::vector<int> columns;
    for (const Candidate &candidate : group.candidates)
      columns.push_back(problem.addColumn(candidate.seconds, true));
    problem.addRow(columns, std::vector<double>(columns.size(), 1.0), 'E', 1.0);
  }

  // Edges: a value used by an op of another group (or returned).
  struct Use {
    Value value;
    int consumerGroup; // -1: the function's result
    std::function<TensorSharding(int)> required;
  };
  SmallVector<Use> uses;
  Block &body = func.getBody().front();
  for (Operation &op : body.without_terminator()) {
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
      Operation *user = &op;
      unsigned index = operandIndex;
      uses.push_back({operand, consumer, [this, user, consumer, memberIndex, index](int c) {
                        auto rule = rules.find(user);
                        if (rule == rules.end())
                          return TensorSharding::replicated(
                              cast<RankedTensorType>(user->getOperand(index).getType()).getRank());
                        return operandSharding(
                            rule->second, groups[consumer].candidates[c].factorAxes[memberIndex],
                            index);
                      }});
    }
  }
  auto returnOp = cast<func::ReturnOp>(body.getTerminator());
  for (auto [index, operand] : llvm::enumerate(returnOp.getOperands())) {
    int64_t updated = getUpdatedArgument(func, index);
    auto type = cast<RankedTensorType>(operand.getType());
    if (updated >= 0 && argumentGroup.count(func.getArgument(updated))) {
      int target = argumentGroup[func.getArgument(updated)];
      Value argument = func.getArgument(updated);
      uses.push_back({operand, target, [this, target, argument](int c) {
                        return groups[target].candidates[c].produced.lookup(argument);
                      }});
    } else {
      uses.push_back({operand, -1, [type](int) { return TensorSharding::replicated(type.getRank()); }});
    }
  }

  auto producerGroup = [&](Value value) -> int {
    if (auto argument = dyn_cast<BlockArgument>(value)) {
      auto it = argumentGroup.find(argument);
      return it == argumentGroup.end() ? -1 : it->second;
    }
    auto it = memberOf.find(value.getDefiningOp());
    return it == memberOf.end() ? -1 : it->second.first;
  };
  for (const Use &use : uses) {
    auto type = cast<RankedTensorType>(use.value.getType());
    int producer = producerGroup(use.value);
    int producerCount = producer < 0 ? 1 : groups[producer].candidates.size();
    int consumerCount = use.consumerGroup < 0 ? 1 : groups[use.consumerGroup].candidates.size();
    // Distinct layouts on each side.
    std::map<std::string, int> fromIds, toIds;
    SmallVector<TensorSharding> fromLayouts, toLayouts;
    SmallVector<int> fromOf(producerCount), toOf(consumerCount);
    for (int c = 0; c < producerCount; ++c) {
      TensorSharding layout = producer < 0 ? TensorSharding::replicated(type.getRank())
                                           : layoutOf(use.value, c);
      auto [it, inserted] = fromIds.try_emplace(key(layout), fromLayouts.size());
      if (inserted)
        fromLayouts.push_back(layout);
      fromOf[c] = it->second;
    }
    for (int c = 0; c < consumerCount; ++c) {
      TensorSharding layout = use.required(c);
      auto [it, inserted] = toIds.try_emplace(key(layout), toLayouts.size());
      if (inserted)
        toLayouts.push_back(layout);
      toOf[c] = it->second;
    }
    SmallVector<SmallVector<double>> cost(fromLayouts.size(),
                                          SmallVector<double>(toLayouts.size()));
    bool anyCost = false;
    for (auto [i, from] : llvm::enumerate(fromLayouts))
      for (auto [j, to] : llvm::enumerate(toLayouts)) {
        cost[i][j] = reshardSeconds(type, from, to, grid, collectives);
        anyCost |= cost[i][j] > 0;
      }
    if (!anyCost)
      continue;
    if (fromLayouts.size() == 1 || toLayouts.size() == 1) {
      // One side is fixed: the cost is linear in the other side's choice.
      // Price it through a fresh column tied to the choice (keeps rows simple).
      if (fromLayouts.size() == 1 && use.consumerGroup >= 0) {
        for (int c = 0; c < consumerCount; ++c) {
          double seconds = cost[0][toOf[c]];
          if (seconds <= 0)
            continue;
          int column = problem.addColumn(seconds, false);
          problem.addRow({column, groups[use.consumerGroup].firstColumn + c}, {1.0, -1.0}, 'G', 0.0);
        }
        continue;
      }
      if (toLayouts.size() == 1 && producer >= 0) {
        for (int c = 0; c < producerCount; ++c) {
          double seconds = cost[fromOf[c]][0];
          if (seconds <= 0)
            continue;
          int column = problem.addColumn(seconds, false);
          problem.addRow({column, groups[producer].firstColumn + c}, {1.0, -1.0}, 'G', 0.0);
        }
        continue;
      }
      continue;
    }
    // Transportation: y[i][j] >= 0 with row sums = producer's layout choice
    // and column sums = consumer's requirement choice.
    SmallVector<SmallVector<int>> y(fromLayouts.size(), SmallVector<int>(toLayouts.size()));
    for (size_t i = 0; i < fromLayouts.size(); ++i)
      for (size_t j = 0; j < toLayouts.size(); ++j)
        y[i][j] = problem.addColumn(cost[i][j], false);
    for (size_t i = 0; i < fromLayouts.size(); ++i) {
      std::vector<int> columns(y[i].begin(), y[i].end());
      std::vector<double> coefficients(columns.size(), 1.0);
      for (int c = 0; c < producerCount; ++c)
        if (fromOf[c] == static_cast<int>(i)) {
          columns.push_back(groups[producer].firstColumn + c);
          coefficients.push_back(-1.0);
        }
      problem.addRow(columns, coefficients, 'E', 0.0);
    }
    for (size_t j = 0; j < toLayouts.size(); ++j) {
      std::vector<int> columns;
      std::vector<double> coefficients;
      for (size_t i = 0; i < fromLayouts.size(); ++i) {
        columns.push_back(y[i][j]);
        coefficients.push_back(1.0);
      }
      for (int c = 0; c < consumerCount; ++c)
        if (toOf[c] == static_cast<int>(j)) {
          columns.push_back(groups[use.consumerGroup].firstColumn + c);
          coefficients.push_back(-1.0);
        }
      problem.addRow(columns, coefficients, 'E', 0.0);
    }
  }

  // Memory: parameters and optimizer state per device within the capacity.
  if (cluster.memoryCapacity > 0) {
    std::vector<int> columns;
    std::vector<double> coefficients;
    for (const Group &group : groups)
      if (!group.arguments.empty())
        for (auto [c, candidate] : llvm::enumerate(group.candidates)) {
          columns.push_back(group.firstColumn + static_cast<int>(c));
          coefficients.push_back(candidate.memoryBytes / 1e9); // GB keeps CBC well scaled
        }
    problem.addRow(columns, coefficients, 'L',
                   static_cast<double>(cluster.memoryCapacity) / 1e9);
  }

  if (problem.numColumns() > maxColumns) {
    tooLarge = true;
    return func.emitOpError() << "the sharding search's program has " << problem.numColumns()
                              << " columns, more than its limit of " << maxColumns,
           failure();
  }
  problem.setStart(start);
  IlpProblem::Solution solution = problem.solve(timeLimit);
  if (solution.feasible && !solution.optimal && solution.status != "time limit") {
    // CBC found nothing in time and handed back the unsplit start: only a
    // plan if it fits in memory.
    double bytes = 0;
    for (const Group &group : groups)
      if (!group.arguments.empty())
        bytes += group.candidates.front().memoryBytes;
    if (cluster.memoryCapacity > 0 && bytes > static_cast<double>(cluster.memoryCapacity)) {
      tooLarge = true;
      return func.emitOpError("the sharding search found no plan within its time limit"),
             failure();
    }
  }
  if (!solution.feasible || solution.values.empty())
    return func.emitOpError() << "the sharding search found no plan ("
                              << solution.status
                              << "): parameters and optimizer state do not fit the "
                                 "devices' memory under any layout; use more devices",
           failure();
  if (!apply)
    return solution.objective;

  MLIRContext *context = func.getContext();
  for (Group &group : groups) {
    int chosen = 0;
    for (size_t c = 0; c < group.candidates.size(); ++c)
      if (solution.values[group.firstColumn + c] > 0.5)
        chosen = static_cast<int>(c);
    const Candidate &candidate = group.candidates[chosen];
    for (unsigned index : group.arguments)
      if (cast<RankedTensorType>(func.getArgument(index).getType()).getRank() > 0)
        func.setArgAttr(index, kShardingAttr, toAttr(context, candidate.argumentDims));
    for (auto [member, op] : llvm::enumerate(group.ops)) {
      if (!rules.count(op))
        continue;
      const SmallVector<AxisList> &axes = candidate.factorAxes[member];
      if (llvm::any_of(axes, [](const AxisList &a) { return !a.empty(); }))
        op->setAttr(kFactorAxesAttr, toAttr(context, axes));
      else
        op->removeAttr(kFactorAxesAttr);
    }
  }
  for (unsigned r = 0; r < func.getNumResults(); ++r) {
    int64_t updated = getUpdatedArgument(func, r);
    auto attr = updated >= 0 ? func.getArgAttr(updated, kShardingAttr) : Attribute();
    if (attr)
      func.setResultAttr(r, kShardingAttr, attr);
    else
      func.removeResultAttr(r, StringAttr::get(context, kShardingAttr));
  }
  func->setAttr("cleave.predicted_step_seconds", FloatAttr::get(Float64Type::get(context),
                                                                 solution.objective));
  return solution.objective;
}

struct SearchShardingPass : public mlir::cleave::impl::CleaveSearchShardingBase<SearchShardingPass> {
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
    // Candidate grids: (a, devices / a) named dp and tp; the search decides
    // what each axis splits, so the names only label the plan.
    SmallVector<std::pair<int64_t, int64_t>> grids;
    for (int64_t a = devices; a >= 1; --a)
      if (devices % a == 0)
        grids.push_back({a, devices / a});
    double best = std::numeric_limits<double>::infinity();
    OwningOpRef<ModuleOp> bestTrial;
    // Building the program grows with ops x strategies x followers; past
    // `max-ops` ops the exact search is skipped for the fallback below.
    int64_t opCount = 0;
    func.walk([&](Operation *) { ++opCount; });
    bool anyTooLarge = opCount > maxOps;
    if (anyTooLarge)
      grids.clear();
    std::string reasons;
    {
      // A grid without a plan is not an error as long as another has one.
      ScopedDiagnosticHandler quiet(module.getContext(), [&](Diagnostic &diagnostic) {
        reasons += "\n  " + diagnostic.str();
        return success();
      });
      for (auto [dp, tp] : grids) {
        OwningOpRef<ModuleOp> trial = module.clone();
        (void)addGrid(*trial, dp, tp);
        FailureOr<GridInfo> grid = getGrid(*trial);
        if (failed(grid))
          continue;
        auto trialFunc = trial->lookupSymbol<func::FuncOp>(function);
        Search search(trialFunc, *grid, *cluster);
        FailureOr<double> seconds = search.run(timeLimit, true);
        anyTooLarge |= search.tooLarge;
        if (succeeded(seconds) && *seconds < best) {
          best = *seconds;
          bestTrial = std::move(trial);
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
          stateBytes += tensorBytes(cast<RankedTensorType>(argument.getType()));
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

  LogicalResult addGrid(ModuleOp module, int64_t dp, int64_t tp) {
    for (auto existing : llvm::make_early_inc_range(module.getOps<shard::GridOp>()))
      existing.erase();
    OpBuilder builder(module.getContext());
    builder.setInsertionPointToStart(module.getBody());
    SmallVector<int64_t> shape{dp};
    SmallVector<Attribute> names{builder.getStringAttr("dp")};
    if (tp > 1) {
      shape.push_back(tp);
      names.push_back(builder.getStringAttr("tp"));
    }
    auto grid = shard::GridOp::create(builder, module.getLoc(), "grid", shape);
    grid->setAttr(kAxisNamesAttr, builder.getArrayAttr(names));
    return success();
  }
};

} // namespace
