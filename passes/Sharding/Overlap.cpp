//===- Overlap.cpp - collectives started early, waited for late ------------===//
//
// A blocking collective stalls every rank for the whole message, while
// the ops around it that do not need its result could run. One walk over
// each block, in program order, turns each shard.all_reduce,
// reduce_scatter and all_gather into a start and a wait:
//   1. the slices and reshapes that unpack its result (a gradient
//      bucket's pieces) move down to just before their first reader, so
//      that the result is needed where its real user is (the optimizer);
//   2. the start goes right after the input's definition, but not above
//      the block's previous collective: the runtime completes collectives
//      in start order and every rank runs this program, so keeping the
//      starts in program order keeps every rank's sequence the same. A
//      collective of a function argument (ZeRO-3's parameter all-gather)
//      starts no earlier than the previous such collective's wait: one
//      layer ahead, not every parameter gathered at the step's start;
//   3. the wait goes right before the first op that reads the result.
// A collective with no work between those two places stays blocking, as
// does one over the pipeline axis: the stages' transfers are ordered
// against those (passes/Pipeline/TransferDeadlock.cpp), and a rank may
// not run one earlier than its peer stage expects.
// Slots are then numbered per function: the lowest free one at each
// start, free again after its wait.
//
//===----------------------------------------------------------------------===//
#include "passes/Passes.h"
#include "passes/Pipelines.h"
#include "passes/Sharding/CollectiveOrder.h"

#include "dialects/Cleave/IR/CleaveOps.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/SymbolTable.h"
#include "mlir/Interfaces/CallInterfaces.h"
#include "llvm/ADT/SetVector.h"
#include "llvm/Support/DebugLog.h"

#include <set>

namespace mlir::cleave {
#define GEN_PASS_DEF_CLEAVEOVERLAPCOLLECTIVES
#include "passes/Passes.h.inc"
} // namespace mlir::cleave

#define DEBUG_TYPE "cleave-overlap-collectives"

using namespace mlir;
using namespace mlir::cleave;

namespace {

bool isStaticTensor(Type type) {
  auto tensor = dyn_cast<RankedTensorType>(type);
  return tensor && tensor.hasStaticShape();
}

/// Whether `op` is a collective this pass can start early.
bool canOverlap(Operation *op) {
  if (!isa<shard::AllReduceOp, shard::ReduceScatterOp, shard::AllGatherOp>(op))
    return false;
  Value input = op->getOperand(0), result = op->getResult(0);
  if (!isStaticTensor(input.getType()) || !isStaticTensor(result.getType()))
    return false;
  // A converting all-reduce (f32 in, f64 out) has no runtime start.
  if (isa<shard::AllReduceOp>(op) && input.getType() != result.getType())
    return false;
  auto grid = op->getAttrOfType<FlatSymbolRefAttr>("grid");
  auto axes = op->getAttrOfType<DenseI16ArrayAttr>("grid_axes");
  if (!grid || !axes || axes.empty())
    return false;
  return !isOverPipelineAxis(op);
}

/// Ops that only cut a collective's result apart (Bucket.cpp's unpacking).
bool isUnpacking(Operation *op) { return isa<SliceOp, ReshapeOp>(op); }

/// Ops that cost nothing at run time (views, literals): no work to overlap.
bool isFree(Operation *op) { return isa<ReshapeOp, ConstantOp>(op); }

class BlockOverlapper {
public:
  explicit BlockOverlapper(Block &block) : block(block) {}

  void run() {
    SmallVector<Operation *> ops;
    for (Operation &op : block)
      ops.push_back(&op);
    for (Operation *op : ops) {
      if (canOverlap(op))
        convert(op);
      else if (isCollectiveBarrier(op))
        lastCollective = op;
    }
  }

  int converted = 0;

private:
  /// The op of this block that is or holds `op`; null for none.
  Operation *inBlock(Operation *op) const {
    return op ? block.findAncestorOpInBlock(*op) : nullptr;
  }

  /// The later of two places "after op" (null: the block's start).
  static Operation *later(Operation *a, Operation *b) {
    if (!a)
      return b;
    if (!b)
      return a;
    return a->isBeforeInBlock(b) ? b : a;
  }

  /// The first op of this block that reads one of `values`; null for none.
  Operation *firstReader(ValueRange values) const {
    Operation *first = nullptr;
    for (Value value : values)
      for (Operation *user : value.getUsers()) {
        Operation *reader = inBlock(user);
        if (reader && (!first || reader->isBeforeInBlock(first)))
          first = reader;
      }
    return first;
  }

