//===- PipelineStages.cpp - one step function per pipeline stage ----------===//
//
// cleave-pipeline-unroll replaces @train_step by @train_step_stage0 ..
// @train_step_stage<S-1>, all with the train step's signature. Each becomes
// a step function of its own, in `namespace stage<p>`, with its own
// schedule and memory plan; `train_step` runs the one of this rank's
// coordinate on grid axis "pp". The stages share one workspace (a rank runs
// one stage), sized for the largest. A parameter or optimizer state that
// only some stages use is held only by their ranks: its sharding string in
// ModelInfo starts with "@<stages>:" (docs/pipeline.md).
//
//===----------------------------------------------------------------------===//
#include "compiler/Codegen/Collectives.h"
#include "compiler/Codegen/Emitter.h"

#include "dialects/Cleave/IR/CleaveOps.h"
#include "passes/Analysis/Sharding/TensorSharding.h"

#include "llvm/ADT/StringExtras.h"

using namespace mlir;
using namespace mlir::cleave;
using namespace mlir::cleave::codegen;

/// The grid axis the stages lie on (the contract of cleave-pipeline-unroll).
static constexpr StringLiteral kPipelineAxis = "pp";

FailureOr<SmallVector<func::FuncOp>> codegen::findPipelineStages(ModuleOp module,
                                                                 StringRef function) {
  std::string prefix = (function + "_stage").str();
  SmallVector<func::FuncOp> stages;
  while (auto stage = module.lookupSymbol<func::FuncOp>(prefix + std::to_string(stages.size())))
    stages.push_back(stage);
  for (auto candidate : module.getOps<func::FuncOp>()) {
    StringRef name = candidate.getSymName();
    unsigned index;
    if (name.consume_front(prefix) && !name.getAsInteger(10, index) && index >= stages.size())
      return candidate.emitOpError()
                 << "is a pipeline stage but @" << prefix << stages.size()
                 << " is missing: codegen needs the stages numbered 0, 1, ... without gaps",
             failure();
  }
  if (stages.empty())
    return stages;
  for (func::FuncOp stage : stages) {
    if (stage.isExternal())
      return stage.emitOpError() << "is a pipeline stage without a body", failure();
    if (stage.getFunctionType() != stages.front().getFunctionType())
      return stage.emitOpError() << "has another signature than @" << stages.front().getSymName()
                                 << ": every stage function takes and returns what the train "
                                    "step does",
             failure();
  }
  auto fail = [&](const Twine &problem) {
    return module.emitError() << "a pipeline of " << stages.size() << " stages (@" << prefix
                              << "0..) needs a shard.grid whose axis '" << kPipelineAxis << "' has "
                              << stages.size() << " devices; " << problem;
  };
  if (module.getOps<shard::GridOp>().empty())
    return fail("the module has no shard.grid"), failure();
  FailureOr<GridInfo> grid = getGrid(module);
  if (failed(grid))
    return failure();
  auto axis = llvm::find(grid->names, kPipelineAxis);
  if (axis == grid->names.end())
    return fail("the grid has no such axis"), failure();
  int64_t size = grid->shape[axis - grid->names.begin()];
  if (size != static_cast<int64_t>(stages.size()))
    return fail("it has " + Twine(size)), failure();
  return stages;
}

bool codegen::usesArgument(func::FuncOp function, unsigned index) {
  BlockArgument argument = function.getArgument(index);
  for (OpOperand &use : argument.getUses()) {
    if (!isa<func::ReturnOp>(use.getOwner()))
      return true;
    auto updated = function.getResultAttrOfType<IntegerAttr>(use.getOperandNumber(),
                                                             CleaveDialect::kUpdatesAttrName);
    if (!updated || updated.getInt() != index)
      return true;
  }
  return false;
}

std::string Emitter::stagePrefix(unsigned index) {
  SmallVector<std::string> users;
  for (auto [stage, stageFunction] : llvm::enumerate(stageFunctions))
    if (usesArgument(stageFunction, index))
      users.push_back(std::to_string(stage));
  // Unused by every stage: held everywhere, as outside pipelines.
  if (users.empty() || users.size() == stageFunctions.size())
    return "";
  return "@" + llvm::join(users, ",") + ":";
}

func::FuncOp Emitter::layoutFunction(unsigned index) {
  for (func::FuncOp stageFunction : stageFunctions)
    if (usesArgument(stageFunction, index))
      return stageFunction;
  return function;
}

LogicalResult Emitter::emitStageFragment(int stage) {
  this->stage = stage;
  if (failed(prepare()))
    return failure();
  os << "// Stage " << stage << " (@" << function.getSymName() << "): " << schedule.steps.size()
     << " steps (" << schedule.loops.size() << " fused loops), workspace " << plan.workspaceBytes
     << " bytes (" << plan.naiveBytes << " without reuse).\n";
  os << "namespace stage" << stage << " {\n\n";
  if (failed(emitFunction()))
    return failure();
  emitWorkspaceBytesFunction();
  os << "} // namespace stage" << stage << "\n\n";
  return success();
}

void Emitter::emitStageDispatch() {
  os << "// Each rank runs the stage of its coordinate on grid axis \"" << kPipelineAxis << "\".\n";
  os << "void train_step(const cleave::rt::StepScalars &s, const cleave::rt::StepBuffers &io) {\n";
  os << "  switch (" << target->collectivePrefix() << "grid_coordinate(io.collectives, \""
     << kPipelineAxis << "\")) {\n";
  for (size_t stage = 0; stage < stageFunctions.size(); ++stage)
    os << "  case " << stage << ":\n    stage" << stage << "::train_step(s, io);\n    break;\n";
  os << "  }\n}\n\n";
}

LogicalResult Emitter::runPipeline(CodegenReport *report,
                                   ArrayRef<std::unique_ptr<Emitter>> stages) {
  for (const std::unique_ptr<Emitter> &stage : stages)
    stageFunctions.push_back(stage->function);
  os << "// Generated by cleavec from " << options.modelPath << "; do not edit.\n";
  os << "// Pipeline train step: " << stages.size() << " stages, one step function each; "
     << "the workspace is the largest stage's.\n";
  if (options.precision == Precision::bf16)
    os << "// Precision bf16: matmul and conv2d operands rounded to bfloat16, fp32 sums; "
          "all else fp32.\n";
  target->emitIncludes(os, /*distributed=*/true);
  os << "#include <algorithm>\n#include <cmath>\n#include <cstdint>\n#include <cstring>\n\n";
  os << "namespace {\n";
  os << "namespace K = " << target->kernelNamespace() << ";\n\n";
  for (auto [index, stage] : llvm::enumerate(stages))
    if (failed(stage->emitStageFragment(index)))
      return failure();
  emitStageDispatch();
  if (failed(emitModelTable()))
    return failure();

  if (report) {
    // A rank runs one stage: its peak is the largest stage's.
    for (const std::unique_ptr<Emitter> &stage : stages) {
      report->workspaceBytes = std::max(report->workspaceBytes, stage->plan.workspaceBytes);
      report->naiveBytes = std::max(report->naiveBytes, stage->plan.naiveBytes);
      report->fusedLoops += stage->schedule.loops.size();
      for (const FusedLoop &loop : stage->schedule.loops)
        report->fusedOps += loop.ops.size();
      report->libraryCalls += stage->schedule.steps.size() - stage->schedule.loops.size();
    }
  }
  return success();
}
