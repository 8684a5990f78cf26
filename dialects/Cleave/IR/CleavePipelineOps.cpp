//===- CleavePipelineOps.cpp - verifiers and costs of the transfer ops ----===//
//
// Transfers compute nothing; the cost model prices their bytes as
// point-to-point messages (passes/Analysis/Cost), not as flops.
//
//===----------------------------------------------------------------------===//
#include "dialects/Cleave/IR/CleaveOps.h"

using namespace mlir;
using namespace mlir::cleave;

static LogicalResult verifyEndpoint(Operation *op, StringRef axis, int64_t peer, int64_t tag,
                                    int64_t slot) {
  if (axis.empty())
    return op->emitOpError() << "needs the grid axis the stages lie on (axis = \"pp\")";
  if (peer < 0)
    return op->emitOpError() << "peer " << peer << " is not a stage coordinate (must be >= 0)";
  if (tag < 0)
    return op->emitOpError() << "tag " << tag << " must be >= 0";
  if (slot < 0)
    return op->emitOpError() << "slot " << slot << " must be >= 0";
  return success();
}

LogicalResult SendStartOp::verify() {
  return verifyEndpoint(*this, getAxis(), getPeerAttr().getInt(), getTagAttr().getInt(),
                        getSlotAttr().getInt());
}
LogicalResult RecvStartOp::verify() {
  return verifyEndpoint(*this, getAxis(), getPeerAttr().getInt(), getTagAttr().getInt(),
                        getSlotAttr().getInt());
}
LogicalResult SendWaitOp::verify() {
  if (getSlotAttr().getInt() < 0)
    return emitOpError() << "slot " << getSlotAttr().getInt() << " must be >= 0";
  return success();
}
LogicalResult RecvWaitOp::verify() {
  if (getSlotAttr().getInt() < 0)
    return emitOpError() << "slot " << getSlotAttr().getInt() << " must be >= 0";
  if (!getBuffer().getDefiningOp<RecvStartOp>())
    return emitOpError() << "must wait on the result of a cleave.recv_start";
  return success();
}

int64_t SendStartOp::getFlops() { return 0; }
int64_t SendWaitOp::getFlops() { return 0; }
int64_t RecvStartOp::getFlops() { return 0; }
int64_t RecvWaitOp::getFlops() { return 0; }
