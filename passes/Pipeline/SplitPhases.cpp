//===- SplitPhases.cpp - which forward op each op of a train step serves --===//
#include "passes/Pipeline/SplitPhases.h"

#include "dialects/Cleave/IR/CleaveDialect.h"
#include "dialects/Cleave/IR/NodeName.h"

#include "mlir/IR/Matchers.h"
#include "llvm/ADT/STLExtras.h"

#include <algorithm>

using namespace mlir;
using namespace mlir::cleave;

llvm::StringRef mlir::cleave::stringifySplitPhase(SplitPhase phase) {
  switch (phase) {
  case SplitPhase::forward:
    return "forward";
  case SplitPhase::backward:
    return "backward";
  case SplitPhase::update:
    return "update";
  }
  return "forward";
}

static std::optional<int64_t> getIntAttr(Operation *op, llvm::StringRef name) {
  if (auto attr = op->getAttrOfType<IntegerAttr>(name))
    return attr.getInt();
  return std::nullopt;
}

FailureOr<TrainStepPhases> TrainStepPhases::analyze(func::FuncOp function) {
  TrainStepPhases result;
  result.function = function;
  Block &body = function.getBody().front();
  llvm::DenseMap<Operation *, int64_t> blockIndex;
  // (fwd_id, position): a backward op whose forward op canonicalization
  // removed belongs with the nearest forward op before it.
  std::vector<std::pair<int64_t, int64_t>> forwardIds;
  for (Operation &op : body.without_terminator()) {
    blockIndex[&op] = blockIndex.size();
    if (op.hasTrait<OpTrait::ConstantLike>())
      continue;
    result.ops.push_back(&op);
    if (std::optional<int64_t> id = getIntAttr(&op, CleaveDialect::kForwardIdAttrName)) {
      forwardIds.push_back({*id, static_cast<int64_t>(result.forwardOps.size())});
      result.forwardOps.push_back(&op);
    }
  }
  if (result.forwardOps.empty())
    return function.emitOpError()
           << "has no op tagged " << CleaveDialect::kForwardIdAttrName
           << ": cleave-pipeline-split needs the train step built with phase tags "
              "(--cleave-train-pipeline=\"... phase-tags=true\")";
  llvm::sort(forwardIds);
  auto anchorOfForwardId = [&](int64_t id) -> int64_t {
    auto it = llvm::upper_bound(forwardIds, std::make_pair(id, INT64_MAX));
    return it == forwardIds.begin() ? 0 : std::prev(it)->second;
  };

  std::vector<Operation *> untagged;
  for (auto [position, op] : llvm::enumerate(result.forwardOps))
    result.roles[op] = {SplitPhase::forward, static_cast<int64_t>(position)};
  for (Operation *op : result.ops) {
    if (result.roles.count(op))
      continue;
    if (std::optional<int64_t> id = getIntAttr(op, CleaveDialect::kBackwardOfAttrName))
      result.roles[op] = {SplitPhase::backward, anchorOfForwardId(*id)};
    else if (std::optional<int64_t> arg = getIntAttr(op, CleaveDialect::kUpdateOfAttrName))
      result.roles[op] = {SplitPhase::update, *arg};
    else
      untagged.push_back(op);
  }

  // Untagged ops (canonicalization's) follow their first user, else their
  // last producer; users come later in the block, so walk backwards for
  // them and forwards for producers.
  auto fromUsers = [&](Operation *op) {
    Operation *first = nullptr;
    for (Operation *user : op->getUsers())
      if (result.roles.count(user) && (!first || blockIndex[user] < blockIndex[first]))
        first = user;
    if (first)
      result.roles[op] = result.roles[first];
  };
  for (Operation *op : llvm::reverse(untagged))
    fromUsers(op);
  for (Operation *op : untagged) {
    if (result.roles.count(op))
      continue;
    Operation *last = nullptr;
    for (Value operand : op->getOperands())
      if (Operation *producer = operand.getDefiningOp())
        if (result.roles.count(producer) && (!last || blockIndex[producer] > blockIndex[last]))
          last = producer;
    if (last)
      result.roles[op] = result.roles[last];
  }
  for (Operation *op : llvm::reverse(untagged))
    if (!result.roles.count(op))
      fromUsers(op);
  // Reads only arguments and constants and feeds only the results: with the
  // first chunk, whose forward runs first.
  for (Operation *op : untagged)
    if (!result.roles.count(op))
      result.roles[op] = {SplitPhase::forward, 0};
  return result;
}

const OpRole *TrainStepPhases::getRole(Operation *op) const {
  auto it = roles.find(op);
  return it == roles.end() ? nullptr : &it->second;
}

