//===- Collectives.cpp - shard collectives -> runtime calls ---------------===//
//
// The collectives' rules, and what the model table says of a sharded
// program (its grid, each argument's sharding and global shape).
//
//===----------------------------------------------------------------------===//
#include "compiler/Codegen/Collectives.h"
#include "compiler/Codegen/Rules.h"

#include "dialects/Cleave/IR/CleaveDialect.h"
#include "dialects/Cleave/IR/CleaveOps.h"
#include "passes/Analysis/Sharding/ShardingAttrs.h"

#include "mlir/Dialect/Shard/IR/ShardOps.h"

using namespace mlir;
using namespace mlir::cleave;
using namespace mlir::cleave::codegen;

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

namespace {
/// What every collective's rule needs: the grid, and its axes and element
/// kinds as the runtime spells them.
class CollectiveCall {
public:
  CollectiveCall(CallContext &ctx, const GridInfo &grid) : ctx(ctx), grid(grid) {}

  /// `axes` as the runtime's group name ("dp,tp").
  FailureOr<std::string> axesOf(ArrayRef<int16_t> axes) {
    std::string text;
    for (auto [i, axis] : llvm::enumerate(axes)) {
      if (i && axes[i - 1] >= axis)
        return ctx.getOperation()->emitOpError(
                   "lists grid axes out of grid order, which the runtime's groups "
                   "do not support"),
               failure();
      text += (i ? "," : "") + grid.names[axis];
    }
    return "\"" + text + "\"";
  }
  FailureOr<std::string> element(Value value) {
    Type type = typeOf(value).getElementType();
    if (type.isF32())
      return std::string("cleave::rt::CommElement::f32");
    if (type.isSignlessInteger(64))
      return std::string("cleave::rt::CommElement::i64");
    return ctx.getOperation()->emitOpError()
               << "reduces " << type << " values; only f32 and i64 are supported",
           failure();
  }
  // The partitioner's partial values are sums, maxima or minima (the factor
  // rules' result reductions); the runtime combines exactly these.
  FailureOr<std::string> reduction(shard::ReductionKind kind) {
    switch (kind) {
    case shard::ReductionKind::Sum:
      return std::string("cleave::rt::CommReduction::sum");
    case shard::ReductionKind::Max:
      return std::string("cleave::rt::CommReduction::max");
    case shard::ReductionKind::Min:
      return std::string("cleave::rt::CommReduction::min");
    default:
      return ctx.getOperation()->emitOpError()
                 << "reduces with '" << shard::stringifyReductionKind(kind)
                 << "'; the runtime's collectives combine only sum, max and min",
             failure();
    }
  }
  /// The statement calling collective `call` with `arguments`.
  template <typename... Args> LogicalResult emit(StringRef call, const Args &...arguments) {
    ctx.out() << "    " << ctx.getTarget().collectivePrefix() << call << "(io.collectives";
    ((ctx.out() << ", " << arguments), ...);
    ctx.out() << ");\n";
    return success();
  }

private:
  CallContext &ctx;
  const GridInfo &grid;
};
} // namespace

static std::string bytesOf(Value value) {
  return std::to_string((typeOf(value).getElementTypeBitWidth() + 7) / 8);
}

/// [outer, block] of a tensor seen along dimension `axis` on one rank.
static std::pair<int64_t, int64_t> outerAndBlock(RankedTensorType local, int64_t axis) {
  int64_t outer = 1, block = 1;
  for (int64_t d = 0; d < local.getRank(); ++d)
    (d < axis ? outer : block) *= local.getDimSize(d);
  return {outer, block};
}

/// Runs `body` with the op's grid, or fails when the module has none.
static LogicalResult withGrid(CallContext &ctx,
                              llvm::function_ref<LogicalResult(CollectiveCall &)> body) {
  std::optional<GridInfo> grid = gridInfo(ctx.getOperation());
  if (!grid)
    return ctx.getOperation()->emitOpError("needs the module's single shard.grid");
  CollectiveCall call(ctx, *grid);
  return body(call);
}

/// all_reduce and reduce_scatter: `extents` (the runtime's sizes of the
/// call) between the pointers, then the element kind and the reduction.
/// `slot` is empty for a blocking call, else ", slot" of a start.
static LogicalResult emitReducingCollective(CallContext &ctx, StringRef name,
                                            shard::ReductionKind reduction,
                                            ArrayRef<int16_t> gridAxes, Value input, Value result,
                                            const std::string &extents,
                                            const std::string &slot = "") {
  return withGrid(ctx, [&](CollectiveCall &call) -> LogicalResult {
    FailureOr<std::string> how = call.reduction(reduction);
    if (failed(how))
      return failure();
    FailureOr<std::string> axes = call.axesOf(gridAxes);
    FailureOr<std::string> kind = call.element(result);
    if (failed(axes) || failed(kind))
      return failure();
    return call.emit(name, *axes, ctx.ptr(input), ctx.ptr(result), extents, *kind, *how + slot);
  });
}

static LogicalResult emitAllReduce(CallContext &ctx, shard::AllReduceOp reduce) {
  return emitReducingCollective(ctx, "all_reduce", reduce.getReduction(), reduce.getGridAxes(),
                                reduce.getInput(), reduce.getResult(),
                                std::to_string(typeOf(reduce.getResult()).getNumElements()));
}

