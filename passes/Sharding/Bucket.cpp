//===- Bucket.cpp - gradient collectives merged into large messages -------===//
//
// cleave-partition reduces each gradient where its user needs it, so a
// data-parallel step sends one small message per parameter; every message
// pays the link latency. This pass packs them into buckets like PyTorch
// DDP. First the gradient collectives (only the optimizer reads them) move
// up to their operands in readiness order (hoistGradients, which says
// why); then one walk over each block, in program order:
//   1. a shard.all_reduce (or shard.reduce_scatter) joins the open bucket
//      when it agrees with it on grid, grid axes, reduction and element
//      type, keeps the bucket within `bucket-bytes`,
//      and the bucket can still be placed (below); otherwise the open bucket
//      is emitted and a new one begins with it;
//   2. any other collective (or an op that may hide one) closes the open
//      bucket and nothing crosses it: the order against tensor-parallel
//      collectives and pipeline transfers stays the partitioner's (every
//      rank runs this same program, so any reorder here is the same on
//      every rank and their sequences of messages still match);
//   3. an emitted bucket goes right after the later of the last operand's
//      definition and the previous collective: flatten, concat, one
//      collective, slice + reshape back (a reduce-scatter's inputs as
//      [ranks, per-rank block], transposed first when the scattered
//      dimension is not the outermost). Pure ops before that point that
//      read a member's result (the reshape/transpose that partition put
//      right after it) move down behind it, in their order; a bucket is
//      only placeable when none of them is a collective, has effects, or
//      feeds another member's operand.
// Each element is summed over the same ranks as before (under
// CLEAVE_REDUCTION_ORDER=rank in the same order per element), so results
// stay bit-identical.
//
//===----------------------------------------------------------------------===//
#include "passes/Passes.h"
#include "passes/Pipelines.h"
#include "passes/Sharding/CollectiveOrder.h"

#include "dialects/Cleave/IR/CleaveOps.h"
#include "mlir/IR/Builders.h"
#include "mlir/Interfaces/CallInterfaces.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"
#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/DenseSet.h"
#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/SetVector.h"
#include "llvm/Support/DebugLog.h"

namespace mlir::cleave {
#define GEN_PASS_DEF_CLEAVEBUCKETCOLLECTIVES
#include "passes/Passes.h.inc"
} // namespace mlir::cleave

#define DEBUG_TYPE "cleave-bucket-collectives"

using namespace mlir;
using namespace mlir::cleave;

namespace {

/// One collective that may share a message with others.
struct Member {
  Operation *op;
  Value input;
  Value result;
  /// Bytes this rank sends into the collective (the input).
  int64_t bytes;
  /// Elements per rank of the flattened input: the whole input for an
  /// all-reduce, one rank's block (= the result) for a reduce-scatter.
  int64_t block;
  /// Ranks in the group for a reduce-scatter.
  int64_t ranks;
  /// A reduce-scatter's elements before the scattered dimension: its input
  /// is [outer, ranks, block / outer].
  int64_t outer;
};

/// What members of one bucket must share.
struct BucketKey {
  OperationName name;
  StringRef grid;
  SmallVector<int16_t> axes;
  shard::ReductionKind reduction;
  Type element;

