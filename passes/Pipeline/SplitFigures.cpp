//===- SplitFigures.cpp - the time and memory of a pipeline split ---------===//
#include "passes/Pipeline/SplitFigures.h"

#include "dialects/Cleave/IR/CleaveDialect.h"
#include "dialects/Cleave/IR/CleaveOps.h"
#include "dialects/Cleave/Interfaces/CostInterface.h"
#include "passes/Analysis/Cost/CollectiveCost.h"
#include "passes/Analysis/Cost/ComputeCost.h"
#include "passes/Analysis/Cost/Precision.h"
#include "passes/Analysis/Pipeline/Schedule.h"
#include "passes/TrainStepAttrs.h"

#include "mlir/IR/Builders.h"
#include "llvm/ADT/DenseSet.h"

#include <algorithm>
#include <map>
#include <tuple>

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

double mlir::cleave::stageTransferSeconds(const Cluster &cluster, int64_t stageDevices,
                                          int64_t fromStage, int64_t toStage, int64_t bytes) {
  bool sameNode =
      cluster.nodeOf(fromStage * stageDevices) == cluster.nodeOf(toStage * stageDevices);
  GroupPlacement pair{/*size=*/2, /*nodes=*/sameNode ? 1 : 2,
                      /*devicesPerNode=*/sameNode ? 2 : 1};
  return collectiveTime(CollectiveKind::sendRecv, CollectiveAlgorithm::direct, bytes, pair,
                        cluster);
}

/// The partial gradients are queued on their link (one after the other,
/// each leaving when its backward ended) against the simulated start of the
/// owner's backward: the simulation itself knows only the cuts' transfers.
SharedTraffic mlir::cleave::priceSharedTransfers(const pipeline::PipelineSchedule &schedule,
                                                 const pipeline::Simulation &simulation,
                                                 llvm::ArrayRef<SharedTransfer> transfers,
                                                 llvm::ArrayRef<int64_t> cutBytes, int64_t tp,
                                                 const Cluster &cluster, int64_t stageDevices) {
  int64_t stages = schedule.stages, m = schedule.microBatches;
  auto send = [&](int64_t from, int64_t to, int64_t bytes) {
    return stageTransferSeconds(cluster, stageDevices, from, to, bytes);
  };
  SharedTraffic traffic;
  traffic.sendBackSeconds.assign(stages, 0.0);
  // When each (kind, chunk, micro-batch) ran.
  std::map<std::tuple<int, int, int>, pipeline::ActionTiming> timings;
  for (int64_t p = 0; p < stages; ++p)
    for (auto [action, timing] : llvm::zip(schedule.stageActions[p], simulation.timings[p]))
      timings[{action.kind, action.chunk, action.microBatch}] = timing;
  for (const SharedTransfer &transfer : transfers) {
    int64_t reader = transfer.readerChunk, owner = transfer.ownerChunk;
    int64_t from = reader % stages, to = owner % stages;
    int64_t bytes = transfer.bytes / tp;
    traffic.sendBackSeconds[to] += send(to, from, bytes);
    // The neighbour cut's activation gradient leaves on the same link at
    // the same moment, and the owner's backward waits for both.
    if (reader > 0 && (reader - 1) % stages == to)
      bytes += cutBytes[reader - 1];
    double alone = send(from, to, bytes), latency = send(from, to, 0);
    double linkFree = 0;
    for (int64_t micro = 0; micro < m; ++micro) {
      auto sent = timings.find({pipeline::Action::backward, reader, micro});
      auto needed = timings.find({pipeline::Action::backward, owner, micro});
      if (sent == timings.end() || needed == timings.end())
        continue;
      double leaves = std::max(sent->second.end, linkFree);
      linkFree = leaves + (alone - latency);
      traffic.delaySeconds = std::max(traffic.delaySeconds, leaves + alone - needed->second.start);
    }
  }
  return traffic;
}

/// The trainable parameters several stages read, as (reader chunk, owner
/// chunk, bytes) pairs; one per reader stage other than the owner's.
static std::vector<SharedTransfer>
findSharedTransfers(func::FuncOp function, const ChunkAssignment &assignment, int64_t stages) {
  std::map<std::pair<int64_t, int64_t>, int64_t> bytesOf;
  for (unsigned arg = 0; arg < function.getNumArguments(); ++arg) {
    ParamAttr param = getParamAttr(function, arg);
    // A frozen parameter has no gradient and is never updated.
    if (!param || param.getKind() != ParamKind::trainable ||
        assignment.argumentForwardChunks[arg].size() < 2)
      continue;
    int64_t owner = assignment.argumentOwner[arg];
    llvm::SmallDenseSet<int64_t> readerStages = {owner % stages};
    for (int64_t reader : assignment.argumentForwardChunks[arg])
      if (readerStages.insert(reader % stages).second)
        bytesOf[{reader, owner}] += getTensorBytes(function.getArgumentTypes()[arg]);
  }
  std::vector<SharedTransfer> transfers;
  for (auto [chunks, bytes] : bytesOf)
    transfers.push_back({chunks.first, chunks.second, bytes});
  return transfers;
}

