//===- PlanDot.cpp - a partitioned train step as a Graphviz picture -------===//
//
// One node per op of the per-device @train_step (constants and the return
// left out), filled with a colour per distinct sharding of its result, so
// that regions laid out alike show as one colour; collectives are red
// boxes labelled with kind, axes, bytes and predicted time.
//
//===----------------------------------------------------------------------===//
#include "compiler/Plan/PlanReport.h"
#include "dialects/Cleave/IR/CleaveOps.h"
#include "passes/Analysis/Cost/ReshardCost.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/StringMap.h"

using namespace mlir;
using namespace mlir::cleave;

static std::string escape(llvm::StringRef text) {
  std::string out;
  for (char c : text) {
    if (c == '"' || c == '\\')
      out += '\\';
    out += c;
  }
  return out;
}

/// Axis names of a collective's grid axes ("dp*tp").
static std::string axesText(ArrayRef<int16_t> axes, const PlanReport &report) {
  std::string text;
  for (auto [index, axis] : llvm::enumerate(axes))
    text += (index ? "*" : "") + (axis >= 0 && axis < static_cast<int16_t>(report.axisNames.size())
                                      ? report.axisNames[axis]
                                      : std::to_string(axis));
  return text.empty() ? "-" : text;
}

void mlir::cleave::printPlanDot(ModuleOp module, const PlanReport &report, llvm::raw_ostream &os) {
  static const char *palette[] = {"#a6cee3", "#b2df8a", "#fdbf6f", "#cab2d6", "#ffff99",
                                  "#8dd3c7", "#bebada", "#fccde5", "#d9d9d9", "#ccebc5"};
  os << "digraph plan {\n  rankdir=TB;\n  node [shape=box, style=\"rounded,filled\", "
        "fontname=\"Helvetica\", fontsize=10];\n";
  os << "  label=\"" << escape(report.grid) << (report.zero ? " zero=" : "")
     << (report.zero ? std::to_string(report.zero) : "") << " on " << escape(report.cluster.name)
     << ": step " << formatSeconds(report.stepSeconds()) << " (compute "
     << formatSeconds(report.computeSeconds) << ", communication "
     << formatSeconds(report.communicationSeconds) << ")\";\n";
  // An unrolled pipeline has one function per rank stage: each is drawn as
  // a cluster of its own.
  SmallVector<func::FuncOp> functions;
  if (auto function = module.lookupSymbol<func::FuncOp>("train_step"))
    functions.push_back(function);
  else
    while (auto stage = module.lookupSymbol<func::FuncOp>(
               (kStageFunctionPrefix + llvm::Twine(functions.size())).str()))
      functions.push_back(stage);
  if (functions.empty()) {
    os << "}\n";
    return;
  }
  SmallVector<int64_t, 4> gridShape(report.gridShape.begin(), report.gridShape.end());
  if (gridShape.empty())
    gridShape.push_back(1);
  std::optional<GridCollectives> grid;
  if (llvm::Error error = checkGridFits(gridShape, report.cluster))
    llvm::consumeError(std::move(error)); // drawn without times
  else
    grid.emplace(report.cluster, gridShape);

  // A pipeline's ops are coloured by their rank stage (cleave.stage is the
  // chunk, on stage chunk % S), other plans' by their sharding.
  int64_t stages = report.pipeline && !report.pipeline->stageList.empty()
                       ? static_cast<int64_t>(report.pipeline->stageList.size())
                       : 0;
  llvm::DenseMap<Operation *, int> ids;
  llvm::StringMap<int> colours;
  int next = 0;
  for (func::FuncOp function : functions) {
    if (functions.size() > 1)
      os << "  subgraph cluster_" << function.getSymName() << " {\n  label=\""
         << function.getSymName() << "\";\n";
    for (Operation &op : function.getBody().front()) {
      if (isa<ConstantOp, func::ReturnOp>(op))
        continue;
      int id = next++;
      ids[&op] = id;
      os << "  n" << id << " [label=\"";
      if (std::optional<ShardCollective> collective = getShardCollective(&op)) {
        os << collective->name << " over " << axesText(collective->axes, report) << "\\n";
        if (!collective->kind) {
          // Each device keeps its block: no communication, drawn lighter.
          os << "local, no communication\", shape=octagon, fillcolor=\"#fb9a99\"];\n";
          continue;
        }
        os << formatBytes(collective->bytes);
        if (grid)
          os << ", "
             << formatSeconds(
                    grid->getTime(*collective->kind, collective->bytes, collective->axes));
        os << "\", shape=octagon, fillcolor=\"#e31a1c\", fontcolor=white, penwidth=2];\n";
        continue;
      }
      std::string sharding;
      if (auto attr = op.getAttrOfType<StringAttr>(kPlanShardingAttr))
        sharding = attr.str();
      os << escape(op.getName().getStringRef());
      if (!sharding.empty())
        os << "\\n" << escape(sharding);
      auto chunk = op.getAttrOfType<IntegerAttr>(CleaveDialect::kStageAttrName);
      if (stages > 0 && chunk) {
        int64_t stage = chunk.getInt() % stages;
        os << "\\nstage " << stage << " (chunk " << chunk.getInt() << ")\", fillcolor=\""
           << palette[stage % std::size(palette)] << "\"];\n";
        continue;
      }
      if (stages > 0) {
        // Transfers and other ops outside any chunk.
        os << "\", fillcolor=\"white\"];\n";
        continue;
      }
      auto it = colours.try_emplace(sharding, static_cast<int>(colours.size())).first;
      os << "\", fillcolor=\"" << palette[it->second % std::size(palette)] << "\"];\n";
    }
    if (functions.size() > 1)
      os << "  }\n";
  }
  for (func::FuncOp function : functions)
    for (Operation &op : function.getBody().front()) {
      auto user = ids.find(&op);
      if (user == ids.end())
        continue;
      for (Value operand : op.getOperands())
        if (Operation *producer = operand.getDefiningOp())
          if (auto found = ids.find(producer); found != ids.end())
            os << "  n" << found->second << " -> n" << user->second << ";\n";
    }
  os << "}\n";
}