static LogicalResult emitReduceScatter(CallContext &ctx, shard::ReduceScatterOp scatter) {
  auto [outer, block] =
      outerAndBlock(typeOf(scatter.getResult()), scatter.getScatterAxis().getSExtValue());
  return emitReducingCollective(ctx, "reduce_scatter", scatter.getReduction(),
                                scatter.getGridAxes(), scatter.getInput(), scatter.getResult(),
                                std::to_string(outer) + ", " + std::to_string(block));
}

/// all_gather and all_slice: whole blocks of `blocked` (the local side)
/// along `axis` move between `input` and `result`.
static LogicalResult emitBlockCollective(CallContext &ctx, StringRef name,
                                         ArrayRef<int16_t> gridAxes, Value input, Value result,
                                         Value blocked, int64_t axis,
                                         const std::string &slot = "") {
  return withGrid(ctx, [&](CollectiveCall &call) -> LogicalResult {
    FailureOr<std::string> axes = call.axesOf(gridAxes);
    if (failed(axes))
      return failure();
    auto [outer, block] = outerAndBlock(typeOf(blocked), axis);
    return call.emit(name, *axes, ctx.ptr(input), ctx.ptr(result), outer, block,
                     bytesOf(result) + slot);
  });
}

static LogicalResult emitAllGather(CallContext &ctx, shard::AllGatherOp gather) {
  return emitBlockCollective(ctx, "all_gather", gather.getGridAxes(), gather.getInput(),
                             gather.getResult(), gather.getInput(),
                             gather.getGatherAxis().getSExtValue());
}

static LogicalResult emitAllToAll(CallContext &ctx, shard::AllToAllOp toAll) {
  return withGrid(ctx, [&](CollectiveCall &call) -> LogicalResult {
    FailureOr<std::string> axes = call.axesOf(toAll.getGridAxes());
    if (failed(axes))
      return failure();
    int64_t split = toAll.getSplitAxis().getSExtValue();
    int64_t concat = toAll.getConcatAxis().getSExtValue();
    RankedTensorType input = typeOf(toAll.getInput()), result = typeOf(toAll.getResult());
    int64_t ranks = input.getDimSize(split) / result.getDimSize(split);
    auto [sendOuter, sendWhole] = outerAndBlock(input, split);
    auto [recvOuter, recvWhole] = outerAndBlock(result, concat);
    return call.emit("all_to_all", *axes, ctx.ptr(toAll.getInput()), ctx.ptr(toAll.getResult()),
                     sendOuter, sendWhole / ranks, recvOuter, recvWhole / ranks,
                     bytesOf(toAll.getResult()));
  });
}

static LogicalResult emitAllSlice(CallContext &ctx, shard::AllSliceOp slice) {
  return emitBlockCollective(ctx, "all_slice", slice.getGridAxes(), slice.getInput(),
                             slice.getResult(), slice.getResult(),
                             slice.getSliceAxis().getSExtValue());
}

// The overlapping forms (cleave-overlap-collectives): the same call with
// `_start` and the slot; the wait writes nothing, its result being the
// start's buffer (a view, Schedule.cpp).

static std::string slotArgument(int64_t slot) { return ", " + std::to_string(slot); }

static LogicalResult emitAllReduceStart(CallContext &ctx, AllReduceStartOp reduce) {
  return emitReducingCollective(ctx, "all_reduce_start", reduce.getReduction(),
                                reduce.getGridAxes(), reduce.getInput(), reduce.getResult(),
                                std::to_string(typeOf(reduce.getResult()).getNumElements()),
                                slotArgument(reduce.getSlot()));
}

static LogicalResult emitReduceScatterStart(CallContext &ctx, ReduceScatterStartOp scatter) {
  auto [outer, block] =
      outerAndBlock(typeOf(scatter.getResult()), scatter.getScatterAxis().getSExtValue());
  return emitReducingCollective(ctx, "reduce_scatter_start", scatter.getReduction(),
                                scatter.getGridAxes(), scatter.getInput(), scatter.getResult(),
                                std::to_string(outer) + ", " + std::to_string(block),
                                slotArgument(scatter.getSlot()));
}

static LogicalResult emitAllGatherStart(CallContext &ctx, AllGatherStartOp gather) {
  return emitBlockCollective(ctx, "all_gather_start", gather.getGridAxes(), gather.getInput(),
                             gather.getResult(), gather.getInput(),
                             gather.getGatherAxis().getSExtValue(), slotArgument(gather.getSlot()));
}

static LogicalResult emitCollectiveWait(CallContext &ctx, CollectiveWaitOp wait) {
  ctx.out() << "    " << ctx.getTarget().collectivePrefix() << "wait_collective(io.collectives, "
            << wait.getSlot() << ");\n";
  return success();
}

void codegen::registerCollectiveCalls(RuleTable &table) {
  table.addCalls(emitAllReduce, emitReduceScatter, emitAllGather, emitAllToAll, emitAllSlice);
  table.addCalls(emitAllReduceStart, emitReduceScatterStart, emitAllGatherStart,
                 emitCollectiveWait);
}
