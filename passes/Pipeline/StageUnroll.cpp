//===- StageUnroll.cpp - one function per pipeline stage ------------------===//
//
// Each rank stage p runs the actions of its schedule in order; action
// (kind, chunk c, micro-batch m) is a copy of the ops of chunk c in that
// phase, made by the micro-batch cloner. A value another stage produced
// arrives by a transfer: its receive is posted one action before the
// action that reads it first and waited for right before that action; the
// producer posts the send right after the producing action and waits for
// it at the end of the micro-batches. Every transfer of (value, stage q) on
// micro-batch m has tag (transfer index) * M + m. NCCL matches the
// transfers between two ranks in posting order, so a stage's receives from
// a peer must come in the order of that peer's sends to it: checked after
// the functions are built.
//
//===----------------------------------------------------------------------===//
#include "passes/Pipeline/StageUnroll.h"

#include "passes/Analysis/Pipeline/Schedule.h"
#include "passes/Pipeline/BatchSlices.h"
#include "passes/Pipeline/MicroBatchClone.h"
#include "passes/Pipeline/Phases.h"
#include "passes/Pipeline/PipelineAxis.h"
#include "passes/Pipeline/TransferDeadlock.h"

#include "dialects/Cleave/IR/CleaveDialect.h"
#include "dialects/Cleave/IR/CleaveOps.h"
#include "dialects/Cleave/IR/TensorBuilder.h"

#include "mlir/Dialect/Shard/IR/ShardOps.h"
#include "llvm/ADT/MapVector.h"
#include "llvm/ADT/SetVector.h"
#include "llvm/Support/DebugLog.h"

#include <map>
#include <optional>

#define DEBUG_TYPE "cleave-pipeline-unroll"

using namespace mlir;
using namespace mlir::cleave;
using pipeline::Action;
using pipeline::PipelineSchedule;

namespace {

/// Where an op of the step runs.
struct Place {
  StepPart part = StepPart::shared;
  bool backward = false;
  int64_t chunk = -1;
};

/// A value one stage produces per micro-batch and another reads.
struct Transfer {
  Value value;
  int64_t from;
  int64_t to;
};

constexpr int64_t kMaxTag = 32767;

class StageUnroller {
public:
  StageUnroller(ModuleOp module, func::FuncOp function, PipelineSchedule schedule)
      : module(module), function(function), schedule(std::move(schedule)),
        stages(this->schedule.stages), microBatches(this->schedule.microBatches) {}

  LogicalResult run() {
    dropSingleDeviceCollectives(module, function);
    // Before the grid gains "pp": the inputs' shardings index it.
    batchSlices.emplace(function, microBatches);
    if (failed(batchSlices->check()))
      return failure();
    if (failed(placeOps()) || failed(collectTransfers()) || failed(computeMicroBatchTypes()))
      return failure();
    if (failed(insertPipelineAxis(module, function, stages, gridName)) ||
        failed(listActionTransfers()))
      return failure();
    OpBuilder builder(function);
    // Sends are waited for one action after they start, so that what they
    // send dies early; where that could stall (TransferDeadlock.h), at the
    // end of the step.
    for (bool late : {false, true}) {
      lateSendWaits = late;
      sendOrder.assign(stages, {});
      receiveOrder.assign(stages, {});
      llvm::SmallVector<func::FuncOp> built;
      for (int64_t p = 0; p < stages; ++p) {
        if (failed(buildStage(builder, p)))
          return failure();
        built.push_back(cast<func::FuncOp>(builder.getInsertionPoint()->getPrevNode()));
      }
      if (failed(checkTransferOrder()))
        return failure();
      std::string where;
      if (late || !transfersCanDeadlock(built, where))
        break;
      LDBG() << "early send waits could stall (" << where << "): waiting at the step's end";
      for (func::FuncOp stage : built)
        stage.erase();
    }
    function.erase();
    return success();
  }

private:
  int64_t stageOf(int64_t chunk) const { return chunk % stages; }
  const Place *placeOf(Value value) const {
    Operation *producer = value.getDefiningOp();
    if (!producer)
      return nullptr;
    auto found = places.find(producer);
    return found == places.end() ? nullptr : &found->second;
  }
  bool perMicroBatch(Value value) const {
    const Place *place = placeOf(value);
    return place && place->part == StepPart::perMicroBatch;
  }