  bool operator==(const BucketKey &other) const {
    return name == other.name && grid == other.grid && axes == other.axes &&
           reduction == other.reduction && element == other.element;
  }
};

/// Static tensor types with a whole number of bytes per element.
static std::optional<int64_t> elementBytes(Type value) {
  auto type = dyn_cast<RankedTensorType>(value);
  if (!type || !type.hasStaticShape())
    return std::nullopt;
  Type element = type.getElementType();
  if (!element.isIntOrFloat() || element.getIntOrFloatBitWidth() % 8)
    return std::nullopt;
  return element.getIntOrFloatBitWidth() / 8;
}

/// `op` as a bucket member, or nothing when it cannot be merged.
static std::optional<std::pair<Member, BucketKey>> asMember(Operation *op) {
  if (auto reduce = dyn_cast<shard::AllReduceOp>(op)) {
    std::optional<int64_t> width = elementBytes(reduce.getInput().getType());
    if (!width || reduce.getInput().getType() != reduce.getResult().getType())
      return std::nullopt;
    auto type = cast<RankedTensorType>(reduce.getInput().getType());
    Member member{op,
                  reduce.getInput(),
                  reduce.getResult(),
                  type.getNumElements() * *width,
                  type.getNumElements(),
                  1,
                  1};
    BucketKey key{op->getName(), reduce.getGrid(), SmallVector<int16_t>(reduce.getGridAxes()),
                  reduce.getReduction(), type.getElementType()};
    return std::make_pair(member, key);
  }
  if (auto scatter = dyn_cast<shard::ReduceScatterOp>(op)) {
    std::optional<int64_t> width = elementBytes(scatter.getInput().getType());
    if (!width || !elementBytes(scatter.getResult().getType()))
      return std::nullopt;
    auto input = cast<RankedTensorType>(scatter.getInput().getType());
    auto result = cast<RankedTensorType>(scatter.getResult().getType());
    if (input.getElementType() != result.getElementType())
      return std::nullopt;
    // The input is [outer, ranks, block] around the scattered dimension;
    // rank p's part of it is [:, p, :].
    int64_t axis = scatter.getScatterAxis().getSExtValue();
    if (axis < 0 || axis >= result.getRank() || result.getNumElements() == 0)
      return std::nullopt;
    int64_t outer = 1;
    for (int64_t size : result.getShape().take_front(axis))
      outer *= size;
    Member member{op,
                  scatter.getInput(),
                  scatter.getResult(),
                  input.getNumElements() * *width,
                  result.getNumElements(),
                  input.getNumElements() / result.getNumElements(),
                  outer};
    BucketKey key{op->getName(), scatter.getGrid(), SmallVector<int16_t>(scatter.getGridAxes()),
                  scatter.getReduction(), result.getElementType()};
    return std::make_pair(member, key);
  }
  return std::nullopt;
}

/// Products and convolutions: a gradient one of them reads is the
/// backward's, not only the optimizer's.
static bool isProduct(Operation *op) {
  return isa<MatmulOp, Conv2dOp, Conv2dGradInputOp, Conv2dGradFilterOp>(op);
}

/// Ops that may move later in their block without changing the program.
static bool isSinkable(Operation *op) {
  return isMemoryEffectFree(op) && op->getNumRegions() == 0 &&
         !op->hasTrait<OpTrait::IsTerminator>() && !sendsMessages(op);
}

class BlockBucketer {
public:
  BlockBucketer(Block &block, int64_t limit) : block(block), limit(limit) {}

  void run() {
    hoistGradients();
    SmallVector<Operation *> ops;
    for (Operation &op : block)
      ops.push_back(&op);
    for (Operation *op : ops) {
      if (auto member = asMember(op)) {
        if (!tryAdd(member->first, member->second)) {
          flush();
          bucket.push_back(member->first);
          key = member->second;
          bytes = member->first.bytes;
        }
        continue;
      }
      if (isCollectiveBarrier(op)) {
        flush();
        barrier = op;
      }
    }
    flush();
  }

private:
  /// Moves each gradient collective up to right after its operand's
  /// definition, in the order the operands become ready, so that the walk
  /// in run() packs buckets in readiness order and each one starts as soon
  /// as its last gradient exists. The partitioner leaves the all-reduces at
  /// their optimizer users in parameter order, the reverse of the order the
  /// backward produces them: in program order the first bucket would wait
  /// for the backward's last gradient and hold every later one behind it.
  /// A gradient collective is one whose result no product, convolution or
  /// collective reads, directly or through other ops (only the optimizer
  /// does; compiler/Plan/PlanOverlap.cpp counts the same ones), so nothing
  /// but its own position changes. Every rank runs this same program, so
  /// the reorder is the same on every rank and every rank still issues the
  /// same collectives in the same order. Other collectives, calls and ops
  /// with effects (pipeline transfers) are fences: no gradient collective
  /// crosses one, so the order against them, which other stages and groups
  /// see, is kept; sums over the pipeline axis never move.
  void hoistGradients() {
    llvm::DenseMap<Operation *, int64_t> index;
    for (Operation &op : block)
      index.try_emplace(&op, static_cast<int64_t>(index.size()));
    // Whether `op`'s results reach compute or communication; users come
    // after their operands' definitions, so one reverse walk settles it.
    llvm::DenseSet<Operation *> leads;
    auto readersLead = [&](Operation *op) {
      for (Value result : op->getResults())
        for (Operation *user : result.getUsers()) {
          Operation *at = inBlock(user);
          if (!at || (at != op && leads.contains(at)))
            return true;
        }
      return false;
    };
    llvm::DenseSet<Operation *> gradients;
    for (Operation &op : llvm::reverse(block)) {
      bool reads = readersLead(&op);
      bool compute = false;
      op.walk([&](Operation *inner) { compute |= isProduct(inner); });
      if (reads || compute || isCollectiveBarrier(&op))
        leads.insert(&op);
      if (!reads && asMember(&op) && !isOverPipelineAxis(&op))
        gradients.insert(&op);
    }
    auto readiness = [&](Operation *op) {
      Operation *definer = inBlock(op->getOperand(0).getDefiningOp());
      return definer ? index.lookup(definer) : -1;
    };
    Operation *fence = nullptr;
    SmallVector<Operation *> segment;
    auto hoist = [&] {
      llvm::stable_sort(segment,
                        [&](Operation *a, Operation *b) { return readiness(a) < readiness(b); });
      Operation *previous = fence;
      for (Operation *op : segment) {
        Operation *definer = inBlock(op->getOperand(0).getDefiningOp());
        Operation *anchor = notAfter(definer, previous) ? previous : definer;
        if (anchor)
          op->moveAfter(anchor);
        else if (&block.front() != op)
          op->moveBefore(&block.front());
        previous = op;
      }
      segment.clear();
    };
    SmallVector<Operation *> ops;
    for (Operation &op : block)
      ops.push_back(&op);
    for (Operation *op : ops) {
      if (gradients.contains(op)) {
        segment.push_back(op);
      } else if (isCollectiveBarrier(op) || !isMemoryEffectFree(op)) {
        hoist();
        fence = op;
      }
    }
    hoist();
  }

