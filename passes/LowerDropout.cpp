//===- LowerDropout.cpp - dropout as a product with a random mask ---------===//
//
// Autodiff then treats dropout as a plain multiplication, and its gradient
// reuses the very mask of the forward pass. Each dropout gets its own mask
// stream so that no two share random bits.
//
//===----------------------------------------------------------------------===//
#include "passes/Passes.h"

#include "dialects/Cleave/IR/TensorBuilder.h"
#include "llvm/Support/DebugLog.h"

namespace mlir::cleave {
#define GEN_PASS_DEF_CLEAVELOWERDROPOUT
#include "passes/Passes.h.inc"
} // namespace mlir::cleave

#define DEBUG_TYPE "cleave-lower-dropout"

using namespace mlir;
using namespace mlir::cleave;

namespace {
struct LowerDropoutPass : public mlir::cleave::impl::CleaveLowerDropoutBase<LowerDropoutPass> {
  void runOnOperation() override {
    int64_t stream = 0;
    SmallVector<DropoutOp> dropouts;
    getOperation().walk([&](DropoutOp op) { dropouts.push_back(op); });
    LDBG() << dropouts.size() << " dropouts become random masks";
    for (DropoutOp op : dropouts) {
      OpBuilder builder(op);
      TensorBuilder b(builder, op.getLoc());
      Value mask = builder.create<RandomMaskOp>(
          op.getLoc(), op.getType(), builder.getF64FloatAttr(1.0 - op.getRatio().convertToDouble()),
          builder.getI64IntegerAttr(stream++));
      op.replaceAllUsesWith(b.mul(op.getInput(), mask));
      op.erase();
    }
  }
};
} // namespace
