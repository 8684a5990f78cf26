//===- LossCalls.cpp - cross entropy and its gradient ---------------------===//
#include "compiler/Codegen/Rules.h"

#include "dialects/Cleave/IR/CleaveOps.h"

#include "llvm/Support/FormatVariadic.h"

using namespace mlir;
using namespace mlir::cleave;
using namespace mlir::cleave::codegen;

/// cleave.cross_entropy's attributes as a K::CrossEntropyOptions literal.
static std::string crossEntropyOptions(std::optional<uint64_t> ignoreIndex, double smoothing,
                                       bool sum) {
  return llvm::formatv("K::CrossEntropyOptions{{{0}, {1}, {2}, {3}}",
                       ignoreIndex ? "true" : "false",
                       ignoreIndex ? static_cast<int64_t>(*ignoreIndex) : int64_t(-100),
                       floatLiteral(smoothing, true), sum ? "true" : "false")
      .str();
}

static LogicalResult emitCrossEntropy(CallContext &ctx, CrossEntropyOp loss) {
  ArrayRef<int64_t> shape = loss.getLogits().getType().getShape();
  if (!loss.getLabels().getType().getElementType().isSignlessInteger(64))
    return loss.emitOpError() << "needs i64 labels in generated code";
  return ctx.callKernel("cross_entropy", ctx.ptr(loss.getLogits()), ctx.ptr(loss.getLabels()),
                        ctx.ptr(loss.getResult()), shape[0], shape[1], "io.invalid_index",
                        crossEntropyOptions(loss.getIgnoreIndex(),
                                            loss.getLabelSmoothing().convertToDouble(),
                                            loss.getSum()));
}

static LogicalResult emitCrossEntropyGrad(CallContext &ctx, CrossEntropyGradOp grad) {
  ArrayRef<int64_t> shape = grad.getLogits().getType().getShape();
  return ctx.callKernel("cross_entropy_grad", ctx.ptr(grad.getLogits()), ctx.ptr(grad.getLabels()),
                        ctx.ptr(grad.getResultGrad()), ctx.ptr(grad.getResult()), shape[0],
                        shape[1], "io.invalid_index",
                        crossEntropyOptions(grad.getIgnoreIndex(),
                                            grad.getLabelSmoothing().convertToDouble(),
                                            grad.getSum()));
}

void mlir::cleave::codegen::registerLossCalls(RuleTable &table) {
  table.addCalls(emitCrossEntropy, emitCrossEntropyGrad);
}