  /// Every op's part, phase and chunk: cleave-pipeline-split's tags, for
  /// untagged ops (the partition's collectives) their users', else their
  /// producers'.
  LogicalResult placeOps() {
    llvm::DenseMap<Operation *, StepPart> parts;
    if (failed(classifyStepOps(function, parts)))
      return failure();
    Block &body = function.getBody().front();
    llvm::SmallVector<Operation *> ops;
    for (Operation &op : body.without_terminator())
      ops.push_back(&op);
    for (Operation *op : llvm::reverse(ops)) {
      Place place;
      place.part = parts.lookup(op);
      if (place.part == StepPart::shared) {
        places[op] = place;
        continue;
      }
      if (auto update = op->getAttrOfType<IntegerAttr>(CleaveDialect::kUpdateOfAttrName);
          update && update.getInt() < 0)
        return op->emitOpError() << "clips gradients by their global norm: --clip-grad-norm is "
                                    "not supported with pipeline stages yet";
      if (auto phase = op->getAttrOfType<StringAttr>(CleaveDialect::kPhaseAttrName))
        place.backward = phase.getValue() == "backward";
      else
        place.backward = op->hasAttr(CleaveDialect::kBackwardOfAttrName);
      if (auto stage = op->getAttrOfType<IntegerAttr>(CleaveDialect::kStageAttrName)) {
        place.chunk = stage.getInt();
      } else {
        bool anyForward = false;
        for (Operation *user : op->getUsers()) {
          auto found = places.find(user);
          if (found == places.end() || found->second.chunk < 0)
            continue;
          const Place &used = found->second;
          anyForward |= used.part == StepPart::perMicroBatch && !used.backward;
          if (place.chunk < 0)
            place.chunk = used.chunk;
          else if (place.part == StepPart::perMicroBatch && used.backward && !anyForward)
            place.chunk = std::max(place.chunk, used.chunk);
          else
            place.chunk = std::min(place.chunk, used.chunk);
        }
        if (!op->hasAttr(CleaveDialect::kPhaseAttrName) &&
            !op->hasAttr(CleaveDialect::kBackwardOfAttrName) && place.chunk >= 0)
          place.backward = !anyForward;
      }
      places[op] = place;
    }
    // Ops no user placed (only returned): their producers' chunk.
    for (Operation *op : ops) {
      Place &place = places[op];
      if (place.part == StepPart::shared || place.chunk >= 0)
        continue;
      for (Value operand : op->getOperands())
        if (const Place *producer = placeOf(operand); producer && producer->chunk >= 0) {
          place.chunk = std::max(place.chunk, producer->chunk);
          place.backward |= producer->backward;
        }
      if (place.chunk < 0)
        return op->emitOpError() << "has no cleave.stage and no placed user or producer: run "
                                    "cleave-pipeline-split before cleave-pipeline-unroll";
    }
    for (auto &[op, place] : places)
      if (place.part != StepPart::shared && place.chunk >= schedule.chunks())
        return op->emitOpError() << "is in chunk " << place.chunk << " but the schedule has "
                                 << schedule.chunks() << " chunks";
    for (Operation *op : ops) {
      const Place &place = places[op];
      if (place.part == StepPart::perMicroBatch)
        chunkOps[{place.chunk, place.backward}].push_back(op);
    }
    return success();
  }

