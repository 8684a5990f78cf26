//===- PrintSchedule.cpp - the schedule a pipeline would run --------------===//
//
// The per-rank order is generated ahead of time, so it can be read before
// anything runs: this pass prints it for given counts, independent of a
// model, which is how the lit tests compare the orders with the published
// ones.
//
//===----------------------------------------------------------------------===//
#include "passes/Analysis/Pipeline/Schedule.h"
#include "passes/Passes.h"

#include "mlir/Support/FileUtilities.h"
#include "llvm/Support/ToolOutputFile.h"

namespace mlir::cleave {
#define GEN_PASS_DEF_CLEAVEPRINTPIPELINESCHEDULE
#include "passes/Passes.h.inc"
} // namespace mlir::cleave

using namespace mlir;
using namespace mlir::cleave;

namespace {

struct PrintPipelineSchedulePass
    : public mlir::cleave::impl::CleavePrintPipelineScheduleBase<PrintPipelineSchedulePass> {
  using CleavePrintPipelineScheduleBase::CleavePrintPipelineScheduleBase;

  void runOnOperation() override {
    markAllAnalysesPreserved();
    auto fail = [&](llvm::Error err) {
      getOperation().emitError() << "cleave-print-pipeline-schedule: "
                                 << llvm::toString(std::move(err));
      signalPassFailure();
    };
    auto kind = pipeline::parseScheduleKind(schedule);
    if (!kind)
      return fail(kind.takeError());
    auto built = pipeline::buildSchedule(*kind, stages, microBatches, virtualStages);
    if (!built)
      return fail(built.takeError());
    // A generated schedule that does not validate is a compiler bug; say
    // so here rather than in a program that hangs.
    if (llvm::Error err = pipeline::validate(*built))
      return fail(std::move(err));
    if (output.empty()) {
      pipeline::printSchedule(*built, llvm::outs());
      llvm::outs().flush();
      return;
    }
    std::string message;
    std::unique_ptr<llvm::ToolOutputFile> file = openOutputFile(output, &message);
    if (!file) {
      getOperation().emitError() << "cleave-print-pipeline-schedule: cannot write '" << output
                                 << "': " << message;
      return signalPassFailure();
    }
    pipeline::printSchedule(*built, file->os());
    file->keep();
  }
};

} // namespace
