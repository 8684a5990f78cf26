//===- PlanTensors.cpp - global shapes and layouts of a plan's tensors ----===//
//
// Read before partitioning, while values still have their global types and
// ops their `cleave.factor_axes`: after it only per-device types are left.
//
//===----------------------------------------------------------------------===//
#include "compiler/Plan/PlanReport.h"
#include "dialects/Cleave/IR/CleaveOps.h"
#include "dialects/Cleave/IR/NodeName.h"
#include "passes/Analysis/Cost/Precision.h"
#include "passes/Analysis/Sharding/ShardingAttrs.h"

#include "mlir/Dialect/Shard/IR/ShardOps.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "llvm/ADT/SmallBitVector.h"

#include <algorithm>

using namespace mlir;
using namespace mlir::cleave;

static llvm::Error makeError(const llvm::Twine &message) {
  return llvm::createStringError(llvm::inconvertibleErrorCode(), message);
}

/// The grid of `module`, or a one-device grid without axes when it has none.
static llvm::Expected<GridInfo> readGrid(ModuleOp module) {
  if (module.getOps<shard::GridOp>().empty())
    return GridInfo{};
  std::string diagnostics;
  ScopedDiagnosticHandler handler(module.getContext(), [&](Diagnostic &diagnostic) {
    diagnostics += diagnostic.str();
    return success();
  });
  FailureOr<GridInfo> grid = getGrid(module);
  if (failed(grid))
    return makeError("the module's device grid is malformed: " + diagnostics);
  return *grid;
}

static std::string typeName(Type type) {
  std::string text;
  llvm::raw_string_ostream os(text);
  type.print(os);
  return text;
}

static PlanTensor makeTensor(std::string name, RankedTensorType type,
                             const TensorSharding &sharding, const GridInfo &grid) {
  PlanTensor tensor;
  tensor.name = std::move(name);
  tensor.globalShape.assign(type.getShape().begin(), type.getShape().end());
  tensor.elementType = typeName(type.getElementType());
  tensor.sharding = describe(sharding, grid);
  tensor.bytesPerDevice = getLocalBytes(type, sharding, grid);
  return tensor;
}

std::string mlir::cleave::describeOp(Operation *op) {
  std::string label = op->getName().getStringRef().str();
  // Binary, unary and reduce ops say which one they are.
  if (Attribute kind = op->getAttr("kind")) {
    std::string text;
    llvm::raw_string_ostream os(text);
    kind.print(os);
    // "#cleave<binary_kind mul>" and the like: the last word names it.
    llvm::StringRef word = llvm::StringRef(text).rtrim(">\" ");
    word = word.substr(word.find_last_of(" <\"") + 1);
    label += " " + word.str();
  }
  std::string node = nodeNameOf(op);
  if (!node.empty())
    label += " (" + node + ")";
  return label;
}

/// The sharding of each result of `op` under its `cleave.factor_axes`, as
/// the partitioner derives it: a dimension takes its factors' axes, and a
/// split factor the result does not carry leaves it partial.
static SmallVector<TensorSharding> resultShardings(Operation *op, const GridInfo &grid) {
  SmallVector<TensorSharding> shardings;
  auto ruleOp = dyn_cast<FactorRuleOpInterface>(op);
  shard::GridAxesArrayAttr attr = getFactorAxesAttr(op);
  for (Value result : op->getResults()) {
    auto type = dyn_cast<RankedTensorType>(result.getType());
    shardings.push_back(TensorSharding::replicated(type ? type.getRank() : 0));
  }
  if (!ruleOp || !attr)
    return shardings;
  FactorRule rule = ruleOp.getFactorRule();
  SmallVector<AxisList, 4> factorAxes = fromAttr(attr);
  if (factorAxes.size() != rule.factors.size() || rule.results.size() != shardings.size())
    return shardings; // the partitioner reports such an op
  for (auto [index, sharding] : llvm::enumerate(shardings)) {
    for (auto [dim, factors] : llvm::enumerate(rule.results[index]))
      if (dim < sharding.dims.size())
        for (int factor : factors)
          llvm::append_range(sharding.dims[dim], factorAxes[factor]);
    for (auto [factor, axes] : llvm::enumerate(factorAxes))
      if (!axes.empty() && !rule.resultCarries(index, factor))
        llvm::append_range(sharding.partial, axes);
    llvm::sort(sharding.partial);
    if (index < rule.resultReductions.size())
      sharding.partialKind = rule.resultReductions[index];
  }
  (void)grid;
  return shardings;
}

