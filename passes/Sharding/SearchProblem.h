//===- SearchProblem.h - what the sharding search chooses between ---------===//
//
// For one train step on one device grid, the search picks a strategy per op
// (an assignment of grid axes to its factors, FactorRule.h) and a layout
// per parameter and batch input, minimising
//
//   sum_v c_v . s_v  +  sum_(u,v) s_u^T R_uv s_v     s_v one-hot
//
// (Alpa's intra-op program, Zheng et al., OSDI'22). This analysis builds the
// program's pieces and changes nothing in the IR:
//   * groups: an op that is cheap and moves no data across its factors
//     follows the layout of its first operand computed in the program, so
//     only heavy ops (the HeavyOpTrait of CleaveBase.td) and arguments are
//     decisions; a group's strategy fixes its followers, whose compute and
//     internal resharding it pays. A parameter and its optimizer state
//     share one group: stored whole or split along one dimension over a set
//     of axes (ZeRO-3 or tensor-parallel storage); a batch input whole or
//     split by rows;
//   * classes: groups of identical structure in the same context (the same
//     op of every repeated layer, StructuralLabels.h) share one choice,
//     their costs and memory counted `count` times;
//   * edges: a value passed between groups, priced for each pair of the
//     producer's and consumer's distinct layouts, so that the ILP
//     (SearchIlp.h) linearises s_u^T R s_v over layouts, not strategies.
//
//===----------------------------------------------------------------------===//
#ifndef CLEAVE_PASSES_SHARDING_SEARCHPROBLEM_H
#define CLEAVE_PASSES_SHARDING_SEARCHPROBLEM_H

#include "dialects/Cleave/Interfaces/FactorRule.h"
#include "passes/Analysis/Cost/ReshardCost.h"
#include "passes/Analysis/Sharding/GridSpec.h"
#include "passes/Analysis/Sharding/Reshard.h"
#include "passes/Analysis/Sharding/TensorSharding.h"

#include "passes/Analysis/Cluster/Cluster.h"
#include "passes/Analysis/Cost/CollectiveCost.h"
#include "passes/Analysis/Cost/Precision.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/DenseSet.h"

#include <optional>
#include <vector>

namespace mlir::cleave {

/// One strategy of a group.
struct Candidate {
  /// Factor axes of each member op, in member order.
  SmallVector<SmallVector<AxisList>> factorAxes;
  /// Per dimension, for an argument group (its parameter's or input's layout).
  SmallVector<AxisList, 4> argumentDims;
  double seconds = 0;         // compute plus resharding inside the group
  double memoryBytes = 0;     // parameters, their gradients and optimizer state per device
  double activationBytes = 0; // values kept from the forward pass for the backward
  /// Megatron-SP: followers that read the leader's partial sum over tp
  /// split their rows over tp (reduce_scatter) instead of all-reducing it.
  bool scattersPartials = false;
  DenseMap<Value, TensorSharding> produced; // layouts of an op group's values
};

struct Group {
  SmallVector<Operation *> ops; // leader first, then followers in program order
  SmallVector<unsigned> arguments;
  /// Filled on a class's representative only; the others share them.
  std::vector<Candidate> candidates;
  int representative = -1;
};

struct GroupClass {
  int representative;
  int count = 0;
};

/// A value passed between groups: the resharding it costs for each pair of
/// the producer's and consumer's layouts, and how many uses share it.
struct Edge {
  int producerClass = -1, consumerClass = -1; // -1: fixed (whole)
  SmallVector<int> fromOf, toOf;              // candidate -> distinct layout
  SmallVector<SmallVector<double>> cost;      // [from layout][to layout]
  int count = 0;
  bool anyCost = false;
};

/// A chosen plan as data: what cleave-search-sharding writes as attributes.
struct SearchPlan {
  ParsedGrid grid;
  double seconds = 0; // the predicted step time
  double bytes = 0;   // the memory estimate (least-memory plans only)
  /// Per device under the chosen candidates: parameters, gradients and
  /// optimizer state; the activations kept for the backward (the planner
  /// reads what the sub-grid's plan splits).
  double stateBytes = 0, activationBytes = 0;
  /// cleave.sharding of every grouped argument of rank > 0.
  SmallVector<std::pair<unsigned, SmallVector<AxisList, 4>>> arguments;
  /// cleave.factor_axes of every op with a factor rule (none split: removed).
  SmallVector<std::pair<Operation *, SmallVector<AxisList>>> ops;
};

/// The layout an argument group's candidate stores its arguments in.
TensorSharding argumentLayout(const Candidate &candidate);

class SearchProblem {
public:
  /// `pinned`: layouts the user pinned (--shard), by argument number of the
  /// parameter; its optimizer state follows.
  SearchProblem(func::FuncOp func, const GridInfo &grid, const Cluster &cluster,
                DenseMap<unsigned, SmallVector<AxisList, 4>> pinned =
                    DenseMap<unsigned, SmallVector<AxisList, 4>>());

  /// Prices the plan at `precision` (Precision.h): call before build().
  void setPrecision(Precision value) { precision = value; }
  Precision getPrecision() const { return precision; }

  /// Groups and classifies the function's ops and arguments; then, unless
  /// the distinct groups hold more than `maxDistinctOps` ops (failure with
  /// a diagnostic), enumerates and prices the candidates and the edges.
  LogicalResult build(int64_t maxDistinctOps);

