//===- AnnotateCosts.cpp - write per-op costs into the IR -----------------===//
//
// 1. Walk the function; for each CostOpInterface op record FLOPs and bytes.
// 2. Sum them onto the function, so one dump shows the model's total work.
//
//===----------------------------------------------------------------------===//
#include "passes/Passes.h"

#include "dialects/Cleave/IR/CleaveOps.h"
#include "mlir/IR/Builders.h"
#include "llvm/Support/DebugLog.h"

namespace mlir::cleave {
#define GEN_PASS_DEF_CLEAVEANNOTATECOSTS
#include "passes/Passes.h.inc"
} // namespace mlir::cleave

#define DEBUG_TYPE "cleave-annotate-costs"

using namespace mlir;
using namespace mlir::cleave;

namespace {
struct AnnotateCostsPass : public mlir::cleave::impl::CleaveAnnotateCostsBase<AnnotateCostsPass> {
  void runOnOperation() override {
    func::FuncOp function = getOperation();
    Builder builder(&getContext());
    int64_t totalFlops = 0, totalBytes = 0;
    function.walk([&](CostOpInterface op) {
      int64_t flops = op.getFlops(), bytes = op.getBytesAccessed();
      op->setAttr(CleaveDialect::kFlopsAttrName, builder.getI64IntegerAttr(flops));
      op->setAttr(CleaveDialect::kBytesAttrName, builder.getI64IntegerAttr(bytes));
      totalFlops += flops;
      totalBytes += bytes;
    });
    LDBG() << "@" << function.getSymName() << ": " << totalFlops << " flops, " << totalBytes
           << " bytes";
    function->setAttr(CleaveDialect::kTotalFlopsAttrName, builder.getI64IntegerAttr(totalFlops));
    function->setAttr(CleaveDialect::kTotalBytesAttrName, builder.getI64IntegerAttr(totalBytes));
  }
};
} // namespace
