//===- ReshardCost.cpp - what the collectives of a plan cost --------------===//
#include "passes/Analysis/Cost/ReshardCost.h"

#include "dialects/Cleave/IR/CleaveOps.h"
#include "dialects/Cleave/Interfaces/CostInterface.h"

#include "mlir/Dialect/Shard/IR/ShardOps.h"

using namespace mlir;
using namespace mlir::cleave;

int64_t mlir::cleave::getModelBytes(CollectiveKind kind, int64_t bytesBefore, int64_t bytesAfter) {
  return kind == CollectiveKind::allGather ? bytesAfter : bytesBefore;
}

std::optional<CollectiveKind> mlir::cleave::getModelKind(ReshardStep::Kind kind) {
  switch (kind) {
  case ReshardStep::Kind::allReduce:
    return CollectiveKind::allReduce;
  case ReshardStep::Kind::reduceScatter:
    return CollectiveKind::reduceScatter;
  case ReshardStep::Kind::allGather:
    return CollectiveKind::allGather;
  case ReshardStep::Kind::allToAll:
    return CollectiveKind::allToAll;
  case ReshardStep::Kind::allSlice:
    return std::nullopt;
  }
  return std::nullopt;
}

std::optional<ShardCollective> mlir::cleave::getShardCollective(Operation *op) {
  ShardCollective collective;
  if (auto reduce = dyn_cast<shard::AllReduceOp>(op))
    collective = {"all_reduce", CollectiveKind::allReduce, reduce.getGridAxes()};
  else if (auto scatter = dyn_cast<shard::ReduceScatterOp>(op))
    collective = {"reduce_scatter", CollectiveKind::reduceScatter, scatter.getGridAxes()};
  else if (auto gather = dyn_cast<shard::AllGatherOp>(op))
    collective = {"all_gather", CollectiveKind::allGather, gather.getGridAxes()};
  else if (auto toAll = dyn_cast<shard::AllToAllOp>(op))
    collective = {"all_to_all", CollectiveKind::allToAll, toAll.getGridAxes()};
  else if (auto broadcast = dyn_cast<shard::BroadcastOp>(op))
    collective = {"broadcast", CollectiveKind::broadcast, broadcast.getGridAxes()};
  else if (auto slice = dyn_cast<shard::AllSliceOp>(op))
    collective = {"all_slice", std::nullopt, slice.getGridAxes()};
  // cleave-overlap-collectives' starts are the same collectives, begun
  // early (their waits send nothing).
  else if (auto reduceStart = dyn_cast<AllReduceStartOp>(op))
    collective = {"all_reduce", CollectiveKind::allReduce, reduceStart.getGridAxes()};
  else if (auto scatterStart = dyn_cast<ReduceScatterStartOp>(op))
    collective = {"reduce_scatter", CollectiveKind::reduceScatter, scatterStart.getGridAxes()};
  else if (auto gatherStart = dyn_cast<AllGatherStartOp>(op))
    collective = {"all_gather", CollectiveKind::allGather, gatherStart.getGridAxes()};
  else
    return std::nullopt;
  if (collective.kind)
    collective.bytes = getModelBytes(*collective.kind, getTensorBytes(op->getOperand(0).getType()),
                                     getTensorBytes(op->getResult(0).getType()));
  return collective;
}

double mlir::cleave::reshardSeconds(RankedTensorType global, const TensorSharding &from,
                                    const TensorSharding &to, const GridInfo &grid,
                                    GridCollectives &collectives) {
  double seconds = 0;
  TensorSharding before = from;
  for (const ReshardStep &step : planReshard(from, to)) {
    if (std::optional<CollectiveKind> kind = getModelKind(step.kind))
      seconds += collectives.getTime(*kind,
                                     getModelBytes(*kind, getLocalBytes(global, before, grid),
                                                   getLocalBytes(global, step.after, grid)),
                                     step.axes);
    before = step.after;
  }
  return seconds;
}
