//===- RecomputePass.cpp - cleave-recompute -------------------------------===//
#include "passes/Recompute/Passes.h"
#include "passes/Recompute/Recompute.h"

#include "passes/TrainStepAttrs.h"

#include "mlir/IR/BuiltinOps.h"

namespace mlir::cleave {
#define GEN_PASS_DEF_CLEAVERECOMPUTE
#include "passes/Recompute/Passes.h.inc"
} // namespace mlir::cleave

using namespace mlir;
using namespace mlir::cleave;

namespace {

struct RecomputePass : public mlir::cleave::impl::CleaveRecomputeBase<RecomputePass> {
  using CleaveRecomputeBase::CleaveRecomputeBase;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    std::optional<RecomputeMode> parsed = parseRecomputeMode(mode);
    if (!parsed) {
      module.emitError() << "cleave-recompute: mode '" << mode
                         << "' is not one of none, selective, full";
      return signalPassFailure();
    }
    func::FuncOp trainStep = lookupFunctionOrEmit(
        module, function,
        "cleave-recompute: no function @" + function +
            " to recompute; build the train step first (--cleave-train-pipeline with "
            "phase-tags=true)");
    if (!trainStep)
      return signalPassFailure();
    RecomputeSummary summary;
    if (failed(recomputeActivations(trainStep, *parsed, &summary)))
      return signalPassFailure();
    // On the location alone: the op's note would print the whole step.
    InFlightDiagnostic remark = mlir::emitRemark(trainStep.getLoc())
                                << "cleave-recompute mode=" << recomputeModeName(*parsed) << ": ";
    if (summary.regions == 0) {
      remark << "nothing recomputed: " << summary.nothingBecause;
      return;
    }
    remark << summary.droppedValues << " stashed values (" << summary.droppedBytes
           << " bytes) recomputed by " << summary.clonedOps << " cloned ops in " << summary.regions
           << (*parsed == RecomputeMode::full ? " layers" : " attention cores");
  }
};

} // namespace
