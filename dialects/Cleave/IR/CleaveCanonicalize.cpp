//===- CleaveCanonicalize.cpp - canonicalization patterns ---------------===//
//
// Patterns that `--canonicalize` runs besides the folders in CleaveOps.cpp:
//
//  * matmul absorbs a transpose of an operand's last two dimensions into
//    that operand's transpose flag. PyTorch exports every Linear layer as
//    Transpose(W) -> MatMul, so this drops one weight transpose per layer.
//  * A transpose of a transpose becomes one transpose of the first input
//    (and the identity folder then removes it if the two cancel).
//
//===----------------------------------------------------------------------===//
#include "dialects/Cleave/IR/CleaveOps.h"

#include "mlir/IR/PatternMatch.h"

using namespace mlir;
using namespace mlir::cleave;

/// Whether `permutation` keeps every dimension but the last two in place and
/// swaps those two.
static bool swapsOnlyLastTwo(ArrayRef<int64_t> permutation) {
  int64_t rank = permutation.size();
  if (rank < 2)
    return false;
  for (int64_t dim = 0; dim < rank - 2; ++dim)
    if (permutation[dim] != dim)
      return false;
  return permutation[rank - 2] == rank - 1 && permutation[rank - 1] == rank - 2;
}

namespace {

/// matmul(transpose(a, [..., n-1, n-2]), b) -> matmul(a, b) {transpose_a
/// toggled}, and likewise for the right-hand side.
struct AbsorbOperandTranspose : public OpRewritePattern<MatmulOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(MatmulOp op, PatternRewriter &rewriter) const override {
    auto lhsTranspose = op.getLhs().getDefiningOp<TransposeOp>();
    auto rhsTranspose = op.getRhs().getDefiningOp<TransposeOp>();
    bool absorbLhs = lhsTranspose && swapsOnlyLastTwo(lhsTranspose.getPermutation());
    bool absorbRhs = rhsTranspose && swapsOnlyLastTwo(rhsTranspose.getPermutation());
    if (!absorbLhs && !absorbRhs)
      return rewriter.notifyMatchFailure(op, "no operand is a transpose of its last two dims");
    rewriter.modifyOpInPlace(op, [&] {
      if (absorbLhs) {
        op.getLhsMutable().assign(lhsTranspose.getInput());
        op.setTransposeA(!op.getTransposeA());
      }
      if (absorbRhs) {
        op.getRhsMutable().assign(rhsTranspose.getInput());
        op.setTransposeB(!op.getTransposeB());
      }
    });
    return success();
  }
};

/// transpose(transpose(x, p), q) -> transpose(x, r) with r[i] = p[q[i]]:
/// result dim i of the outer transpose is dim q[i] of the inner result, which
/// is dim p[q[i]] of x.
struct ComposeTransposes : public OpRewritePattern<TransposeOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(TransposeOp op, PatternRewriter &rewriter) const override {
    auto inner = op.getInput().getDefiningOp<TransposeOp>();
    if (!inner)
      return rewriter.notifyMatchFailure(op, "input is not a transpose");
    ArrayRef<int64_t> innerPermutation = inner.getPermutation();
    SmallVector<int64_t> composed;
    for (int64_t dim : op.getPermutation())
      composed.push_back(innerPermutation[dim]);
    rewriter.replaceOpWithNewOp<TransposeOp>(op, op.getType(), inner.getInput(),
                                             rewriter.getDenseI64ArrayAttr(composed));
    return success();
  }
};

} // namespace

void MatmulOp::getCanonicalizationPatterns(RewritePatternSet &patterns, MLIRContext *context) {
  patterns.add<AbsorbOperandTranspose>(context);
}

void TransposeOp::getCanonicalizationPatterns(RewritePatternSet &patterns, MLIRContext *context) {
  patterns.add<ComposeTransposes>(context);
}
