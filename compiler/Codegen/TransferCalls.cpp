//===- TransferCalls.cpp - pipeline transfers -> runtime calls ------------===//
//
// cleave.send_start and cleave.recv_start post a point-to-point transfer
// with the stage `peer` on grid axis `axis`; cleave.send_wait and
// cleave.recv_wait wait for it (runtime/include/cleave/rt/collective_api.inc,
// the same calls on both backends). A wait writes nothing: recv_wait's
// result is recv_start's buffer (a view, Schedule.cpp), and send_wait reads
// its operand only so that the memory plan keeps the sent tensor alive,
// untouched, until the send is done.
//
//===----------------------------------------------------------------------===//
#include "compiler/Codegen/MemoryPlan.h"
#include "compiler/Codegen/Rules.h"

#include "dialects/Cleave/IR/CleaveOps.h"
#include "passes/Analysis/Sharding/TensorSharding.h"

using namespace mlir;
using namespace mlir::cleave;
using namespace mlir::cleave::codegen;

/// `"axis", peer` as the runtime takes them, checked against the module's
/// grid so that a transfer to a stage that does not exist fails here, not
/// at run time.
static FailureOr<std::string> endpoint(CallContext &ctx, StringRef axis, int64_t peer) {
  Operation *op = ctx.getOperation();
  auto module = op->getParentOfType<ModuleOp>();
  if (!module || module.getOps<shard::GridOp>().empty())
    return op->emitOpError() << "transfers over grid axis '" << axis
                             << "' but the module has no shard.grid (a pipeline program's grid "
                                "has the axis the stages lie on)",
           failure();
  FailureOr<GridInfo> grid = getGrid(module);
  if (failed(grid))
    return failure();
  auto it = llvm::find(grid->names, axis);
  if (it == grid->names.end())
    return op->emitOpError() << "transfers over grid axis '" << axis
                             << "', which the module's shard.grid does not have",
           failure();
  int64_t size = grid->shape[it - grid->names.begin()];
  if (peer >= size)
    return op->emitOpError() << "sends to or receives from stage " << peer << " but grid axis '"
                             << axis << "' has " << size << " stages",
           failure();
  return ("\"" + axis + "\", " + std::to_string(peer)).str();
}

/// `collective::call(io.collectives, arguments...);`
static void emitCall(CallContext &ctx, StringRef call, ArrayRef<std::string> arguments) {
  ctx.out() << "    " << ctx.getTarget().collectivePrefix() << call << "(io.collectives";
  for (const std::string &argument : arguments)
    ctx.out() << ", " << argument;
  ctx.out() << ");\n";
}

static LogicalResult emitSendStart(CallContext &ctx, SendStartOp send) {
  FailureOr<std::string> peer = endpoint(ctx, send.getAxis(), send.getPeer());
  if (failed(peer))
    return failure();
  emitCall(ctx, "send_start",
           {*peer, ctx.ptr(send.getInput()), std::to_string(valueBytes(send.getInput())),
            std::to_string(send.getTag()), std::to_string(send.getSlot())});
  return success();
}

static LogicalResult emitRecvStart(CallContext &ctx, RecvStartOp recv) {
  FailureOr<std::string> peer = endpoint(ctx, recv.getAxis(), recv.getPeer());
  if (failed(peer))
    return failure();
  emitCall(ctx, "recv_start",
           {*peer, ctx.ptr(recv.getResult()), std::to_string(valueBytes(recv.getResult())),
            std::to_string(recv.getTag()), std::to_string(recv.getSlot())});
  return success();
}

static LogicalResult emitSendWait(CallContext &ctx, SendWaitOp wait) {
  emitCall(ctx, "wait", {std::to_string(wait.getSlot())});
  return success();
}

static LogicalResult emitRecvWait(CallContext &ctx, RecvWaitOp wait) {
  emitCall(ctx, "wait", {std::to_string(wait.getSlot())});
  return success();
}

void codegen::registerTransferCalls(RuleTable &table) {
  table.addCalls(emitSendStart, emitRecvStart, emitSendWait, emitRecvWait);
}