  /// The values that cross stages, numbered in program order.
  LogicalResult collectTransfers() {
    for (Operation &op : function.getBody().front().without_terminator()) {
      const Place &place = places[&op];
      if (place.part == StepPart::shared)
        continue;
      int64_t from = stageOf(place.chunk);
      for (Value result : op.getResults()) {
        llvm::SmallSetVector<int64_t, 4> targets;
        for (Operation *user : result.getUsers()) {
          auto found = places.find(user);
          if (found == places.end())
            continue; // the return: the producer's stage returns it
          int64_t to = stageOf(found->second.chunk);
          if (to == from)
            continue;
          if (place.part != StepPart::perMicroBatch ||
              found->second.part != StepPart::perMicroBatch)
            return user->emitOpError()
                   << "reads a value of pipeline stage " << from << " in stage " << to
                   << " outside the forward and backward (a parameter several stages use, such "
                      "as a tied embedding, is not supported by cleave-pipeline-unroll yet)";
          targets.insert(to);
        }
        llvm::SmallVector<int64_t> sorted(targets.begin(), targets.end());
        llvm::sort(sorted);
        for (int64_t to : sorted) {
          transferIndex[{result, to}] = static_cast<int64_t>(transfers.size());
          transfers.push_back({result, from, to});
        }
      }
    }
    // Results updating a parameter that other stages read too.
    Operation *terminator = function.getBody().front().getTerminator();
    int64_t nextTag = static_cast<int64_t>(transfers.size()) * microBatches;
    for (OpOperand &operand : terminator->getOpOperands()) {
      auto updates = function.getResultAttrOfType<IntegerAttr>(operand.getOperandNumber(),
                                                               CleaveDialect::kUpdatesAttrName);
      const Place *place = placeOf(operand.get());
      if (!updates || !place || place->part == StepPart::shared)
        continue;
      int64_t owner = stageOf(place->chunk);
      llvm::SmallSetVector<int64_t, 4> readers;
      for (Operation *user : function.getArgument(updates.getInt()).getUsers())
        if (auto found = places.find(user); found != places.end() &&
                                            found->second.part != StepPart::shared &&
                                            stageOf(found->second.chunk) != owner)
          readers.insert(stageOf(found->second.chunk));
      llvm::SmallVector<int64_t> sorted(readers.begin(), readers.end());
      llvm::sort(sorted);
      for (int64_t to : sorted)
        updateTransfers.push_back({operand.getOperandNumber(), owner, to, nextTag++});
    }
    if (nextTag - 1 > kMaxTag)
      return function.emitOpError()
             << transfers.size() << " values cross stages on " << microBatches
             << " micro-batches: their tags (transfer * M + m) pass " << kMaxTag
             << "; use fewer micro-batches or stages";
    return success();
  }

  /// The type each per-micro-batch value has on a micro-batch, from a
  /// scratch copy of micro-batch 0.
  LogicalResult computeMicroBatchTypes() {
    OpBuilder builder(function);
    auto scratch = func::FuncOp::create(builder, function.getLoc(), "__cleave_unroll_scratch",
                                        function.getFunctionType());
    Block *entry = scratch.addEntryBlock();
    builder.setInsertionPointToEnd(entry);
    IRMapping mapping;
    MicroBatchCloner cloner(microBatches);
    for (BlockArgument argument : function.getArguments()) {
      Value value = entry->getArgument(argument.getArgNumber());
      if (isBatchInput(argument))
        value = batchSlices->slice(builder, argument, value, 0);
      mapping.map(argument, value);
    }
    LogicalResult result = success();
    for (Operation &op : function.getBody().front().without_terminator()) {
      if (places[&op].part != StepPart::perMicroBatch)
        continue;
      if (failed(cloner.clone(builder, &op, mapping, 0))) {
        result = failure();
        break;
      }
      for (Value value : op.getResults())
        microBatchType[value] = mapping.lookup(value).getType();
    }
    scratch.erase();
    return result;
  }

  bool isBatchInput(BlockArgument argument) {
    return static_cast<bool>(
        function.getArgAttr(argument.getArgNumber(), CleaveDialect::kInputAttrName));
  }