  /// The op of this block that is or holds `op`; null for none.
  Operation *inBlock(Operation *op) const {
    return op ? block.findAncestorOpInBlock(*op) : nullptr;
  }

  /// Null stands for the block's start.
  static bool notAfter(Operation *a, Operation *b) {
    return !a || (b && (a == b || a->isBeforeInBlock(b)));
  }

  /// Where `members`' merged collective goes: after this op (null: the
  /// block's start).
  Operation *anchorOf(ArrayRef<Member> members) const {
    Operation *anchor = barrier;
    for (const Member &member : members) {
      Operation *definer = inBlock(member.input.getDefiningOp());
      if (!notAfter(definer, anchor))
        anchor = definer;
    }
    return anchor;
  }

  /// The ops at or before `anchor` that read `members`' results, directly
  /// or through each other, in block order; failure when one of them
  /// cannot move behind the anchor.
  FailureOr<SmallVector<Operation *>> opsToSink(ArrayRef<Member> members, Operation *anchor) const {
    llvm::SmallPtrSet<Operation *, 8> memberOps;
    for (const Member &member : members)
      memberOps.insert(member.op);
    llvm::SetVector<Operation *> readers;
    SmallVector<Value> worklist;
    for (const Member &member : members)
      worklist.push_back(member.result);
    while (!worklist.empty()) {
      Value value = worklist.pop_back_val();
      for (Operation *user : value.getUsers()) {
        Operation *reader = inBlock(user);
        if (!reader || !anchor || !notAfter(reader, anchor))
          continue;
        if (memberOps.contains(reader) || !isSinkable(reader))
          return failure();
        if (readers.insert(reader))
          llvm::append_range(worklist, reader->getResults());
      }
    }
    for (const Member &member : members) {
      Operation *definer = member.input.getDefiningOp();
      if (definer && (memberOps.contains(definer) || readers.contains(inBlock(definer))))
        return failure(); // a member's operand needs another member's result
    }
    SmallVector<Operation *> ordered(readers.begin(), readers.end());
    llvm::sort(ordered, [](Operation *a, Operation *b) { return a->isBeforeInBlock(b); });
    return ordered;
  }

  bool tryAdd(const Member &member, const BucketKey &memberKey) {
    if (bucket.empty() || !(memberKey == *key) || bytes + member.bytes > limit)
      return false;
    SmallVector<Member> trial(bucket);
    trial.push_back(member);
    if (failed(opsToSink(trial, anchorOf(trial))))
      return false;
    bucket.push_back(member);
    bytes += member.bytes;
    return true;
  }

  void flush() {
    if (bucket.size() == 1)
      barrier = bucket.front().op;
    else if (bucket.size() > 1)
      barrier = emit();
    bucket.clear();
    bytes = 0;
  }

