//===- Split.cpp - cut the train step into pipeline chunks ----------------===//
//
// cleave-pipeline-split (Passes.td): the chunks are contiguous in the
// forward's order, so that each chunk's forward reads only what the chunks
// before it made and the schedule's point-to-point transfers between
// neighbours carry every activation and gradient. Which cuts, and what
// they cost: SplitCuts.h and SplitFigures.h.
//
//===----------------------------------------------------------------------===//
#include "passes/Passes.h"
#include "passes/Pipeline/SplitCuts.h"
#include "passes/Pipeline/SplitFigures.h"
#include "passes/Pipeline/SplitPhases.h"
#include "passes/Pipeline/SplitReport.h"

#include "passes/Analysis/Cost/ComputeCost.h"
#include "passes/Analysis/Cost/Precision.h"
#include "passes/Analysis/Pipeline/Schedule.h"
#include "passes/TrainStepAttrs.h"

#include "mlir/IR/Builders.h"

namespace mlir::cleave {
#define GEN_PASS_DEF_CLEAVEPIPELINESPLIT
#include "passes/Passes.h.inc"
} // namespace mlir::cleave

using namespace mlir;
using namespace mlir::cleave;

namespace {

struct PipelineSplitPass : public mlir::cleave::impl::CleavePipelineSplitBase<PipelineSplitPass> {
  using CleavePipelineSplitBase::CleavePipelineSplitBase;

  LogicalResult checkSettings(ModuleOp module) {
    if (stages < 1 || virtualStages < 1 || microBatches < 1 || dataParallel < 1 ||
        tensorParallel < 1)
      return module.emitError() << "cleave-pipeline-split: stages (" << int64_t(stages)
                                << "), virtual-stages (" << int64_t(virtualStages)
                                << "), micro-batches (" << int64_t(microBatches)
                                << "), dp and tp must be at least 1";
    // The schedule's own checks: its name, V > 1 only interleaved, M a
    // multiple of S for interleaved.
    llvm::Expected<pipeline::ScheduleKind> kind = pipeline::parseScheduleKind(schedule);
    if (!kind)
      return module.emitError() << "cleave-pipeline-split: " << llvm::toString(kind.takeError());
    llvm::Expected<pipeline::PipelineSchedule> built =
        pipeline::buildSchedule(*kind, stages, microBatches, virtualStages);
    if (!built)
      return module.emitError() << "cleave-pipeline-split: " << llvm::toString(built.takeError());
    return success();
  }

  /// The chunk starts: pinned, or balanced over the layer boundaries.
  FailureOr<std::vector<int64_t>> chooseCuts(const TrainStepPhases &phases,
                                             const CutProfile &profile) {
    int64_t chunks = stages * virtualStages;
    func::FuncOp function = phases.getFunction();
    if (!cuts.empty()) {
      if (static_cast<int64_t>(cuts.size()) != chunks - 1)
        return function.emitOpError()
               << "needs " << chunks - 1 << " pipeline cut" << (chunks == 2 ? "" : "s") << " for "
               << chunks << " chunks (" << int64_t(stages) << " stages x " << int64_t(virtualStages)
               << " virtual stages), got " << cuts.size();
      return resolvePinnedCuts(phases, cuts);
    }
    if (chunks > profile.numLayers())
      return function.emitOpError()
             << "cannot be cut into " << chunks << " pipeline chunks (" << int64_t(stages)
             << " stages x " << int64_t(virtualStages) << " virtual stages): the model has "
             << profile.numLayers() << " layer" << (profile.numLayers() == 1 ? "" : "s")
             << "; at most " << profile.numLayers() << " chunk"
             << (profile.numLayers() == 1 ? "" : "s") << " (docs/pipeline.md, \"The split\")";
    return balanceCuts(profile, chunks);
  }

  void runOnOperation() override {
    ModuleOp module = getOperation();
    if (failed(checkSettings(module)))
      return signalPassFailure();
    func::FuncOp function = lookupFunctionOrEmit(
        module, this->function,
        "cleave-pipeline-split: no @" + this->function +
            " to split; run --cleave-train-pipeline=\"... phase-tags=true\" first");
    if (!function)
      return signalPassFailure();
    FailureOr<TrainStepPhases> phases = TrainStepPhases::analyze(function);
    if (failed(phases))
      return signalPassFailure();

    llvm::Expected<Cluster> cluster =
        loadCluster(clusterName, stages * dataParallel * tensorParallel);
    if (!cluster) {
      module.emitError() << "cleave-pipeline-split: " << llvm::toString(cluster.takeError());
      return signalPassFailure();
    }
    std::optional<Precision> trainingPrecision = parsePrecision(precision);
    if (!trainingPrecision) {
      module.emitError() << "cleave-pipeline-split: precision '" << precision
                         << "' is not a training precision: use fp32 or bf16";
      return signalPassFailure();
    }
    int64_t devices = dataParallel * tensorParallel;
    ComputeOptions compute = getComputeOptions(*trainingPrecision);
    CutProfile profile = profileCuts(*phases, [&](Operation *op) {
      return computeTime(op, *cluster, devices, compute) / microBatches;
    });
    FailureOr<std::vector<int64_t>> starts = chooseCuts(*phases, profile);
    if (failed(starts))
      return signalPassFailure();
    ChunkAssignment assignment = assignChunks(*phases, std::move(*starts));
    if (failed(verifyChunkFlow(*phases, assignment)))
      return signalPassFailure();

    SplitSettings settings;
    settings.stages = stages;
    settings.virtualStages = virtualStages;
    settings.microBatches = microBatches;
    settings.schedule = schedule;
    settings.dataParallel = dataParallel;
    settings.tensorParallel = tensorParallel;
    settings.precision = precision;
    FailureOr<SplitFigures> figures = countSplit(*phases, assignment, profile, settings, *cluster);
    if (failed(figures))
      return signalPassFailure();

    Builder builder(&getContext());
    for (Operation *op : phases->getOps()) {
      op->setAttr(CleaveDialect::kPhaseAttrName,
                  builder.getStringAttr(stringifySplitPhase(phases->getRole(op)->phase)));
      op->setAttr(CleaveDialect::kStageAttrName,
                  builder.getI64IntegerAttr(assignment.chunkOf.lookup(op)));
    }
    module->setAttr(CleaveDialect::kPipelineAttrName,
                    buildPipelineAttr(&getContext(), settings, *figures));
    if (print)
      printPipelineSplit(module, llvm::outs());
  }
};

} // namespace
