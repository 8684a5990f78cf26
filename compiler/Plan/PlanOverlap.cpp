//===- PlanOverlap.cpp - which collectives the schedule hides -------------===//
//
// Where cleave-overlap-collectives posts and waits for each collective of
// a step, as indices into the step's top-level ops, for CommOverlap.h's
// simulation:
//   - a gradient collective (an all-reduce or reduce-scatter whose result
//     no product or convolution reads, directly or through other ops: only
//     the optimizer does) is posted where it is, right after its bucket's
//     last gradient, and waited for before its first user other than the
//     slices, reshapes and transposes that unpack the bucket (they move
//     with the wait);
//   - a parameter gather (an all-gather of a function argument: ZeRO-3's)
//     is posted when the previous parameter gather's first user runs (one
//     layer ahead) and waited for before its own first user;
//   - everything else (tensor-parallel collectives on the critical path,
//     resharding) blocks: posted and waited for where it is.
// Without overlap every collective blocks.
//
//===----------------------------------------------------------------------===//
#include "compiler/Plan/PlanOverlap.h"

#include "dialects/Cleave/IR/CleaveOps.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"

#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/DenseSet.h"

#include <functional>

using namespace mlir;
using namespace mlir::cleave;

/// Ops whose reading a gradient means the gradient is not only the
/// optimizer's: products and convolutions (the backward's).
static bool isProduct(Operation *op) {
  return isa<MatmulOp, Conv2dOp, Conv2dGradInputOp, Conv2dGradFilterOp>(op);
}

/// The argument `value` is, through reshapes; null otherwise.
static BlockArgument getArgumentThroughViews(Value value) {
  while (Operation *def = value.getDefiningOp()) {
    if (!isa<ReshapeOp>(def))
      return {};
    value = def->getOperand(0);
  }
  return dyn_cast<BlockArgument>(value);
}

std::vector<PlannedCollective>
mlir::cleave::scheduleCollectives(Block &body, llvm::ArrayRef<Operation *> collectives,
                                  bool overlap) {
  llvm::DenseMap<Operation *, int64_t> index;
  for (Operation &op : body)
    index.try_emplace(&op, static_cast<int64_t>(index.size()));
  const int64_t end = static_cast<int64_t>(index.size());
  auto top = [&](Operation *op) { return body.findAncestorOpInBlock(*op); };
  // Before which step a value is first needed: its first user's (the end
  // for one only the return reads). The slices, reshapes and transposes
  // that unpack a bucket move down with the wait, so they do not count:
  // their users do.
  std::function<int64_t(Operation *, std::vector<int64_t> &)> firstUse =
      [&](Operation *op, std::vector<int64_t> &moved) {
        int64_t first = end;
        for (Value result : op->getResults())
          for (Operation *user : result.getUsers()) {
            Operation *at = top(user);
            if (!at || isa<func::ReturnOp>(at))
              continue;
            if (isa<SliceOp, ReshapeOp, TransposeOp>(at)) {
              moved.push_back(index.lookup(at));
              first = std::min(first, firstUse(at, moved));
            } else {
              first = std::min(first, index.lookup(at));
            }
          }
        return first;
      };
  // Which top-level ops lead to a product, in reverse program order: users
  // come after their operands' definitions in one block.
  llvm::DenseSet<Operation *> leadsToProduct;
  if (overlap) {
    for (Operation &op : llvm::reverse(body)) {
      bool leads = false;
      op.walk([&](Operation *inner) { leads |= isProduct(inner); });
      for (Value result : op.getResults())
        for (Operation *user : result.getUsers())
          if (Operation *at = top(user); at && at != &op)
            leads |= leadsToProduct.contains(at);
      if (leads)
        leadsToProduct.insert(&op);
    }
  }

  std::vector<PlannedCollective> planned;
  int64_t previousGatherUse = -1;
  for (Operation *op : collectives) {
    Operation *at = top(op);
    int64_t position = at ? index.lookup(at) : end;
    PlannedCollective entry{position, position, "blocking"};
    // A program compiled with overlap (cleave-overlap-collectives) says
    // itself where each collective starts and where it is waited for.
    if (isa<AllReduceStartOp, ReduceScatterStartOp, AllGatherStartOp>(op) && at) {
      for (Operation *user : op->getUsers())
        if (auto wait = dyn_cast<CollectiveWaitOp>(user))
          if (Operation *waitAt = top(wait))
            entry.wait = std::max(position, index.lookup(waitAt));
      entry.schedule = isa<AllGatherStartOp>(op) ? "prefetched" : "overlapped";
      if (entry.wait == position)
        entry.schedule = "blocking";
      planned.push_back(entry);
      continue;
    }
    if (overlap && at) {
      llvm::StringRef name = op->getName().stripDialect();
      if ((name == "all_reduce" || name == "reduce_scatter") && !leadsToProduct.contains(at)) {
        entry.wait = std::max(position, firstUse(at, entry.moved));
        entry.schedule = "overlapped";
      } else if (name == "all_gather" && op->getNumOperands() > 0 &&
                 getArgumentThroughViews(op->getOperand(0))) {
        int64_t use = std::max(position, firstUse(at, entry.moved));
        if (previousGatherUse >= 0)
          entry.post = std::min(position, previousGatherUse);
        entry.wait = use;
        entry.schedule = entry.post < position ? "prefetched" : "blocking";
        previousGatherUse = use;
      }
    }
    planned.push_back(entry);
  }
  return planned;
}
