//===- Collectives.cpp - shard collectives -> runtime calls ---------------===//
#include "compiler/Codegen/Collectives.h"

#include "dialects/Cleave/IR/CleaveDialect.h"
#include "passes/Analysis/Sharding/ShardingAttrs.h"

#include "mlir/Dialect/Shard/IR/ShardOps.h"
#include "llvm/Support/FormatVariadic.h"

using namespace mlir;
using namespace mlir::cleave;

bool codegen::isCollective(Operation *op) {
  return isa<shard::AllReduceOp, shard::ReduceScatterOp, shard::AllGatherOp, shard::AllSliceOp,
             shard::AllToAllOp>(op);
}

static std::optional<GridInfo> gridInfo(Operation *op) {
  auto module = op->getParentOfType<ModuleOp>();
  if (!module || module.getOps<shard::GridOp>().empty())
    return std::nullopt;
  SmallVector<shard::GridOp> grids(module.getOps<shard::GridOp>());
  if (grids.size() != 1)
    return std::nullopt;
  FailureOr<GridInfo> grid = getGrid(module);
  if (failed(grid))
    return std::nullopt;
  return *grid;
}

std::optional<std::string> codegen::gridOf(func::FuncOp function) {
  std::optional<GridInfo> grid = gridInfo(function);
  if (!grid)
    return std::nullopt;
  std::string text;
  for (auto [i, name] : llvm::enumerate(grid->names))
    text += (i ? "," : "") + name + "=" + std::to_string(grid->shape[i]);
  return text;
}

codegen::ArgumentLayout codegen::argumentLayout(func::FuncOp function, unsigned index) {
  ArgumentLayout layout;
  auto type = cast<RankedTensorType>(function.getArgumentTypes()[index]);
  layout.globalShape.assign(type.getShape().begin(), type.getShape().end());
  std::optional<GridInfo> grid = gridInfo(function);
  std::optional<SmallVector<AxisList, 4>> attrDims = getArgSharding(function, index);
  if (!grid || !attrDims)
    return layout;
  SmallVector<AxisList, 4> dims = *attrDims;
  bool split = false;
  std::string text;
  for (auto [d, axes] : llvm::enumerate(dims)) {
    layout.globalShape[d] *= grid->axesSize(axes);
    split |= !axes.empty();
    if (d)
      text += ",";
    if (axes.empty()) {
      text += "-";
      continue;
    }
    for (auto [i, axis] : llvm::enumerate(axes))
      text += (i ? "*" : "") + grid->names[axis];
  }
  if (split)
    layout.sharding = text;
  return layout;
}

