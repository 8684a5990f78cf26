//===- CleaveCollectiveOps.cpp - verifiers of the overlapping collectives -===//
//
// A start's shapes follow the shard op it replaces; a wait must name its
// start's buffer, input and slot, so that codegen can trust the pairing and
// the memory plan keeps the input alive until the collective is done.
// Communication computes nothing and moves no bytes through the core.
//
//===----------------------------------------------------------------------===//
#include "dialects/Cleave/IR/CleaveOps.h"

using namespace mlir;
using namespace mlir::cleave;

/// What every start must satisfy: a slot, grid axes, and its buffer read by
/// exactly one collective_wait.
static LogicalResult verifyStart(Operation *op, ArrayRef<int16_t> axes, int64_t slot) {
  if (slot < 0)
    return op->emitOpError() << "slot " << slot << " must be >= 0";
  if (axes.empty())
    return op->emitOpError() << "needs the grid axes it communicates over (grid_axes)";
  for (int16_t axis : axes)
    if (axis < 0)
      return op->emitOpError() << "grid axis " << axis << " must be >= 0";
  Value result = op->getResult(0);
  if (!result.hasOneUse() || !isa<CollectiveWaitOp>(*result.getUsers().begin()))
    return op->emitOpError() << "buffer must be read by exactly one cleave.collective_wait (it is "
                                "incomplete until then)";
  return success();
}

/// `input` and `result` agree but on dimension `axis`, where one is a whole
/// multiple of the other (`larger` names which: "input" or "result").
static LogicalResult verifyBlocks(Operation *op, RankedTensorType input, RankedTensorType result,
                                  int64_t axis, bool inputLarger) {
  if (input.getElementType() != result.getElementType())
    return op->emitOpError() << "changes the element type (" << input.getElementType() << " to "
                             << result.getElementType() << ")";
  if (input.getRank() != result.getRank())
    return op->emitOpError() << "changes the rank (" << input.getRank() << " to "
                             << result.getRank() << ")";
  if (axis < 0 || axis >= input.getRank())
    return op->emitOpError() << "axis " << axis << " is outside the tensor's " << input.getRank()
                             << " dimensions";
  for (int64_t d = 0; d < input.getRank(); ++d) {
    int64_t in = input.getDimSize(d), out = result.getDimSize(d);
    if (d != axis && in != out)
      return op->emitOpError() << "dimension " << d << " changes (" << in << " to " << out
                               << ") but only axis " << axis << " may";
    int64_t larger = inputLarger ? in : out, smaller = inputLarger ? out : in;
    if (d == axis && (smaller == 0 || larger % smaller != 0))
      return op->emitOpError() << "dimension " << d << " of the "
                               << (inputLarger ? "input" : "result") << " (" << larger
                               << ") is not a whole number of the "
                               << (inputLarger ? "result's" : "input's") << " blocks (" << smaller
                               << ")";
  }
  return success();
}

LogicalResult AllReduceStartOp::verify() {
  if (getInput().getType() != getResult().getType())
    return emitOpError() << "result type " << getResult().getType() << " must equal the input type "
                         << getInput().getType();
  return verifyStart(*this, getGridAxes(), getSlot());
}

LogicalResult ReduceScatterStartOp::verify() {
  if (failed(verifyBlocks(*this, cast<RankedTensorType>(getInput().getType()),
                          cast<RankedTensorType>(getResult().getType()),
                          getScatterAxis().getSExtValue(), /*inputLarger=*/true)))
    return failure();
  return verifyStart(*this, getGridAxes(), getSlot());
}

LogicalResult AllGatherStartOp::verify() {
  if (failed(verifyBlocks(*this, cast<RankedTensorType>(getInput().getType()),
                          cast<RankedTensorType>(getResult().getType()),
                          getGatherAxis().getSExtValue(), /*inputLarger=*/false)))
    return failure();
  return verifyStart(*this, getGridAxes(), getSlot());
}

LogicalResult CollectiveWaitOp::verify() {
  Operation *start = getBuffer().getDefiningOp();
  if (!isa_and_present<AllReduceStartOp, ReduceScatterStartOp, AllGatherStartOp>(start))
    return emitOpError() << "must wait on the result of a cleave.all_reduce_start, "
                            "reduce_scatter_start or all_gather_start";
  if (start->getOperand(0) != getInput())
    return emitOpError() << "must also take its start's input (the memory plan keeps it alive "
                            "until the wait)";
  auto startSlot = start->getAttrOfType<IntegerAttr>("slot");
  if (!startSlot || startSlot.getInt() != getSlot())
    return emitOpError() << "waits on slot " << getSlot() << " but its start uses slot "
                         << (startSlot ? startSlot.getInt() : -1);
  if (start->getBlock() != (*this)->getBlock() || !start->isBeforeInBlock(*this))
    return emitOpError() << "must come after its start, in the same block";
  return success();
}

int64_t AllReduceStartOp::getFlops() { return 0; }
int64_t ReduceScatterStartOp::getFlops() { return 0; }
int64_t AllGatherStartOp::getFlops() { return 0; }
int64_t CollectiveWaitOp::getFlops() { return 0; }
// The cost model prices the messages as collectives (ReshardCost.cpp), not
// as memory traffic; the wait's result is a view of the start's buffer.
int64_t AllReduceStartOp::getBytesAccessed() { return 0; }
int64_t ReduceScatterStartOp::getBytesAccessed() { return 0; }
int64_t AllGatherStartOp::getBytesAccessed() { return 0; }
int64_t CollectiveWaitOp::getBytesAccessed() { return 0; }
