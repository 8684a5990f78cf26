//===- SearchCosts.cpp - the search's candidates and what they cost -------===//
//
// Per group, the strategies it may run under (each grid axis to one factor
// of the leader, or to none; followers follow) with their compute and
// in-group resharding time and memory; per value passed between groups, the
// resharding time for each pair of the producer's and the consumer's
// layouts. Times come from the cluster's cost model (ComputeCost.h,
// CollectiveCost.h); resharding follows planReshard, as the partitioner
// does, so that the search prices what the partitioner emits.
//
//===----------------------------------------------------------------------===//
#include "passes/Sharding/SearchProblem.h"
#include "passes/Sharding/SearchSequenceParallel.h"
#include "passes/TrainStepAttrs.h"

#include "passes/Analysis/Cost/ComputeCost.h"

#include "llvm/ADT/SmallBitVector.h"

#include <functional>
#include <map>

using namespace mlir;
using namespace mlir::cleave;

TensorSharding mlir::cleave::argumentLayout(const Candidate &candidate) {
  TensorSharding sharding;
  sharding.dims.assign(candidate.argumentDims.begin(), candidate.argumentDims.end());
  return sharding;
}

/// A layout as a map key.
static std::string key(const TensorSharding &sharding) {
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

TensorSharding SearchProblem::resultSharding(const FactorRule &rule, ArrayRef<AxisList> axes,
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

TensorSharding SearchProblem::operandSharding(const FactorRule &rule, ArrayRef<AxisList> axes,
                                              unsigned operand) {
  TensorSharding sharding;
  for (const DimFactors &factors : rule.operands[operand])
    sharding.dims.push_back(factors.empty() ? AxisList{} : axes[factors.front()]);
  return sharding;
}

bool SearchProblem::validAxes(const FactorRule &rule, ArrayRef<AxisList> axes) const {
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

RankedTensorType SearchProblem::movedType(Type type) const {
  // Activations, gradients and the parameters' working copies all move at
  // the training precision.
  return cast<RankedTensorType>(getTrainingType(type, precision));
}

double SearchProblem::computeSeconds(Operation *op, ArrayRef<AxisList> axes) {
  int64_t factor = 1;
  for (const AxisList &factorAxes : axes)
    factor *= grid.axesSize(factorAxes);
  return computeTime(op, cluster, factor, getComputeOptions(precision));
}

void SearchProblem::enumerateOpCandidates(Group &group) {
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
      bool scatterable = completeCandidate(group, candidate);
      group.candidates.push_back(std::move(candidate));
      if (scatterable) {
        // The same strategy with the partial sum reduce-scattered into
        // rows where the followers read it (Megatron-SP).
        Candidate scattered;
        scattered.factorAxes.push_back(axes);
        scattered.scattersPartials = true;
        completeCandidate(group, scattered);
        group.candidates.push_back(std::move(scattered));
      }
    }
    unsigned axis = 0;
    while (axis < axisCount && ++choice[axis] > factorCount)
      choice[axis++] = 0;
    if (axis == axisCount)
      break;
  }
}

TensorSharding SearchProblem::layoutOf(Value value, int candidate) const {
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

bool SearchProblem::completeCandidate(Group &group, Candidate &candidate) {
  bool scatterable = false;
  int tpAxis = findTensorParallelAxis(grid);
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
      // A partial sum over tp (and nothing else) entering a cheap op:
      // its rows (the leading dimensions before the last) may take tp.
      auto type = cast<RankedTensorType>(member->getOperand(operandIndex).getType());
      if (tpAxis >= 0 && layout.partial.size() == 1 && layout.partial.front() == tpAxis &&
          type.getRank() >= 2 && !used.test(tpAxis)) {
        const TensorFactors &dims = rule.operands[operandIndex];
        for (size_t dim = 0; dim + 1 < dims.size(); ++dim) {
          if (dims[dim].empty())
            continue;
          SmallVector<AxisList> trial = axes;
          trial[dims[dim].front()].push_back(static_cast<int16_t>(tpAxis));
          if (!validAxes(rule, trial))
            continue;
          scatterable = true;
          if (candidate.scattersPartials) {
            axes = trial;
            used.set(tpAxis);
          }
          break;
        }
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
          reshardSeconds(movedType(operand.getType()), candidate.produced[operand],
                         operandSharding(rule, axes, operandIndex), grid, collectives);
    }
    for (auto [index, result] : llvm::enumerate(member->getResults()))
      candidate.produced[result] = resultSharding(rule, axes, index);
  }
  for (Operation *member : group.ops)
    for (Value result : member->getResults())
      if (savedActivations.contains(result)) {
        auto type = cast<RankedTensorType>(result.getType());
        double bytes = getActivationBytes(type, precision);
        for (const AxisList &axes : candidate.produced[result].dims)
          bytes /= grid.axesSize(axes);
        candidate.activationBytes += bytes;
      }
  return scatterable;
}

void SearchProblem::buildEdges() {
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
          edge.cost[i][j] += reshardSeconds(movedType(type), from, layout, grid, collectives);
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