ChunkAssignment mlir::cleave::assignChunks(const TrainStepPhases &phases,
                                           std::vector<int64_t> chunkStarts) {
  ChunkAssignment result;
  result.chunkStarts = std::move(chunkStarts);
  int64_t positions = phases.getForwardOps().size();
  result.chunkOfPosition.assign(positions, 0);
  for (int64_t c = 0; c < result.numChunks(); ++c) {
    int64_t end = c + 1 < result.numChunks() ? result.chunkStarts[c + 1] : positions;
    for (int64_t p = result.chunkStarts[c]; p < end; ++p)
      result.chunkOfPosition[p] = c;
  }

  func::FuncOp function = phases.getFunction();
  Block &body = function.getBody().front();
  unsigned numArgs = function.getNumArguments();
  result.argumentOwner.assign(numArgs, -1);
  result.argumentForwardChunks.assign(numArgs, {});
  auto argumentIndex = [&](Value value) -> int64_t {
    auto arg = dyn_cast<BlockArgument>(value);
    return arg && arg.getOwner() == &body ? static_cast<int64_t>(arg.getArgNumber()) : -1;
  };

  // Forward and backward ops first: they decide who owns the parameters.
  for (Operation *op : phases.getOps()) {
    const OpRole *role = phases.getRole(op);
    if (role->phase == SplitPhase::update)
      continue;
    int64_t chunk = result.chunkOfPosition[role->anchor];
    result.chunkOf[op] = chunk;
    if (role->phase != SplitPhase::forward)
      continue;
    for (Value operand : op->getOperands()) {
      int64_t arg = argumentIndex(operand);
      if (arg < 0)
        continue;
      std::vector<int64_t> &chunks = result.argumentForwardChunks[arg];
      if (!llvm::is_contained(chunks, chunk))
        chunks.push_back(chunk);
    }
  }
  for (unsigned arg = 0; arg < numArgs; ++arg) {
    std::vector<int64_t> &chunks = result.argumentForwardChunks[arg];
    llvm::sort(chunks);
    if (!chunks.empty())
      result.argumentOwner[arg] = chunks.front();
  }
  auto ownerOf = [&](int64_t arg) {
    return arg >= 0 && arg < numArgs && result.argumentOwner[arg] >= 0 ? result.argumentOwner[arg]
                                                                       : 0;
  };

  // Update ops go with their parameter. Clipping's (anchor -1) span all
  // of them: the scaling of one parameter's gradient goes with that
  // parameter; the norm's reduction with the latest chunk it reads from
  // (each stage's partial sum flows on to the last).
  for (Operation *op : phases.getOps()) {
    const OpRole *role = phases.getRole(op);
    if (role->phase != SplitPhase::update)
      continue;
    int64_t chunk = 0;
    if (role->anchor >= 0) {
      chunk = ownerOf(role->anchor);
    } else {
      std::optional<int64_t> scaled;
      bool single = !op->use_empty();
      for (Operation *user : op->getUsers()) {
        const OpRole *userRole = phases.getRole(user);
        if (!userRole || userRole->phase != SplitPhase::update || userRole->anchor < 0 ||
            (scaled && *scaled != ownerOf(userRole->anchor))) {
          single = false;
          break;
        }
        scaled = ownerOf(userRole->anchor);
      }
      if (single && scaled) {
        chunk = *scaled;
      } else {
        for (Value operand : op->getOperands())
          if (Operation *producer = operand.getDefiningOp())
            if (auto it = result.chunkOf.find(producer); it != result.chunkOf.end())
              chunk = std::max(chunk, it->second);
      }
    }
    result.chunkOf[op] = chunk;
  }

  // Arguments no forward op reads (optimizer state, step scalars, unused
  // parameters) belong with their first reader, else chunk 0.
  for (Operation *op : phases.getOps())
    for (Value operand : op->getOperands()) {
      int64_t arg = argumentIndex(operand);
      if (arg >= 0 && result.argumentOwner[arg] < 0)
        result.argumentOwner[arg] = result.chunkOf[op];
    }
  for (int64_t &owner : result.argumentOwner)
    owner = std::max<int64_t>(owner, 0);
  return result;
}

static std::string describe(Operation *op) {
  std::string node = nodeNameOf(op);
  std::string text = "'" + op->getName().getStringRef().str() + "'";
  if (!node.empty())
    text += " (ONNX node '" + node + "')";
  return text;
}

LogicalResult mlir::cleave::verifyChunkFlow(const TrainStepPhases &phases,
                                            const ChunkAssignment &assignment) {
  for (Operation *op : phases.getOps()) {
    const OpRole *role = phases.getRole(op);
    if (role->phase == SplitPhase::update)
      continue;
    int64_t chunk = assignment.chunkOf.lookup(op);
    for (Value operand : op->getOperands()) {
      Operation *producer = operand.getDefiningOp();
      const OpRole *producerRole = producer ? phases.getRole(producer) : nullptr;
      if (!producerRole || producerRole->phase != role->phase)
        continue;
      int64_t producerChunk = assignment.chunkOf.lookup(producer);
      bool forward = role->phase == SplitPhase::forward;
      if (forward ? producerChunk <= chunk : producerChunk >= chunk)
        continue;
      return op->emitOpError() << "the pipeline cuts do not separate the graph: this "
                               << stringifySplitPhase(role->phase) << " op " << describe(op)
                               << " of chunk " << chunk << " reads the result of "
                               << describe(producer) << " of chunk " << producerChunk
                               << ", which the schedule runs after it; choose cuts that "
                               << "no value crosses "
                               << (forward ? "backwards (from a later chunk to an earlier one)"
                                           : "forwards in the backward pass");
    }
  }
  return success();
}