  /// Each action's transfers, and each pair of stages' send order.
  LogicalResult listActionTransfers() {
    incomingPerStage.resize(stages);
    outgoingPerStage.resize(stages);
    for (int64_t p = 0; p < stages; ++p) {
      const std::vector<Action> &actions = schedule.stageActions[p];
      incomingPerStage[p].resize(actions.size());
      outgoingPerStage[p].resize(actions.size());
      llvm::DenseSet<std::pair<int64_t, int64_t>> received;
      for (auto [index, action] : llvm::enumerate(actions)) {
        if (action.kind == Action::weight)
          return function.emitOpError() << "cleave-pipeline-unroll does not split backward "
                                           "passes (zb-h1): use gpipe, 1f1b or interleaved";
        auto ops = chunkOps.find({action.chunk, action.kind == Action::backward});
        if (ops == chunkOps.end())
          continue;
        TransferList &incoming = incomingPerStage[p][index];
        TransferList &outgoing = outgoingPerStage[p][index];
        for (Operation *op : ops->second) {
          for (Value operand : op->getOperands()) {
            auto found = transferIndex.find({operand, p});
            if (found != transferIndex.end() &&
                received.insert({found->second, action.microBatch}).second)
              incoming.push_back({found->second, action.microBatch});
          }
          for (Value result : op->getResults())
            for (int64_t to = 0; to < stages; ++to)
              if (auto found = transferIndex.find({result, to}); found != transferIndex.end())
                outgoing.push_back({found->second, action.microBatch});
        }
        llvm::sort(incoming);
        llvm::sort(outgoing);
        for (auto item : outgoing)
          sendSequence[{p, transfers[item.first].to}].push_back(item);
      }
    }
    return success();
  }

  LogicalResult buildStage(OpBuilder &moduleBuilder, int64_t p);
  LogicalResult checkTransferOrder();

