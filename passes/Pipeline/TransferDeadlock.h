//===- TransferDeadlock.h - can the stages' transfers wait on each other? -===//
//
// cleave-pipeline-unroll waits for a send one action after it starts, so
// that the sent activation's buffer is free for the next micro-batch (as
// 1F1B's memory bound needs). A wait for a large message returns only once
// the peer has posted the matching receive (MPI's rendezvous protocol, NCCL
// always), so an early wait could stall on a peer that itself waits on
// this stage. This check runs the stage functions against each other under
// exactly that rule; the pass falls back to waiting at the end of the step
// where it finds a stall.
//
//===----------------------------------------------------------------------===//
#ifndef CLEAVE_PASSES_PIPELINE_TRANSFERDEADLOCK_H
#define CLEAVE_PASSES_PIPELINE_TRANSFERDEADLOCK_H

#include "mlir/Dialect/Func/IR/FuncOps.h"

#include <string>

namespace mlir::cleave {

/// Whether the stage functions (stage p = stageFunctions[p]) can stall:
/// receives complete once the peer started the send, send waits once the
/// peer posted the receive, a collective over the "pp" grid axis (axis 0)
/// once every stage reached it. On a stall, `where` says what each stage
/// was waiting for.
bool transfersCanDeadlock(llvm::ArrayRef<func::FuncOp> stageFunctions, std::string &where);

} // namespace mlir::cleave

#endif // CLEAVE_PASSES_PIPELINE_TRANSFERDEADLOCK_H
