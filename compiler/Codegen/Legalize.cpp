//===- Legalize.cpp - rewrite the train step into what codegen emits ------===//
//
// The runtime's matmul takes one batch stride per operand, so an operand
// whose batch dimensions broadcast only partly ([2, 1, M, K] against a
// [2, 3] batch) is first broadcast to the full batch. Dropout must have been
// lowered to random masks by then.
//
// Autodiff writes the weight gradient of a linear layer applied to
// [B, T, K] activations as a batch of B products summed over the batch
// (and often transposed to the weight's layout). That is one product whose
// contraction runs over all B * T rows: folding it avoids writing B copies
// of the gradient, the reduction and the transpose, and gives BLAS one
// large product instead of B thin ones.
//
//===----------------------------------------------------------------------===//
#include "compiler/Codegen/Legalize.h"
#include "compiler/Codegen/Passes.h"

#include "dialects/Cleave/IR/TensorBuilder.h"
#include "llvm/Support/DebugLog.h"

namespace mlir::cleave::codegen {
#define GEN_PASS_DEF_CLEAVELEGALIZEFORCODEGEN
#include "compiler/Codegen/Passes.h.inc"
} // namespace mlir::cleave::codegen

#define DEBUG_TYPE "cleave-legalize-for-codegen"

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

/// The only user of `value`, or null.
static Operation *soleUser(Value value) {
  return value.hasOneUse() ? *value.getUsers().begin() : nullptr;
}

/// Rewrites `sum_batch(matmul(a, b, transpose_a))`, with a = [B..., R, M]
/// and b = [B..., R, N] both spanning the whole batch, into one product
/// contracting over the B * R rows (row-major [B..., R, X] is [B * R, X]).
/// A transpose [1, 0] of the [M, N] sum becomes the swapped product
/// b^T a. The sums' order changes; their terms do not.
static void foldBatchSummedMatmul(ReduceOp reduce) {
  auto matmul = reduce.getInput().getDefiningOp<MatmulOp>();
  if (!matmul || reduce.getKind() != ReduceKind::sum || !matmul.getResult().hasOneUse() ||
      !matmul.getTransposeA() || matmul.getTransposeB())
    return;
  ArrayRef<int64_t> result = matmul.getType().getShape();
  int64_t batchRank = static_cast<int64_t>(result.size()) - 2;
  if (batchRank < 1 || !llvm::equal(reduce.getAxes(), llvm::seq<int64_t>(0, batchRank)))
    return;
  ArrayRef<int64_t> a = TensorBuilder::shapeOf(matmul.getLhs());
  ArrayRef<int64_t> b = TensorBuilder::shapeOf(matmul.getRhs());
  if (a.drop_back(2) != result.drop_back(2) || b.drop_back(2) != result.drop_back(2))
    return;
  int64_t rows = a[a.size() - 2];
  for (int64_t size : result.drop_back(2))
    rows *= size;
  int64_t m = result[result.size() - 2], n = result.back();

  // Look through a reshape to [M, N] for a transpose to [N, M].
  Operation *last = reduce;
  TransposeOp transpose;
  Value summed = reduce.getResult();
  Operation *user = soleUser(summed);
  auto reshape = dyn_cast_or_null<ReshapeOp>(user);
  if (reshape && TensorBuilder::shapeOf(reshape.getResult()) == ArrayRef<int64_t>{m, n})
    user = soleUser(reshape.getResult());
  else if (TensorBuilder::shapeOf(summed) != ArrayRef<int64_t>{m, n})
    user = nullptr;
  transpose = dyn_cast_or_null<TransposeOp>(user);
  if (transpose && transpose.getPermutation() == ArrayRef<int64_t>{1, 0})
    last = transpose;
  else
    transpose = nullptr;

  OpBuilder builder(last);
  TensorBuilder tb(builder, matmul.getLoc());
  Value lhs = tb.reshape(matmul.getLhs(), {rows, m});
  Value rhs = tb.reshape(matmul.getRhs(), {rows, n});
  if (transpose) {
    transpose.getResult().replaceAllUsesWith(tb.matmul(rhs, lhs, true, false));
    transpose.erase();
    if (reshape)
      reshape.erase();
  } else {
    reduce.getResult().replaceAllUsesWith(
        tb.reshape(tb.matmul(lhs, rhs, true, false), TensorBuilder::shapeOf(summed)));
  }
  reduce.erase();
  matmul.erase();
}

LogicalResult codegen::legalizeForCodegen(func::FuncOp function) {
  SmallVector<ReduceOp> reduces;
  function.walk([&](ReduceOp reduce) { reduces.push_back(reduce); });
  for (ReduceOp reduce : reduces)
    foldBatchSummedMatmul(reduce);
  LDBG() << "@" << function.getSymName() << ": " << reduces.size()
         << " reductions looked at for a batch-summed matmul";

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
      LDBG() << "broadcast operand #" << operand.getOperandNumber() << " of " << matmul.getLoc()
             << " to the batch of its result";
      SmallVector<int64_t> full(batch);
      llvm::append_range(full, TensorBuilder::shapeOf(operand.get()).take_back(2));
      operand.set(b.broadcastTo(operand.get(), full));
    }
    return WalkResult::advance();
  });
  return failure(walk.wasInterrupted());
}

namespace {
struct LegalizeForCodegenPass
    : codegen::impl::CleaveLegalizeForCodegenBase<LegalizeForCodegenPass> {
  void runOnOperation() override {
    if (failed(codegen::legalizeForCodegen(getOperation())))
      signalPassFailure();
  }
};
} // namespace
