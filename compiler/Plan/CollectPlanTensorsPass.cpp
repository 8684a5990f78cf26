//===- CollectPlanTensorsPass.cpp - the plan's global view, mid-pipeline --===//
//
// The plan report needs each tensor's global shape and layout, which exist
// only between the sharding passes and cleave-partition. Rather than a
// callback between two pass managers, the shard pipeline takes this pass
// at that point. It is not registered: what it produces is the report, a
// C++ value, not IR (cleave-plan and `cleavec --emit=plan` print it).
//
//===----------------------------------------------------------------------===//
#include "compiler/Plan/PlanReport.h"

#include "mlir/Pass/Pass.h"
#include "llvm/Support/DebugLog.h"

#define DEBUG_TYPE "cleave-collect-plan-tensors"

using namespace mlir;
using namespace mlir::cleave;

namespace {
struct CollectPlanTensorsPass
    : public PassWrapper<CollectPlanTensorsPass, OperationPass<ModuleOp>> {
  MLIR_DEFINE_EXPLICIT_INTERNAL_INLINE_TYPE_ID(CollectPlanTensorsPass)

  CollectPlanTensorsPass(const PlanOptions &options, PlanReport &report)
      : options(options), report(report) {}

  StringRef getArgument() const override { return "cleave-collect-plan-tensors"; }
  StringRef getDescription() const override {
    return "Read the plan report's tensors from the sharded, not yet partitioned train step";
  }

  void runOnOperation() override {
    if (llvm::Error error =
            collectPlanTensors(getOperation(), options, report, options.keepOpShardings)) {
      getOperation().emitError() << llvm::toString(std::move(error));
      signalPassFailure();
      return;
    }
    LDBG() << "the plan's tensors: " << report.parameters.size() << " parameters, "
           << report.optimizerState.size() << " optimizer states, " << report.inputs.size()
           << " inputs";
  }

  PlanOptions options;
  PlanReport &report;
};
} // namespace

std::unique_ptr<Pass> mlir::cleave::createCollectPlanTensorsPass(const PlanOptions &options,
                                                                 PlanReport &report) {
  return std::make_unique<CollectPlanTensorsPass>(options, report);
}