  /// Rewrites the open bucket into one collective; returns it.
  Operation *emit() {
    Operation *anchor = anchorOf(bucket);
    // tryAdd checked this very bucket and anchor.
    SmallVector<Operation *> readers = *opsToSink(bucket, anchor);
    OpBuilder builder(block.getParentOp()->getContext());
    if (anchor)
      builder.setInsertionPointAfter(anchor);
    else
      builder.setInsertionPointToStart(&block);
    SmallVector<Location> locations;
    for (const Member &member : bucket)
      locations.push_back(member.op->getLoc());
    Location loc = builder.getFusedLoc(locations);

    const BucketKey &key = *this->key;
    Type element = key.element;
    bool scatter = isa<shard::ReduceScatterOp>(bucket.front().op);
    int64_t ranks = bucket.front().ranks;
    // All-reduce: members flat as [block], joined along 0. Reduce-scatter:
    // members as [ranks, block], joined along 1, so that rank p's part of
    // every member lies in row p.
    auto flatType = [&](int64_t size) {
      return scatter ? RankedTensorType::get({ranks, size}, element)
                     : RankedTensorType::get({size}, element);
    };
    SmallVector<Value> flat;
    int64_t total = 0;
    for (const Member &member : bucket) {
      RankedTensorType type = flatType(member.block);
      Value input = member.input;
      Location memberLoc = member.op->getLoc();
      if (scatter && member.outer > 1) {
        // Rank p's part, [:, p, :], becomes row p: the same permutation the
        // runtime would otherwise do inside the reduce-scatter.
        int64_t inner = member.block / member.outer;
        input =
            ReshapeOp::create(builder, memberLoc,
                              RankedTensorType::get({member.outer, ranks, inner}, element), input);
        input = TransposeOp::create(builder, memberLoc,
                                    RankedTensorType::get({ranks, member.outer, inner}, element),
                                    input, builder.getDenseI64ArrayAttr({1, 0, 2}));
      }
      if (input.getType() != type)
        input = ReshapeOp::create(builder, memberLoc, type, input);
      flat.push_back(input);
      total += member.block;
    }
    RankedTensorType joinedType = flatType(total);
    Value joined = ConcatOp::create(builder, loc, joinedType, flat, scatter ? 1 : 0);
    Operation *merged;
    if (scatter) {
      merged =
          shard::ReduceScatterOp::create(builder, loc, RankedTensorType::get({1, total}, element),
                                         key.grid, key.axes, joined, key.reduction, APInt(64, 0));
    } else {
      merged = shard::AllReduceOp::create(builder, loc, joinedType, key.grid, key.axes, joined,
                                          key.reduction);
    }
    int64_t offset = 0;
    for (const Member &member : bucket) {
      SmallVector<int64_t> starts =
          scatter ? SmallVector<int64_t>{0, offset} : SmallVector<int64_t>{offset};
      SmallVector<int64_t> strides(starts.size(), 1);
      auto pieceType = scatter ? RankedTensorType::get({1, member.block}, element)
                               : RankedTensorType::get({member.block}, element);
      Value piece = SliceOp::create(builder, member.op->getLoc(), pieceType, merged->getResult(0),
                                    builder.getDenseI64ArrayAttr(starts),
                                    builder.getDenseI64ArrayAttr(strides));
      if (piece.getType() != member.result.getType())
        piece = ReshapeOp::create(builder, member.op->getLoc(), member.result.getType(), piece);
      Value(member.result).replaceAllUsesWith(piece);
      offset += member.block;
    }
    // The builder's insertion point follows the op created last.
    Operation *last = &*std::prev(builder.getInsertionPoint());
    for (Operation *reader : readers) {
      reader->moveAfter(last);
      last = reader;
    }
    for (const Member &member : bucket)
      member.op->erase();
    return merged;
  }

  Block &block;
  int64_t limit;
  /// The last collective kept or emitted: nothing may move above it.
  Operation *barrier = nullptr;
  SmallVector<Member> bucket;
  std::optional<BucketKey> key; // the open bucket's
  int64_t bytes = 0;
};

struct BucketCollectivesPass
    : public mlir::cleave::impl::CleaveBucketCollectivesBase<BucketCollectivesPass> {
  using CleaveBucketCollectivesBase::CleaveBucketCollectivesBase;
  void runOnOperation() override {
    if (bucketBytes < 0) {
      getOperation().emitError() << "cleave-bucket-collectives: bucket-bytes must be 0 (off) or "
                                    "positive, got "
                                 << static_cast<int64_t>(bucketBytes);
      return signalPassFailure();
    }
    if (bucketBytes == 0)
      return;
    SmallVector<Block *> blocks;
    getOperation().walk([&](Block *block) { blocks.push_back(block); });
    LDBG() << blocks.size() << " blocks, buckets of up to " << bucketBytes << " bytes";
    for (Block *block : blocks)
      BlockBucketer(*block, bucketBytes).run();
  }
};

} // namespace
