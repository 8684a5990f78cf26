//===- SplitFigures.cpp - the time and memory of a pipeline split ---------===//
#include "passes/Pipeline/SplitFigures.h"

#include "dialects/Cleave/IR/CleaveDialect.h"
#include "dialects/Cleave/Interfaces/CostInterface.h"
#include "passes/Analysis/Cost/ComputeCost.h"
#include "passes/Analysis/Cost/Precision.h"
#include "passes/Analysis/Pipeline/Schedule.h"
#include "passes/TrainStepAttrs.h"

#include "mlir/IR/Builders.h"
#include "llvm/ADT/DenseSet.h"

#include <algorithm>

using namespace mlir;
using namespace mlir::cleave;

/// Per cut between chunks c and c + 1, the bytes crossing it at
/// `precision` over its IR bytes: the forward values a chunk makes and a
/// later chunk's forward reads (1 where none, and always at fp32). The cut
/// profile counts IR bytes; this scales them.
static std::vector<double> crossingScale(const TrainStepPhases &phases,
                                         const ChunkAssignment &assignment, Precision precision) {
  int64_t chunks = assignment.numChunks();
  std::vector<double> irBytes(std::max<int64_t>(chunks - 1, 0), 0.0), trainingBytes = irBytes;
  if (precision != Precision::fp32)
    for (Operation *op : phases.getOps()) {
      if (phases.getRole(op)->phase != SplitPhase::forward)
        continue;
      int64_t from = assignment.chunkOf.lookup(op);
      for (Value result : op->getResults()) {
        int64_t last = from;
        for (Operation *user : result.getUsers())
          if (const OpRole *role = phases.getRole(user); role && role->phase == SplitPhase::forward)
            last = std::max(last, assignment.chunkOf.lookup(user));
        for (int64_t c = from; c < last; ++c) {
          irBytes[c] += static_cast<double>(getTensorBytes(result.getType()));
          trainingBytes[c] += static_cast<double>(getActivationBytes(result.getType(), precision));
        }
      }
    }
  std::vector<double> scale(irBytes.size(), 1.0);
  for (size_t c = 0; c < scale.size(); ++c)
    if (irBytes[c] > 0)
      scale[c] = trainingBytes[c] / irBytes[c];
  return scale;
}