llvm::Error mlir::cleave::collectPlanTensors(ModuleOp module, const PlanOptions &options,
                                             PlanReport &report, bool annotate) {
  auto function = module.lookupSymbol<func::FuncOp>("train_step");
  // An unrolled pipeline's stage functions share the step's signature.
  if (!function)
    function = module.lookupSymbol<func::FuncOp>((kStageFunctionPrefix + "0").str());
  if (!function)
    return makeError("the module has no @train_step to plan (build the train step first)");
  llvm::Expected<GridInfo> grid = readGrid(module);
  if (!grid)
    return grid.takeError();
  report.axisNames.assign(grid->names.begin(), grid->names.end());
  report.gridShape.assign(grid->shape.begin(), grid->shape.end());
  if (grid->shape.empty()) {
    report.grid = "single device";
  } else {
    report.grid.clear();
    for (auto [index, name] : llvm::enumerate(grid->names))
      report.grid += (index ? "," : "") + name + "=" + std::to_string(grid->shape[index]);
  }

  llvm::SmallBitVector used(grid->shape.size());
  auto markUsed = [&](llvm::ArrayRef<AxisList> axesLists) {
    for (const AxisList &axes : axesLists)
      for (int16_t axis : axes)
        if (axis >= 0 && axis < static_cast<int16_t>(used.size()))
          used.set(axis);
  };
  // What each axis carries, for the headline: the batch (an input's rows
  // split over it) and weights (a parameter split over it; ZeRO-3's dp
  // shards are storage, gathered before use, and counted apart).
  llvm::SmallBitVector batchAxes(grid->shape.size()), weightAxes(grid->shape.size());
  // Axes some norm splits its rows over (Megatron-SP where they split
  // weights and not the batch).
  llvm::SmallBitVector normRowAxes(grid->shape.size());
  auto markAxes = [&](llvm::SmallBitVector &bits, llvm::ArrayRef<AxisList> axesLists) {
    for (const AxisList &axes : axesLists)
      for (int16_t axis : axes)
        if (axis >= 0 && axis < static_cast<int16_t>(bits.size()))
          bits.set(axis);
  };
  report.parameters.clear();
  report.optimizerState.clear();
  report.inputs.clear();
  report.activations.clear();
  for (BlockArgument argument : function.getArguments()) {
    auto type = dyn_cast<RankedTensorType>(argument.getType());
    if (!type)
      continue;
    unsigned index = argument.getArgNumber();
    TensorSharding sharding = TensorSharding::replicated(type.getRank());
    if (auto dims = getArgSharding(function, index))
      sharding.dims = *dims;
    markUsed(sharding.dims);
    if (auto param = function.getArgAttrOfType<ParamAttr>(index, CleaveDialect::kParamAttrName)) {
      PlanTensor tensor = makeTensor(param.getName().str(), type, sharding, *grid);
      // A mixed-precision run holds a bf16 working copy beside the master.
      if (auto working = cast<RankedTensorType>(getTrainingType(type, options.precision));
          working != type) {
        tensor.elementType = typeName(working.getElementType()) + "+" + tensor.elementType;
        tensor.bytesPerDevice += getLocalBytes(working, sharding, *grid);
      }
      report.parameters.push_back(std::move(tensor));
      markAxes(weightAxes, sharding.dims);
    } else if (auto state =
                   function.getArgAttrOfType<StringAttr>(index, CleaveDialect::kOptStateAttrName)) {
      report.optimizerState.push_back(makeTensor(state.str(), type, sharding, *grid));
    } else if (auto input =
                   function.getArgAttrOfType<StringAttr>(index, CleaveDialect::kInputAttrName)) {
      report.inputs.push_back(makeTensor(input.str(), type, sharding, *grid));
      if (!sharding.dims.empty())
        markAxes(batchAxes, llvm::ArrayRef(sharding.dims).take_front());
    }
  }

  // Intermediates: every op result but constants and reshapes (a reshape
  // is a view of its operand's storage).
  std::vector<PlanTensor> activations;
  function.walk([&](Operation *op) {
    if (op->getNumResults() == 0 || isa<ConstantOp, ReshapeOp>(op))
      return;
    if (shard::GridAxesArrayAttr attr = getFactorAxesAttr(op)) {
      markUsed(fromAttr(attr));
      if (isa<LayerNormOp, LayerNormGradOp>(op))
        markAxes(normRowAxes, fromAttr(attr));
    }
    SmallVector<TensorSharding> shardings = resultShardings(op, *grid);
    if (annotate && !shardings.empty() && isa<RankedTensorType>(op->getResult(0).getType()))
      op->setAttr(kPlanShardingAttr,
                  StringAttr::get(op->getContext(), describe(shardings[0], *grid)));
    for (auto [result, sharding] : llvm::zip(op->getResults(), shardings))
      if (auto type = dyn_cast<RankedTensorType>(result.getType()))
        if (type.getElementType().isIntOrFloat())
          activations.push_back(makeTensor(
              describeOp(op), cast<RankedTensorType>(getTrainingType(type, options.precision)),
              sharding, *grid));
  });
  // An unrolled pipeline's pp axis splits the layers, which no sharding
  // shows (cleave-pipeline-unroll puts it back into the grid).
  bool pipeline = module->hasAttr(CleaveDialect::kPipelineAttrName) ||
                  function != module.lookupSymbol<func::FuncOp>("train_step");
  auto isStageAxis = [&](llvm::StringRef name) { return pipeline && name == "pp"; };
  report.idleAxes.clear();
  for (auto [index, name] : llvm::enumerate(grid->names))
    if (!used.test(index) && grid->shape[index] > 1 && !isStageAxis(name))
      report.idleAxes.push_back(name);
  report.axisRoles.clear();
  report.axisSequenceParallel.clear();
  for (auto [index, name] : llvm::enumerate(grid->names)) {
    // ZeRO-3 splits every parameter over dp for storage only.
    bool zeroAxis = name == "dp" && report.zero >= 1;
    bool batch = batchAxes.test(index);
    bool weights = weightAxes.test(index) && !(zeroAxis && report.zero == 3);
    bool sequenceParallel = weights && !batch && normRowAxes.test(index);
    report.axisSequenceParallel.push_back(sequenceParallel);
    if (isStageAxis(name)) {
      report.axisRoles.push_back(kStageAxisRole.str());
      continue;
    }
    std::string role = batch && weights ? "data and tensor parallel (splits the batch and weights)"
                       : batch          ? "data parallel (splits the batch)"
                       : weights        ? "tensor parallel (splits weights, not the batch)"
                       : used.test(index) ? "splits intermediates only (not the batch, no weights)"
                                          : "idle (nothing is split over it)";
    if (sequenceParallel)
      role += ", sequence parallel (norms and elementwise ops run on 1/" +
              std::to_string(grid->shape[index]) + " of the rows)";
    if (zeroAxis)
      role += report.zero == 3   ? ", ZeRO-3 (shards parameters, gradients and optimizer state)"
              : report.zero == 2 ? ", ZeRO-2 (shards optimizer state and gradients)"
                                 : ", ZeRO-1 (shards optimizer state)";
    report.axisRoles.push_back(role);
  }
  std::stable_sort(
      activations.begin(), activations.end(),
      [](const PlanTensor &a, const PlanTensor &b) { return a.bytesPerDevice > b.bytesPerDevice; });
  if (static_cast<int64_t>(activations.size()) > options.topActivations)
    activations.resize(std::max(0, options.topActivations));
  report.activations = std::move(activations);
  return llvm::Error::success();
}