  /// Step 1: the unpacking ops reading `result` (directly or through each
  /// other) move down to just before their first reader, last one first.
  void sinkUnpacking(Value result) {
    llvm::SetVector<Operation *> chain;
    SmallVector<Value> worklist{result};
    while (!worklist.empty()) {
      Value value = worklist.pop_back_val();
      for (Operation *user : value.getUsers())
        if (user->getBlock() == &block && isUnpacking(user) && chain.insert(user))
          llvm::append_range(worklist, user->getResults());
    }
    SmallVector<Operation *> ordered(chain.begin(), chain.end());
    llvm::sort(ordered, [](Operation *a, Operation *b) { return a->isBeforeInBlock(b); });
    for (Operation *op : llvm::reverse(ordered)) {
      Operation *reader = firstReader(op->getResults());
      if (reader && op->getNextNode() != reader)
        op->moveBefore(reader);
    }
  }

  /// Whether any op between the place after `after` and `reader` (both
  /// excluded) other than `self` does work.
  bool workBetween(Operation *after, Operation *reader, Operation *self) const {
    Operation *op = after ? after->getNextNode() : &block.front();
    for (; op && op != reader; op = op->getNextNode())
      if (op != self && !isFree(op))
        return true;
    return false;
  }

  void convert(Operation *op) {
    Value input = op->getOperand(0), result = op->getResult(0);
    sinkUnpacking(result);
    Operation *reader = firstReader(result);
    // Steps 2 and 3: the latest place the start may go, the wait's place.
    Operation *after = later(inBlock(input.getDefiningOp()), lastCollective);
    bool ofArgument = isa<BlockArgument>(input);
    if (ofArgument)
      after = later(after, lastArgumentWait);
    // A start never moves down: the previous argument collective's wait
    // may lie past this one.
    if (after && !after->isBeforeInBlock(op))
      after = op->getPrevNode();
    if (!reader || !workBetween(after, reader, op)) {
      LDBG() << "stays blocking: " << *op;
      lastCollective = op;
      return;
    }
    OpBuilder builder(op->getContext());
    if (after)
      builder.setInsertionPointAfter(after);
    else
      builder.setInsertionPointToStart(&block);
    Location loc = op->getLoc();
    Type type = result.getType();
    IntegerAttr slot = builder.getI64IntegerAttr(0); // numbered by numberSlots
    Operation *start;
    if (auto reduce = dyn_cast<shard::AllReduceOp>(op)) {
      start = AllReduceStartOp::create(builder, loc, type, input, reduce.getGridAttr(),
                                       reduce.getGridAxesAttr(), reduce.getReductionAttr(), slot);
    } else if (auto scatter = dyn_cast<shard::ReduceScatterOp>(op)) {
      start = ReduceScatterStartOp::create(builder, loc, type, input, scatter.getGridAttr(),
                                           scatter.getGridAxesAttr(), scatter.getReductionAttr(),
                                           scatter.getScatterAxisAttr(), slot);
    } else {
      auto gather = cast<shard::AllGatherOp>(op);
      start = AllGatherStartOp::create(builder, loc, type, input, gather.getGridAttr(),
                                       gather.getGridAxesAttr(), gather.getGatherAxisAttr(), slot);
    }
    builder.setInsertionPoint(reader);
    auto wait = CollectiveWaitOp::create(builder, loc, type, start->getResult(0), input, slot);
    result.replaceAllUsesWith(wait.getResult());
    op->erase();
    lastCollective = start;
    if (ofArgument)
      lastArgumentWait = wait;
    ++converted;
  }

  Block &block;
  /// The last collective started or kept blocking: no start goes above it.
  Operation *lastCollective = nullptr;
  /// The wait of the last collective of a function argument.
  Operation *lastArgumentWait = nullptr;
};

/// Gives each start the lowest slot no started, unwaited collective holds,
/// and each wait its start's.
void numberSlots(func::FuncOp function) {
  std::set<int64_t> free;
  int64_t next = 0;
  llvm::DenseMap<Operation *, int64_t> slotOf;
  function.walk([&](Operation *op) {
    if (isCollectiveStart(op)) {
      int64_t slot;
      if (free.empty()) {
        slot = next++;
      } else {
        slot = *free.begin();
        free.erase(free.begin());
      }
      slotOf[op] = slot;
      op->setAttr("slot", IntegerAttr::get(IntegerType::get(op->getContext(), 64), slot));
    } else if (auto wait = dyn_cast<CollectiveWaitOp>(op)) {
      auto it = slotOf.find(wait.getBuffer().getDefiningOp());
      if (it == slotOf.end())
        return; // the verifier names it
      wait.setSlot(it->second);
      free.insert(it->second);
    }
  });
}

struct OverlapCollectivesPass
    : public mlir::cleave::impl::CleaveOverlapCollectivesBase<OverlapCollectivesPass> {
  using CleaveOverlapCollectivesBase::CleaveOverlapCollectivesBase;
  void runOnOperation() override {
    SmallVector<Block *> blocks;
    getOperation().walk([&](Block *block) { blocks.push_back(block); });
    int converted = 0;
    for (Block *block : blocks) {
      BlockOverlapper overlapper(*block);
      overlapper.run();
      converted += overlapper.converted;
    }
    LDBG() << converted << " collectives overlapped in @" << getOperation().getSymName();
    if (converted)
      numberSlots(getOperation());
  }
};

} // namespace