  ModuleOp module;
  func::FuncOp function;
  PipelineSchedule schedule;
  int64_t stages;
  int64_t microBatches;
  std::string gridName;
  std::optional<BatchSlices> batchSlices;
  llvm::DenseMap<Operation *, Place> places;
  /// (chunk, backward) -> its per-micro-batch ops in program order.
  std::map<std::pair<int64_t, bool>, llvm::SmallVector<Operation *>> chunkOps;
  std::vector<Transfer> transfers;
  llvm::DenseMap<std::pair<Value, int64_t>, int64_t> transferIndex;
  /// A parameter several stages read (a tied embedding): its owner sends
  /// the updated value to each other reader at the end of the step.
  struct UpdateTransfer {
    unsigned result;
    int64_t from;
    int64_t to;
    int64_t tag;
  };
  std::vector<UpdateTransfer> updateTransfers;
  llvm::DenseMap<Value, Type> microBatchType;
  /// (transfer, micro-batch) pairs.
  using TransferList = llvm::SmallVector<std::pair<int64_t, int64_t>>;
  /// Per stage, per action: what it receives first, what it sends.
  std::vector<std::vector<TransferList>> incomingPerStage, outgoingPerStage;
  /// (from, to) -> the sender's posting order.
  std::map<std::pair<int64_t, int64_t>, TransferList> sendSequence;
  /// Slots of the stage function being built.
  int64_t slotCounter = 0;
  /// Wait for every send at the end of the step instead of one action on.
  bool lateSendWaits = false;
  /// Per stage function: (peer, tag) of its sends and receives in posting
  /// order.
  std::vector<llvm::SmallVector<std::pair<int64_t, int64_t>>> sendOrder, receiveOrder;
};

LogicalResult StageUnroller::buildStage(OpBuilder &moduleBuilder, int64_t p) {
  MLIRContext *context = module.getContext();
  slotCounter = 0;
  auto stageFunction =
      func::FuncOp::create(moduleBuilder, function.getLoc(), "train_step_stage" + std::to_string(p),
                           function.getFunctionType());
  stageFunction.setAllArgAttrs(function.getAllArgAttrs());
  stageFunction.setAllResultAttrs(function.getAllResultAttrs());
  Block *entry = stageFunction.addEntryBlock();
  OpBuilder builder(context);
  builder.setInsertionPointToEnd(entry);
  TensorBuilder tensors(builder, function.getLoc());
  MicroBatchCloner cloner(microBatches);
  Block &body = function.getBody().front();

  // Constants first, all of them: unused ones are erased at the end.
  IRMapping common;
  for (BlockArgument argument : function.getArguments())
    common.map(argument, stageFunction.getArgument(argument.getArgNumber()));
  for (Operation &op : body.without_terminator())
    if (places[&op].part == StepPart::shared)
      builder.clone(op, common);
  llvm::SmallVector<IRMapping> maps(microBatches);

  // Buffers a micro-batch updates on this stage (running statistics).
  llvm::DenseMap<Value, Value> chained; // argument -> the value updating it
  Operation *terminator = body.getTerminator();
  for (OpOperand &operand : terminator->getOpOperands())
    if (auto updates = function.getResultAttrOfType<IntegerAttr>(operand.getOperandNumber(),
                                                                 CleaveDialect::kUpdatesAttrName))
      if (const Place *place = placeOf(operand.get());
          place && place->part == StepPart::perMicroBatch && stageOf(place->chunk) == p)
        chained[function.getArgument(updates.getInt())] = operand.get();

  // The values the stage's update (and return) reads, per micro-batch.
  llvm::SetVector<Value> crossings;
  for (Operation &op : body.without_terminator()) {
    const Place &place = places[&op];
    if (place.part != StepPart::once || stageOf(place.chunk) != p)
      continue;
    for (Value operand : op.getOperands())
      if (perMicroBatch(operand))
        crossings.insert(operand);
  }
  for (OpOperand &operand : terminator->getOpOperands())
    if (function.getResultAttr(operand.getOperandNumber(), CleaveDialect::kLossAttrName))
      if (const Place *place = placeOf(operand.get());
          place && place->part == StepPart::perMicroBatch && stageOf(place->chunk) == p)
        crossings.insert(operand.get());
  llvm::DenseMap<Value, Value> sums;

  const std::vector<Action> &actions = schedule.stageActions[p];
  const std::vector<TransferList> &incoming = incomingPerStage[p];
  const std::vector<TransferList> &outgoing = outgoingPerStage[p];

  llvm::DenseMap<std::pair<int64_t, int64_t>, std::pair<Value, int64_t>> buffers;
  // NCCL matches the transfers between two ranks in posting order: the
  // receives from a peer are posted in the order of its sends, so that one
  // an action needs may post those the peer sent before it, early.
  llvm::SmallVector<size_t> posted(stages, 0);
  auto postReceives = [&](size_t index) {
    for (auto [transfer, m] : incoming[index]) {
      int64_t from = transfers[transfer].from;
      const TransferList &sequence = sendSequence[{from, p}];
      auto position = llvm::find(sequence, std::make_pair(transfer, m)) - sequence.begin();
      for (; static_cast<int64_t>(posted[from]) <= position; ++posted[from]) {
        auto [item, mb] = sequence[posted[from]];
        int64_t slot = slotCounter++;
        int64_t tag = item * microBatches + mb;
        Value buffer = RecvStartOp::create(
            builder, function.getLoc(), microBatchType.lookup(transfers[item].value),
            builder.getStringAttr("pp"), builder.getI64IntegerAttr(from),
            builder.getI64IntegerAttr(tag), builder.getI64IntegerAttr(slot));
        buffers[{item, mb}] = {buffer, slot};
        receiveOrder[p].push_back({from, tag});
      }
    }
  };
  llvm::SmallVector<std::pair<Value, int64_t>> pendingSends;
  llvm::SmallVector<size_t> sendAction; // the action that started each send
  size_t sendsWaited = 0;
  if (!actions.empty())
    postReceives(0);
  for (auto [index, action] : llvm::enumerate(actions)) {
    int64_t m = action.microBatch;
    if (index + 1 < actions.size())
      postReceives(index + 1);
    // The sends of the action before the previous one: their buffers are
    // free for this action's values.
    for (; !lateSendWaits && sendsWaited < pendingSends.size() &&
           sendAction[sendsWaited] + 2 <= index;
         ++sendsWaited)
      SendWaitOp::create(builder, function.getLoc(), pendingSends[sendsWaited].first,
                         builder.getI64IntegerAttr(pendingSends[sendsWaited].second));
    for (auto [transfer, mb] : incoming[index]) {
      auto [buffer, slot] = buffers[{transfer, mb}];
      Value value = RecvWaitOp::create(builder, function.getLoc(), buffer.getType(), buffer,
                                       builder.getI64IntegerAttr(slot));
      maps[mb].map(transfers[transfer].value, value);
    }
    auto ops = chunkOps.find({action.chunk, action.kind == Action::backward});
    if (ops == chunkOps.end())
      continue;
    for (Operation *op : ops->second) {
      for (Value operand : op->getOperands()) {
        if (maps[m].contains(operand))
          continue;
        if (auto argument = dyn_cast<BlockArgument>(operand)) {
          Value value = common.lookup(argument);
          if (isBatchInput(argument))
            value = batchSlices->slice(builder, argument, value, m);
          else if (auto it = chained.find(argument); it != chained.end() && m > 0)
            value = maps[m - 1].lookupOrNull(it->second);
          if (!value)
            return op->emitOpError() << "reads a running buffer before micro-batch " << m - 1
                                     << " updated it: the schedule runs forwards out of order";
          maps[m].map(argument, value);
        } else if (places[operand.getDefiningOp()].part == StepPart::shared) {
          maps[m].map(operand, common.lookup(operand));
        } else {
          return op->emitOpError() << "reads a value stage " << p << " does not have yet on "
                                   << "micro-batch " << m << ": the schedule runs it too early";
        }
      }
      if (failed(cloner.clone(builder, op, maps[m], m)))
        return failure();
    }
    for (auto [transfer, mb] : outgoing[index]) {
      const Transfer &t = transfers[transfer];
      int64_t slot = slotCounter++;
      Value value = maps[mb].lookup(t.value);
      SendStartOp::create(builder, function.getLoc(), value, builder.getStringAttr("pp"),
                          builder.getI64IntegerAttr(t.to),
                          builder.getI64IntegerAttr(transfer * microBatches + mb),
                          builder.getI64IntegerAttr(slot));
      sendOrder[p].push_back({t.to, transfer * microBatches + mb});
      pendingSends.push_back({value, slot});
      sendAction.push_back(index);
    }
    // Summed in micro-batch order as each micro-batch's value appears.
    for (Operation *op : ops->second)
      for (Value result : op->getResults())
        if (crossings.contains(result)) {
          Value value = maps[m].lookup(result);
          auto [it, inserted] = sums.insert({result, value});
          if (!inserted)
            it->second = tensors.add(it->second, value);
        }
  }
  for (auto [value, slot] : llvm::drop_begin(pendingSends, sendsWaited))
    SendWaitOp::create(builder, function.getLoc(), value, builder.getI64IntegerAttr(slot));
  size_t sendsBeforeUpdate = pendingSends.size();

  // The update of the parameters this stage owns, on the mean over the
  // micro-batches.
  IRMapping once = common;
  for (Value crossing : crossings) {
    Value sum = sums.lookup(crossing);
    if (!sum)
      return crossing.getDefiningOp()->emitOpError()
             << "was never computed on stage " << p << ": no action of the schedule runs it";
    Type elementType = getElementTypeOrSelf(sum.getType());
    once.map(crossing, tensors.mul(sum, tensors.scalar(elementType,
                                                       1.0 / static_cast<double>(microBatches))));
  }
  for (auto [argument, updated] : chained)
    once.map(updated, maps[microBatches - 1].lookup(updated));
  for (Operation &op : body.without_terminator()) {
    const Place &place = places[&op];
    if (place.part != StepPart::once || stageOf(place.chunk) != p)
      continue;
    for (Value operand : op.getOperands())
      if (!once.contains(operand))
        return op.emitOpError() << "updates on stage " << p
                                << " from a value of another stage (a parameter several stages "
                                   "use is not supported by cleave-pipeline-unroll yet)";
    builder.clone(op, once);
  }

  // Tied parameters: the owner sends its new value, the other readers
  // return what they receive.
  llvm::DenseMap<unsigned, Value> receivedUpdates;
  for (const UpdateTransfer &transfer : updateTransfers) {
    Value value = terminator->getOperand(transfer.result);
    if (transfer.from == p) {
      int64_t slot = slotCounter++;
      Value updated = once.lookup(value);
      SendStartOp::create(builder, function.getLoc(), updated, builder.getStringAttr("pp"),
                          builder.getI64IntegerAttr(transfer.to),
                          builder.getI64IntegerAttr(transfer.tag), builder.getI64IntegerAttr(slot));
      sendOrder[p].push_back({transfer.to, transfer.tag});
      pendingSends.push_back({updated, slot});
    } else if (transfer.to == p) {
      int64_t slot = slotCounter++;
      Value buffer = RecvStartOp::create(
          builder, function.getLoc(), value.getType(), builder.getStringAttr("pp"),
          builder.getI64IntegerAttr(transfer.from), builder.getI64IntegerAttr(transfer.tag),
          builder.getI64IntegerAttr(slot));
      receiveOrder[p].push_back({transfer.from, transfer.tag});
      receivedUpdates[transfer.result] = RecvWaitOp::create(
          builder, function.getLoc(), value.getType(), buffer, builder.getI64IntegerAttr(slot));
    }
  }
  for (auto [value, slot] : llvm::drop_begin(pendingSends, sendsBeforeUpdate))
    SendWaitOp::create(builder, function.getLoc(), value, builder.getI64IntegerAttr(slot));

  llvm::SmallVector<Value> results;
  for (OpOperand &operand : terminator->getOpOperands()) {
    unsigned index = operand.getOperandNumber();
    Value value = operand.get();
    const Place *place = placeOf(value);
    bool here = !place || place->part == StepPart::shared || stageOf(place->chunk) == p;
    if (function.getResultAttr(index, CleaveDialect::kLossAttrName)) {
      Value mine = here ? once.lookup(value) : tensors.scalar(getElementTypeOrSelf(value), 0.0);
      results.push_back(shard::AllReduceOp::create(builder, function.getLoc(), mine, gridName,
                                                   llvm::ArrayRef<shard::GridAxis>{0},
                                                   shard::ReductionKind::Sum));
      continue;
    }
    if (here) {
      results.push_back(once.lookupOrNull(value));
      if (!results.back())
        return function.emitOpError() << "result " << index << " is not computed on stage " << p;
      continue;
    }
    auto updates =
        function.getResultAttrOfType<IntegerAttr>(index, CleaveDialect::kUpdatesAttrName);
    if (!updates)
      return function.emitOpError() << "result " << index << " is computed on stage "
                                    << stageOf(place->chunk) << " only and updates no argument";
    // Another stage's tensor: the owner's new value where this stage reads
    // it too, else unchanged here.
    if (Value received = receivedUpdates.lookup(index))
      results.push_back(received);
    else
      results.push_back(stageFunction.getArgument(updates.getInt()));
  }
  func::ReturnOp::create(builder, function.getLoc(), results);
  // Constants this stage does not read.
  for (Operation &op : llvm::make_early_inc_range(llvm::reverse(*entry)))
    if (op.hasTrait<OpTrait::ConstantLike>() && op.use_empty())
      op.erase();
  return success();
}

LogicalResult StageUnroller::checkTransferOrder() {
  for (int64_t p = 0; p < stages; ++p)
    for (int64_t q = 0; q < stages; ++q) {
      llvm::SmallVector<int64_t> sent, expected;
      for (auto [peer, tag] : sendOrder[p])
        if (peer == q)
          sent.push_back(tag);
      for (auto [peer, tag] : receiveOrder[q])
        if (peer == p)
          expected.push_back(tag);
      if (sent != expected)
        return function.emitOpError()
               << "the " << pipeline::stringifyScheduleKind(schedule.kind)
               << " schedule makes stage " << q << " post its receives from stage " << p
               << " in another order than stage " << p
               << " sends: NCCL would match them wrongly; choose another schedule";
    }
  return success();
}

} // namespace

LogicalResult mlir::cleave::unrollStages(ModuleOp module, func::FuncOp function) {
  auto settings = module->getAttrOfType<DictionaryAttr>(CleaveDialect::kPipelineAttrName);
  auto integer = [&](llvm::StringRef key) -> int64_t {
    auto value = settings ? settings.getAs<IntegerAttr>(key) : IntegerAttr();
    return value ? value.getInt() : 1;
  };
  auto name = settings ? settings.getAs<StringAttr>("schedule") : StringAttr();
  llvm::Expected<pipeline::ScheduleKind> kind =
      pipeline::parseScheduleKind(name ? name.getValue() : "1f1b");
  if (!kind)
    return module.emitError() << "cleave-pipeline-unroll: " << llvm::toString(kind.takeError());
  llvm::Expected<PipelineSchedule> schedule = pipeline::buildSchedule(
      *kind, static_cast<int>(integer("stages")), static_cast<int>(integer("micro_batches")),
      static_cast<int>(integer("virtual_stages")));
  if (!schedule)
    return module.emitError() << "cleave-pipeline-unroll: " << llvm::toString(schedule.takeError());
  return StageUnroller(module, function, std::move(*schedule)).run();
}