static bool isFusedElementwise(Operation *op) {
  return isa<UnaryOp, BinaryOp, CompareOp, SelectOp, CastOp, BroadcastOp, RandomMaskOp>(op);
}

bool mlir::cleave::countKernel(Operation *op, Operation *previous) {
  if (isa<ReshapeOp, ConstantOp>(op))
    return false;
  if (!isFusedElementwise(op))
    return true;
  return !previous || !isFusedElementwise(previous);
}

double mlir::cleave::kernelFixedSeconds(int64_t kernels, double launch, int64_t parts) {
  return static_cast<double>(kernels) * launch *
         (1.0 - 1.0 / static_cast<double>(std::max<int64_t>(parts, 1)));
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
  figures.chunkForwardKernels.assign(chunks, 0);
  figures.chunkBackwardKernels.assign(chunks, 0);

  // Forward and backward run per micro-batch on a dp x tp stage; the
  // update once per step, split tp ways.
  std::vector<llvm::DenseSet<Value>> stashed(chunks);
  Operation *previous = nullptr;
  for (Operation *op : phases.getOps()) {
    const OpRole *role = phases.getRole(op);
    int64_t chunk = assignment.chunkOf.lookup(op);
    bool kernel = countKernel(op, previous);
    if (!isa<ReshapeOp, ConstantOp>(op))
      previous = op;
    switch (role->phase) {
    case SplitPhase::forward:
      figures.chunkForwardSeconds[chunk] += computeTime(op, cluster, dp * tp, compute) / m;
      figures.chunkForwardKernels[chunk] += kernel;
      break;
    case SplitPhase::backward:
      figures.chunkBackwardSeconds[chunk] += computeTime(op, cluster, dp * tp, compute) / m;
      figures.chunkBackwardKernels[chunk] += kernel;
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
  // The work divides by M, a kernel's fixed cost (its call or launch) does
  // not: M micro-batches run every kernel M times. Measured on the 2-core
  // VM (docs/benchmarks.md): gpt_small on one rank takes ~1.4 ms more with
  // 4 micro-batches than with 1, which a linear share of the step cannot
  // predict and which made the search pick many small micro-batches.
  for (int64_t c = 0; c < chunks; ++c) {
    figures.chunkForwardSeconds[c] +=
        kernelFixedSeconds(figures.chunkForwardKernels[c], cluster.kernelLaunch, m * dp * tp);
    figures.chunkBackwardSeconds[c] +=
        kernelFixedSeconds(figures.chunkBackwardKernels[c], cluster.kernelLaunch, m * dp * tp);
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
  // Messages between stages: stageTransferSeconds, stage p's devices being
  // ranks p * dp * tp onwards (pp is the grid's slowest axis).
  int64_t stageDevices = dp * tp;
  std::vector<double> transferSeconds;
  for (int64_t c = 0; c + 1 < chunks; ++c)
    transferSeconds.push_back(stageTransferSeconds(cluster, stageDevices, c % stages,
                                                   (c + 1) % stages, figures.cutBytes[c]));
  llvm::Expected<pipeline::Simulation> simulation = pipeline::simulate(
      *schedule, figures.chunkForwardSeconds, figures.chunkBackwardSeconds, transferSeconds);
  if (!simulation)
    return function.emitOpError() << "cannot be pipelined: "
                                  << llvm::toString(simulation.takeError());
  figures.cutTransferSeconds = transferSeconds;
  figures.sharedTransfers = findSharedTransfers(function, assignment, stages);
  SharedTraffic shared = priceSharedTransfers(*schedule, *simulation, figures.sharedTransfers,
                                              figures.cutBytes, tp, cluster, stageDevices);

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
  // A shared parameter's owner updates it once the readers' partial
  // gradients are in and sends the new value back before the step ends.
  double finish = *llvm::max_element(stageUpdate);
  for (int64_t p = 0; p < stages; ++p)
    finish = std::max(finish, stageUpdate[p] + shared.sendBackSeconds[p]);
  figures.predictedStepSeconds = simulation->makespan + shared.delaySeconds + finish;
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