FailureOr<SplitFigures> mlir::cleave::countSplit(const TrainStepPhases &phases,
                                                 const ChunkAssignment &assignment,
                                                 const CutProfile &profile,
                                                 const SplitSettings &settings,
                                                 const Cluster &cluster) {
  func::FuncOp function = phases.getFunction();
  Block &body = function.getBody().front();
  int64_t chunks = assignment.numChunks();
  int64_t stages = settings.stages;
  int64_t m = settings.microBatches, dp = settings.dataParallel, tp = settings.tensorParallel;
  Precision precision = parsePrecision(settings.precision).value_or(Precision::fp32);
  ComputeOptions compute = getComputeOptions(precision);
  SplitFigures figures;
  figures.layers = profile.numLayers();
  figures.chunkForwardSeconds.assign(chunks, 0.0);
  figures.chunkBackwardSeconds.assign(chunks, 0.0);
  figures.chunkUpdateSeconds.assign(chunks, 0.0);
  figures.chunkParameterBytes.assign(chunks, 0);
  figures.chunkGradientBytes.assign(chunks, 0);
  figures.chunkOptimizerBytes.assign(chunks, 0);
  figures.chunkActivationBytes.assign(chunks, 0);

  // Forward and backward run per micro-batch on a dp x tp stage; the
  // update once per step, split tp ways.
  std::vector<llvm::DenseSet<Value>> stashed(chunks);
  for (Operation *op : phases.getOps()) {
    const OpRole *role = phases.getRole(op);
    int64_t chunk = assignment.chunkOf.lookup(op);
    switch (role->phase) {
    case SplitPhase::forward:
      figures.chunkForwardSeconds[chunk] += computeTime(op, cluster, dp * tp, compute) / m;
      break;
    case SplitPhase::backward:
      figures.chunkBackwardSeconds[chunk] += computeTime(op, cluster, dp * tp, compute) / m;
      for (Value operand : op->getOperands()) {
        Operation *producer = operand.getDefiningOp();
        const OpRole *producerRole = producer ? phases.getRole(producer) : nullptr;
        auto arg = dyn_cast<BlockArgument>(operand);
        bool batchInput = arg && arg.getOwner() == &body &&
                          function.getArgAttr(arg.getArgNumber(), CleaveDialect::kInputAttrName);
        if ((producerRole && producerRole->phase == SplitPhase::forward) || batchInput)
          stashed[chunk].insert(operand);
      }
      break;
    case SplitPhase::update:
      // The update reads and writes fp32 master weights and state.
      figures.chunkUpdateSeconds[chunk] += computeTime(op, cluster, tp);
      break;
    }
  }
  for (int64_t c = 0; c < chunks; ++c)
    for (Value value : stashed[c])
      figures.chunkActivationBytes[c] += getActivationBytes(value.getType(), precision) / (m * dp);

  for (unsigned arg = 0; arg < function.getNumArguments(); ++arg) {
    int64_t owner = assignment.argumentOwner[arg];
    Type type = function.getArgumentTypes()[arg];
    if (ParamAttr param = getParamAttr(function, arg)) {
      figures.chunkParameterBytes[owner] += getParameterBytes(type, precision);
      if (param.getKind() == ParamKind::trainable)
        figures.chunkGradientBytes[owner] += getActivationBytes(type, precision);
      const std::vector<int64_t> &users = assignment.argumentForwardChunks[arg];
      if (users.size() > 1)
        figures.sharedParameters.push_back({param.getName().str(), users});
    } else if (function.getArgAttr(arg, CleaveDialect::kOptStateAttrName)) {
      figures.chunkOptimizerBytes[owner] += getOptimizerStateBytes(type, precision);
    }
  }

  std::vector<double> cutScale = crossingScale(phases, assignment, precision);
  for (int64_t c = 1; c < chunks; ++c) {
    figures.cuts.push_back(nameCutBefore(phases, assignment.chunkStarts[c]));
    auto crossing = static_cast<double>(profile.crossingBytes[assignment.chunkStarts[c]]);
    figures.cutBytes.push_back(static_cast<int64_t>(crossing * cutScale[c - 1]) / (m * dp));
  }

  // The stages under the schedule: its in-flight stashes and a simulation
  // with the chunk times and the cuts' transfers (pp is the grid's slowest
  // axis, so neighbouring stages are dp x tp ranks apart).
  llvm::Expected<pipeline::ScheduleKind> kind = pipeline::parseScheduleKind(settings.schedule);
  llvm::Expected<pipeline::PipelineSchedule> schedule =
      kind ? pipeline::buildSchedule(*kind, stages, m, settings.virtualStages)
           : llvm::Expected<pipeline::PipelineSchedule>(kind.takeError());
  if (!schedule)
    return function.emitOpError() << "cannot be pipelined: "
                                  << llvm::toString(schedule.takeError());
  std::vector<double> transferSeconds;
  for (int64_t c = 0; c + 1 < chunks; ++c) {
    int64_t stageDevices = dp * tp;
    int64_t from = (c % stages) * stageDevices, to = ((c + 1) % stages) * stageDevices;
    const Link &link =
        cluster.nodeOf(from) == cluster.nodeOf(to) ? cluster.intraNode : cluster.interNode;
    transferSeconds.push_back(link.latency +
                              (link.bandwidth > 0 ? figures.cutBytes[c] / link.bandwidth : 0.0));
  }
  llvm::Expected<pipeline::Simulation> simulation = pipeline::simulate(
      *schedule, figures.chunkForwardSeconds, figures.chunkBackwardSeconds, transferSeconds);
  if (!simulation)
    return function.emitOpError() << "cannot be pipelined: "
                                  << llvm::toString(simulation.takeError());
  figures.cutTransferSeconds = transferSeconds;

  figures.stageWeightBytes.assign(stages, 0);
  figures.stageGradientBytes.assign(stages, 0);
  figures.stageOptimizerBytes.assign(stages, 0);
  figures.stageActivationBytes.assign(stages, 0);
  figures.stageInFlight.assign(stages, 0);
  figures.stageMemoryBytes.assign(stages, 0);
  figures.stageSeconds.assign(stages, 0.0);
  std::vector<double> stageUpdate(stages, 0.0);
  for (int64_t c = 0; c < chunks; ++c) {
    int64_t p = c % stages;
    figures.stageWeightBytes[p] += figures.chunkParameterBytes[c] / tp;
    figures.stageGradientBytes[p] += figures.chunkGradientBytes[c] / tp;
    figures.stageOptimizerBytes[p] += figures.chunkOptimizerBytes[c] / tp;
    stageUpdate[p] += figures.chunkUpdateSeconds[c];
  }
  // A parameter other stages read too (a tied embedding): each of them
  // holds a copy and accumulates its partial gradient; the owner keeps the
  // optimizer state.
  for (unsigned arg = 0; arg < function.getNumArguments(); ++arg) {
    ParamAttr param = getParamAttr(function, arg);
    if (!param)
      continue;
    int64_t ownerStage = assignment.argumentOwner[arg] % stages;
    Type type = function.getArgumentTypes()[arg];
    llvm::SmallDenseSet<int64_t> counted = {ownerStage};
    for (int64_t chunk : assignment.argumentForwardChunks[arg]) {
      int64_t p = chunk % stages;
      if (!counted.insert(p).second)
        continue;
      figures.stageWeightBytes[p] += getParameterBytes(type, precision) / tp;
      if (param.getKind() == ParamKind::trainable)
        figures.stageGradientBytes[p] += getActivationBytes(type, precision) / tp;
    }
  }
  for (int64_t p = 0; p < stages; ++p) {
    figures.stageInFlight[p] = pipeline::maxInFlight(*schedule, p);
    figures.stageActivationBytes[p] =
        pipeline::maxInFlightBytes(*schedule, p, figures.chunkActivationBytes);
    figures.stageMemoryBytes[p] = figures.stageWeightBytes[p] + figures.stageGradientBytes[p] +
                                  figures.stageOptimizerBytes[p] + figures.stageActivationBytes[p];
    figures.stageSeconds[p] = simulation->stageBusySeconds[p] + stageUpdate[p];
  }
  // The updates run after the pipeline drains, each stage its own.
  figures.bubble = simulation->bubble;
  figures.predictedStepSeconds = simulation->makespan + *llvm::max_element(stageUpdate);
  return figures;
}

