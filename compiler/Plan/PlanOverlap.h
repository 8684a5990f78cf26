//===- PlanOverlap.h - which collectives the schedule hides ---------------===//
#ifndef CLEAVE_COMPILER_PLAN_PLANOVERLAP_H
#define CLEAVE_COMPILER_PLAN_PLANOVERLAP_H

#include "mlir/IR/Block.h"
#include "mlir/IR/Operation.h"
#include "llvm/ADT/ArrayRef.h"

#include <cstdint>
#include <string>
#include <vector>

namespace mlir::cleave {

/// Where one collective is posted and waited for: indices of `body`'s
/// top-level ops (CommOverlap.h's steps), and how (PlanCollective::schedule).
struct PlannedCollective {
  int64_t post = 0;
  int64_t wait = 0;
  std::string schedule;
  /// Top-level ops (indices) that read the result only to unpack it
  /// (slices, reshapes, transposes): they move down with the wait, so their compute
  /// runs at step `wait`, after it.
  std::vector<int64_t> moved;
};

/// The schedule of `collectives` (shard collective ops in `body`, in
/// program order) as cleave-overlap-collectives builds it when `overlap`,
/// the blocking one otherwise (PlanOverlap.cpp says which collective goes
/// where).
std::vector<PlannedCollective>
scheduleCollectives(Block &body, llvm::ArrayRef<Operation *> collectives, bool overlap);

} // namespace mlir::cleave

#endif // CLEAVE_COMPILER_PLAN_PLANOVERLAP_H