FailureOr<std::string> codegen::emitCollectiveCall(Operation *op,
                                                   llvm::function_ref<std::string(Value)> pointer,
                                                   bool cuda) {
  // The CUDA step calls the device-buffer twins (cuda_collectives.h): same
  // arguments, pointers into device memory.
  const char *ns = cuda ? "cleave::rt::cuda::collective::" : "cleave::rt::collective::";
  std::optional<GridInfo> grid = gridInfo(op);
  if (!grid)
    return op->emitOpError("needs the module's single shard.grid"), failure();
  auto axesOf = [&](ArrayRef<int16_t> axes) -> FailureOr<std::string> {
    std::string text;
    for (auto [i, axis] : llvm::enumerate(axes)) {
      if (i && axes[i - 1] >= axis)
        return op->emitOpError("lists grid axes out of grid order, which the runtime's groups "
                               "do not support"),
               failure();
      text += (i ? "," : "") + grid->names[axis];
    }
    return "\"" + text + "\"";
  };
  auto typeOf = [](Value value) { return cast<RankedTensorType>(value.getType()); };
  auto element = [&](Value value) -> FailureOr<std::string> {
    Type type = typeOf(value).getElementType();
    if (type.isF32())
      return std::string("cleave::rt::CommElement::f32");
    if (type.isSignlessInteger(64))
      return std::string("cleave::rt::CommElement::i64");
    return op->emitOpError() << "reduces " << type << " values; only f32 and i64 are supported",
           failure();
  };
  auto elementBytes = [&](Value value) {
    return std::to_string((typeOf(value).getElementTypeBitWidth() + 7) / 8);
  };
  // [outer, block] of a tensor seen along dimension `axis` on one rank.
  auto outerAndBlock = [&](RankedTensorType local, int64_t axis) {
    int64_t outer = 1, block = 1;
    for (int64_t d = 0; d < local.getRank(); ++d)
      (d < axis ? outer : block) *= local.getDimSize(d);
    return std::make_pair(outer, block);
  };

  // The partitioner's partial values are sums, maxima or minima (the factor
  // rules' result reductions); the runtime combines exactly these.
  auto reduction = [&](shard::ReductionKind kind) -> FailureOr<std::string> {
    switch (kind) {
    case shard::ReductionKind::Sum:
      return std::string("cleave::rt::CommReduction::sum");
    case shard::ReductionKind::Max:
      return std::string("cleave::rt::CommReduction::max");
    case shard::ReductionKind::Min:
      return std::string("cleave::rt::CommReduction::min");
    default:
      return op->emitOpError() << "reduces with '" << shard::stringifyReductionKind(kind)
                               << "'; the runtime's collectives combine only sum, max and min",
             failure();
    }
  };

  if (auto reduce = dyn_cast<shard::AllReduceOp>(op)) {
    FailureOr<std::string> how = reduction(reduce.getReduction());
    if (failed(how))
      return failure();
    FailureOr<std::string> axes = axesOf(reduce.getGridAxes());
    FailureOr<std::string> kind = element(reduce.getResult());
    if (failed(axes) || failed(kind))
      return failure();
    return std::string("    ") + ns +
           llvm::formatv("all_reduce(io.collectives, {0}, {1}, "
                         "{2}, {3}, {4}, {5});\n",
                         *axes, pointer(reduce.getInput()), pointer(reduce.getResult()),
                         typeOf(reduce.getResult()).getNumElements(), *kind, *how)
               .str();
  }
  if (auto scatter = dyn_cast<shard::ReduceScatterOp>(op)) {
    FailureOr<std::string> how = reduction(scatter.getReduction());
    if (failed(how))
      return failure();
    FailureOr<std::string> axes = axesOf(scatter.getGridAxes());
    FailureOr<std::string> kind = element(scatter.getResult());
    if (failed(axes) || failed(kind))
      return failure();
    auto [outer, block] =
        outerAndBlock(typeOf(scatter.getResult()), scatter.getScatterAxis().getSExtValue());
    return std::string("    ") + ns +
           llvm::formatv("reduce_scatter(io.collectives, {0}, "
                         "{1}, {2}, {3}, {4}, {5}, {6});\n",
                         *axes, pointer(scatter.getInput()), pointer(scatter.getResult()), outer,
                         block, *kind, *how)
               .str();
  }
  if (auto gather = dyn_cast<shard::AllGatherOp>(op)) {
    FailureOr<std::string> axes = axesOf(gather.getGridAxes());
    if (failed(axes))
      return failure();
    auto [outer, block] =
        outerAndBlock(typeOf(gather.getInput()), gather.getGatherAxis().getSExtValue());
    return std::string("    ") + ns +
           llvm::formatv("all_gather(io.collectives, {0}, {1}, {2}, "
                         "{3}, {4}, {5});\n",
                         *axes, pointer(gather.getInput()), pointer(gather.getResult()), outer,
                         block, elementBytes(gather.getResult()))
               .str();
  }
  if (auto toAll = dyn_cast<shard::AllToAllOp>(op)) {
    FailureOr<std::string> axes = axesOf(toAll.getGridAxes());
    if (failed(axes))
      return failure();
    int64_t split = toAll.getSplitAxis().getSExtValue();
    int64_t concat = toAll.getConcatAxis().getSExtValue();
    RankedTensorType input = typeOf(toAll.getInput()), result = typeOf(toAll.getResult());
    int64_t ranks = input.getDimSize(split) / result.getDimSize(split);
    auto [sendOuter, sendWhole] = outerAndBlock(input, split);
    auto [recvOuter, recvWhole] = outerAndBlock(result, concat);
    return std::string("    ") + ns +
           llvm::formatv("all_to_all(io.collectives, {0}, {1}, {2}, "
                         "{3}, {4}, {5}, {6}, {7});\n",
                         *axes, pointer(toAll.getInput()), pointer(toAll.getResult()), sendOuter,
                         sendWhole / ranks, recvOuter, recvWhole / ranks,
                         elementBytes(toAll.getResult()))
               .str();
  }
  auto slice = cast<shard::AllSliceOp>(op);
  FailureOr<std::string> axes = axesOf(slice.getGridAxes());
  if (failed(axes))
    return failure();
  auto [outer, block] =
      outerAndBlock(typeOf(slice.getResult()), slice.getSliceAxis().getSExtValue());
  return std::string("    ") + ns +
         llvm::formatv("all_slice(io.collectives, {0}, {1}, {2}, "
                       "{3}, {4}, {5});\n",
                       *axes, pointer(slice.getInput()), pointer(slice.getResult()), outer, block,
                       elementBytes(slice.getResult()))
             .str();
}
