//===- ReshardCost.h - what the collectives of a plan cost ----------------===//
//
// The one place where a collective of the sharded program meets the
// alpha-beta model (CollectiveCost.h): which model kind it is and which
// bytes are its S. The search prices the resharding steps it plans
// (planReshard) with it; the plan report and its picture price the shard
// ops the partitioner emitted, so the two agree by construction.
//
//===----------------------------------------------------------------------===//
#ifndef CLEAVE_PASSES_ANALYSIS_COST_RESHARDCOST_H
#define CLEAVE_PASSES_ANALYSIS_COST_RESHARDCOST_H

#include "passes/Analysis/Cost/CollectiveCost.h"
#include "passes/Analysis/Sharding/Reshard.h"

#include "mlir/IR/Operation.h"

#include <optional>

namespace mlir::cleave {

/// S in CollectiveCost.h's table for `kind` taking each device's
/// `bytesBefore` to `bytesAfter`: the gathered bytes of an all-gather, the
/// bytes held before for every other kind.
int64_t getModelBytes(CollectiveKind kind, int64_t bytesBefore, int64_t bytesAfter);

/// The model's kind of a resharding step; std::nullopt for an all-slice,
/// which only keeps each device's block and moves nothing.
std::optional<CollectiveKind> getModelKind(ReshardStep::Kind kind);

/// A shard collective op as the model sees it.
struct ShardCollective {
  /// The op's name without the dialect ("all_reduce", "all_slice", ...).
  llvm::StringRef name;
  /// std::nullopt: moves nothing (all_slice).
  std::optional<CollectiveKind> kind;
  llvm::ArrayRef<int16_t> axes;
  /// S (getModelBytes); 0 when `kind` is none.
  int64_t bytes = 0;
};

/// `op` as a ShardCollective, or std::nullopt when it is not a shard
/// collective.
std::optional<ShardCollective> getShardCollective(Operation *op);

/// Seconds to bring a value of global type `global` laid out as `from`
/// into `to`, collective by collective as cleave-partition reshards it.
double reshardSeconds(RankedTensorType global, const TensorSharding &from, const TensorSharding &to,
                      const GridInfo &grid, GridCollectives &collectives);

} // namespace mlir::cleave

#endif // CLEAVE_PASSES_ANALYSIS_COST_RESHARDCOST_H