DictionaryAttr mlir::cleave::buildPipelineAttr(MLIRContext *context, const SplitSettings &settings,
                                               const SplitFigures &figures) {
  Builder b(context);
  auto f64s = [&](llvm::ArrayRef<double> values) {
    SmallVector<Attribute> attrs;
    for (double value : values)
      attrs.push_back(b.getF64FloatAttr(value));
    return b.getArrayAttr(attrs);
  };
  auto i64s = [&](llvm::ArrayRef<int64_t> values) {
    SmallVector<Attribute> attrs;
    for (int64_t value : values)
      attrs.push_back(b.getI64IntegerAttr(value));
    return b.getArrayAttr(attrs);
  };
  SmallVector<Attribute> cuts, shared;
  for (const std::string &cut : figures.cuts)
    cuts.push_back(b.getStringAttr(cut));
  for (const SharedParameter &parameter : figures.sharedParameters)
    shared.push_back(b.getDictionaryAttr({b.getNamedAttr("name", b.getStringAttr(parameter.name)),
                                          b.getNamedAttr("chunks", i64s(parameter.chunks))}));
  SmallVector<NamedAttribute> entries = {
      b.getNamedAttr("stages", b.getI64IntegerAttr(settings.stages)),
      b.getNamedAttr("virtual_stages", b.getI64IntegerAttr(settings.virtualStages)),
      b.getNamedAttr("micro_batches", b.getI64IntegerAttr(settings.microBatches)),
      b.getNamedAttr("schedule", b.getStringAttr(settings.schedule)),
      b.getNamedAttr("cuts", b.getArrayAttr(cuts)),
      b.getNamedAttr("chunk_forward_seconds", f64s(figures.chunkForwardSeconds)),
      b.getNamedAttr("chunk_backward_seconds", f64s(figures.chunkBackwardSeconds)),
      b.getNamedAttr("chunk_parameter_bytes", i64s(figures.chunkParameterBytes)),
      b.getNamedAttr("chunk_activation_bytes", i64s(figures.chunkActivationBytes)),
      b.getNamedAttr("cut_bytes", i64s(figures.cutBytes)),
      b.getNamedAttr("stage_memory_bytes", i64s(figures.stageMemoryBytes)),
      b.getNamedAttr("stage_seconds", f64s(figures.stageSeconds)),
      b.getNamedAttr("predicted_step_seconds", b.getF64FloatAttr(figures.predictedStepSeconds)),
      b.getNamedAttr("bubble", b.getF64FloatAttr(figures.bubble)),
      // Beyond the contract's keys: the parts of the memory, for the report.
      b.getNamedAttr("layers", b.getI64IntegerAttr(figures.layers)),
      b.getNamedAttr("stage_weight_bytes", i64s(figures.stageWeightBytes)),
      b.getNamedAttr("stage_gradient_bytes", i64s(figures.stageGradientBytes)),
      b.getNamedAttr("stage_optimizer_bytes", i64s(figures.stageOptimizerBytes)),
      b.getNamedAttr("stage_activation_bytes", i64s(figures.stageActivationBytes)),
      b.getNamedAttr("stage_in_flight", i64s(figures.stageInFlight)),
      b.getNamedAttr("shared_parameters", b.getArrayAttr(shared)),
      b.getNamedAttr("p2p_seconds", f64s(figures.cutTransferSeconds)),
  };
  // Only where it is not the default, so fp32 splits print as before.
  if (settings.precision != "fp32")
    entries.push_back(b.getNamedAttr("precision", b.getStringAttr(settings.precision)));
  return b.getDictionaryAttr(entries);
}
