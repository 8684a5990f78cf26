//===- Legalize.cpp - rewrite the train step into what codegen emits ------===//
//
// The runtime's matmul takes one batch stride per operand, so an operand
// whose batch dimensions broadcast only partly ([2, 1, M, K] against a
// [2, 3] batch) is first broadcast to the full batch. Dropout must have been
// lowered to random masks by then.
//
//===----------------------------------------------------------------------===//
#include "compiler/Codegen/Legalize.h"

#include "dialects/Cleave/IR/TensorBuilder.h"

using namespace mlir;
using namespace mlir::cleave;

/// True when `operand`'s batch dimensions are all 1 (stride 0) or equal
/// the result's (contiguous stride): what one batch stride can express.
static bool hasSimpleBatch(Value operand, ArrayRef<int64_t> resultBatch) {
  ArrayRef<int64_t> shape = TensorBuilder::shapeOf(operand);
  ArrayRef<int64_t> batch = shape.drop_back(2);
  bool allOnes = llvm::all_of(batch, [](int64_t size) { return size == 1; });
  if (allOnes)
    return true;
  SmallVector<int64_t> padded(resultBatch.size() - batch.size(), 1);
  llvm::append_range(padded, batch);
  return ArrayRef<int64_t>(padded) == resultBatch;
}

LogicalResult codegen::legalizeForCodegen(func::FuncOp function) {
  WalkResult walk = function.walk([&](Operation *op) -> WalkResult {
    if (isa<DropoutOp>(op))
      return op->emitOpError() << "must be lowered (cleave-lower-dropout) before codegen";
    auto matmul = dyn_cast<MatmulOp>(op);
    if (!matmul)
      return WalkResult::advance();
    ArrayRef<int64_t> result = matmul.getType().getShape();
    ArrayRef<int64_t> batch = result.drop_back(2);
    OpBuilder builder(matmul);
    TensorBuilder b(builder, matmul.getLoc());
    for (OpOperand &operand : matmul->getOpOperands()) {
      if (hasSimpleBatch(operand.get(), batch))
        continue;
      SmallVector<int64_t> full(batch);
      llvm::append_range(full, TensorBuilder::shapeOf(operand.get()).take_back(2));
      operand.set(b.broadcastTo(operand.get(), full));
    }
    return WalkResult::advance();
  });
  return failure(walk.wasInterrupted());
}