  func::FuncOp getFunction() const { return func; }
  const GridInfo &getGrid() const { return grid; }
  const Cluster &getCluster() const { return cluster; }
  const std::vector<Group> &getGroups() const { return groups; }
  const std::vector<GroupClass> &getClasses() const { return classes; }
  int classOf(int group) const { return classOfGroup[group]; }
  const std::vector<Edge> &getEdges() const { return edges; }
  /// Ops in distinct groups (each repeated structure counted once).
  int64_t getDistinctOps() const { return distinctOps; }

  const std::vector<Candidate> &candidatesOf(int group) const {
    return groups[groups[group].representative].candidates;
  }
  const Candidate &candidate(int groupClass, int c) const {
    return groups[classes[groupClass].representative].candidates[c];
  }
  /// Compute and in-group resharding of candidate c of a class, all its
  /// groups together.
  double baseCost(int groupClass, int c) const { return baseCosts[groupClass][c]; }
  int numCandidates(int groupClass) const { return baseCosts[groupClass].size(); }
  /// Memory per device of candidate c of a class, all its groups together.
  double candidateBytes(int groupClass, int c) const;
  /// The part of it kept from the forward for the backward.
  double activationBytes(int groupClass, int c) const {
    return candidate(groupClass, c).activationBytes * classes[groupClass].count;
  }
  /// For candidate c of a class, the factor (op groups) or dimension
  /// (argument groups) each grid axis splits, -1 for none.
  const SmallVector<int8_t> &axisTargets(int groupClass, int c) const {
    return targetsOf[groupClass][c];
  }

  /// What the search lets its memory estimate use: the estimate counts
  /// parameters, gradients, optimizer state and the activations kept for
  /// the backward, not the backward's temporaries or the buffer plan's
  /// fragmentation (a few percent on GPT; docs/sharding.md).
  double usableBytes() const { return 0.95 * static_cast<double>(cluster.memoryCapacity); }
  /// Memory is a sum over classes: the least of it takes each class's
  /// smallest candidate.
  const std::vector<int> &getLeastMemoryPlan() const { return leastMemoryPlan; }
  double getLeastMemoryBytes() const { return leastMemoryBytes; }
  bool leastMemoryFits() const {
    return cluster.memoryCapacity <= 0 || leastMemoryBytes <= usableBytes();
  }

  /// Predicted seconds of one candidate per class.
  double evaluate(ArrayRef<int> chosen) const;
  /// The attributes of one candidate per class.
  SearchPlan planOf(ArrayRef<int> chosen) const;
  /// "cleave.matmul loc(...) x12: factors [dp, -, -], 0.0012 s, 3.1 MB"
  /// for debug traces.
  std::string describeCandidate(int groupClass, int c) const;
  /// Traces, per class, the chosen candidate, and the one its own costs
  /// alone would pick where that differs (edges or memory decided).
  void traceChoice(ArrayRef<int> chosen) const;

private:
  void buildArgumentGroups();
  void findSavedActivations();
  void buildOpGroups();
  /// Ties groups of equal structure and context (StructuralLabels.h).
  void classifyGroups();
  /// The operand a follower takes its layout from: the largest one computed
  /// by a grouped op (in `group`, unless -1).
  std::optional<unsigned> leadingOperand(Operation *op, int group) const;
  /// The operand of a cheap op that reads a parameter directly, when it
  /// reads one and otherwise only constants.
  std::optional<unsigned> sharedParameter(Operation *op) const;
  void computeAxisTargets();
  void computeLeastMemoryPlan();

  // Candidates and their prices (SearchCosts.cpp).
  void enumerateOpCandidates(Group &group);
  /// Fills a candidate's followers from the leader's factor axes (a
  /// follower factor the layout cannot split stays whole) and prices them;
  /// returns whether a follower reads a partial sum over tp that
  /// `candidate.scattersPartials` would scatter into rows.
  bool completeCandidate(Group &group, Candidate &candidate);
  TensorSharding resultSharding(const FactorRule &rule, ArrayRef<AxisList> axes,
                                unsigned result) const;
  static TensorSharding operandSharding(const FactorRule &rule, ArrayRef<AxisList> axes,
                                        unsigned operand);
  double computeSeconds(Operation *op, ArrayRef<AxisList> axes);
  /// The type a resharding of `type` moves (Precision.h).
  RankedTensorType movedType(Type type) const;
  bool validAxes(const FactorRule &rule, ArrayRef<AxisList> axes) const;
  /// The layout `value` has under each candidate of its group (or fixed).
  TensorSharding layoutOf(Value value, int candidate) const;
  void buildEdges();

  func::FuncOp func;
  GridInfo grid;
  const Cluster &cluster;
  DenseMap<unsigned, SmallVector<AxisList, 4>> pinned;
  Precision precision = Precision::fp32;
  GridCollectives collectives;
  std::vector<Group> groups;
  std::vector<GroupClass> classes;
  std::vector<int> classOfGroup;
  int64_t distinctOps = 0;
  std::vector<std::vector<double>> baseCosts; // [class][candidate]
  std::vector<int> leastMemoryPlan;           // per class, its smallest candidate
  double leastMemoryBytes = 0;
  std::vector<Edge> edges;
  std::vector<std::vector<SmallVector<int8_t>>> targetsOf; // [class][candidate][axis]
  DenseSet<Value> savedActivations;
  DenseMap<Operation *, std::pair<int, int>> memberOf; // op -> (group, member index)
  DenseMap<Value, int> argumentGroup;                  // argument -> group
  DenseMap<Operation *, FactorRule> rules;
};

} // namespace mlir::cleave

#endif // CLEAVE_PASSES_SHARDING_SEARCHPROBLEM_H
