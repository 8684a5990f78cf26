//===- PlanJSON.cpp - a plan report for machines --------------------------===//
//
// The same content as the table; sizes in bytes, times in seconds.
//
//===----------------------------------------------------------------------===//
#include "compiler/Plan/PlanReport.h"

#include <algorithm>

using namespace mlir;
using namespace mlir::cleave;
namespace json = llvm::json;

static json::Value tensorsToJSON(const std::vector<PlanTensor> &tensors) {
  json::Array array;
  for (const PlanTensor &tensor : tensors) {
    json::Array shape;
    for (int64_t size : tensor.globalShape)
      shape.push_back(size);
    array.push_back(json::Object{{"name", tensor.name},
                                 {"shape", std::move(shape)},
                                 {"type", tensor.elementType},
                                 {"sharding", tensor.sharding},
                                 {"bytes_per_device", tensor.bytesPerDevice}});
  }
  return array;
}

template <typename T> static json::Value orNull(const std::optional<T> &value) {
  return value ? json::Value(*value) : json::Value(nullptr);
}

static json::Array integers(const std::vector<int64_t> &values) {
  json::Array array;
  for (int64_t value : values)
    array.push_back(value);
  return array;
}

/// Disjoint parts that sum to the total (the HTML page's stacked bars).
static json::Value partsToJSON(const PlanMemoryParts &parts) {
  return json::Object{{"parameters", parts.parameters},
                      {"gradients", parts.gradients},
                      {"optimizer_state", parts.optimizerState},
                      {"activations", parts.activations},
                      {"workspace", parts.workspace},
                      {"batch_inputs", parts.inputs}};
}

/// The pipeline section: the split's figures, unknown ones null.
static json::Value pipelineToJSON(const PlanReport &report) {
  const PlanPipeline &pipeline = *report.pipeline;
  const std::vector<PlanStageProgram> &programs = report.stagePrograms;
  int64_t capacity = report.cluster.memoryCapacity;
  json::Array chunks;
  for (const PlanChunk &chunk : pipeline.chunks)
    chunks.push_back(json::Object{{"chunk", chunk.chunk},
                                  {"stage", chunk.stage},
                                  {"first_node", chunk.firstNode},
                                  {"last_node", chunk.lastNode},
                                  {"forward_seconds", orNull(chunk.forwardSeconds)},
                                  {"backward_seconds", orNull(chunk.backwardSeconds)},
                                  {"parameter_bytes", orNull(chunk.parameterBytes)},
                                  {"activation_bytes", orNull(chunk.activationBytes)}});
  json::Array stages;
  for (const PlanStage &stage : pipeline.stageList) {
    json::Value fits = nullptr;
    if (stage.memoryBytes)
      fits = *stage.memoryBytes <= capacity;
    json::Value program = nullptr;
    for (const PlanStageProgram &priced : programs)
      if (priced.stage == stage.stage)
        program = json::Object{{"compute", priced.computeSeconds},
                               {"communication", priced.communicationSeconds},
                               {"parameters", priced.memory.parameters},
                               {"optimizer_state", priced.memory.optimizerState},
                               {"batch_inputs", priced.memory.inputs},
                               {"workspace", priced.memory.workspace},
                               {"workspace_is_upper_bound", !priced.memory.workspaceNote.empty()},
                               {"total", priced.memory.total()},
                               {"fits", priced.memory.total() <= capacity}};
    std::optional<PlanMemoryParts> parts = stageMemoryParts(report, stage);
    stages.push_back(json::Object{{"stage", stage.stage},
                                  {"program", std::move(program)},
                                  {"chunks", integers(stage.chunks)},
                                  {"seconds", orNull(stage.seconds)},
                                  {"weights", orNull(stage.weightBytes)},
                                  {"gradients", orNull(stage.gradientBytes)},
                                  {"optimizer_state", orNull(stage.optimizerBytes)},
                                  {"activations_in_flight", orNull(stage.activationBytes)},
                                  {"micro_batches_in_flight", orNull(stage.inFlight)},
                                  {"memory", orNull(stage.memoryBytes)},
                                  {"capacity", capacity},
                                  {"fits", std::move(fits)},
                                  {"parts", parts ? partsToJSON(*parts) : json::Value(nullptr)}});
  }
  json::Array cuts;
  size_t cutCount = std::max(pipeline.cuts.size(), pipeline.cutBytes.size());
  for (size_t index = 0; index < cutCount; ++index)
    cuts.push_back(json::Object{
        {"after",
         index < pipeline.cuts.size() ? json::Value(pipeline.cuts[index]) : json::Value(nullptr)},
        {"bytes", index < pipeline.cutBytes.size() ? json::Value(pipeline.cutBytes[index])
                                                   : json::Value(nullptr)}});
  json::Array shared;
  for (const PlanSharedParameter &parameter : pipeline.sharedParameters)
    shared.push_back(
        json::Object{{"name", parameter.name}, {"chunks", integers(parameter.chunks)}});
  json::Array missing;
  for (const std::string &key : pipeline.missingKeys)
    missing.push_back(key);
  json::Array timeline;
  for (const PlanTimelineEntry &entry : pipeline.timeline)
    timeline.push_back(
        json::Object{{"stage", entry.stage},
                     {"micro_batch",
                      entry.microBatch < 0 ? json::Value(nullptr) : json::Value(entry.microBatch)},
                     {"chunk", entry.chunk < 0 ? json::Value(nullptr) : json::Value(entry.chunk)},
                     {"kind", entry.kind},
                     {"start", entry.start},
                     {"end", entry.end}});
  return json::Object{{"stages", orNull(pipeline.stages)},
                      {"virtual_stages", orNull(pipeline.virtualStages)},
                      {"micro_batches", orNull(pipeline.microBatches)},
                      {"schedule", pipeline.schedule.empty() ? json::Value(nullptr)
                                                             : json::Value(pipeline.schedule)},
                      {"bubble", orNull(pipeline.bubble)},
                      {"bubble_formula", orNull(pipeline.formulaBubble())},
                      {"predicted_step_seconds", orNull(pipeline.predictedStepSeconds)},
                      {"chunks", std::move(chunks)},
                      {"per_stage", std::move(stages)},
                      {"cuts", std::move(cuts)},
                      {"shared_parameters", std::move(shared)},
                      {"missing_keys", std::move(missing)},
                      {"timeline", std::move(timeline)},
                      {"timeline_seconds", pipeline.timeline.empty()
                                               ? json::Value(nullptr)
                                               : json::Value(pipeline.timelineSeconds)},
                      {"fits", pipeline.firstStageOver(capacity) < 0}};
}

/// The contract's `configuration` (docs/planner.md).
static json::Value configurationToJSON(const PlanConfiguration &config) {
  json::Array alternatives;
  for (const PlanConfiguration::Alternative &other : config.alternatives)
    alternatives.push_back(json::Object{{"spec", other.spec},
                                        {"step_seconds", other.stepSeconds},
                                        {"memory_bytes", other.memoryBytes},
                                        {"fits", other.fits}});
  return json::Object{{"spec", config.spec},
                      {"pp", config.pp},
                      {"dp", config.dp},
                      {"tp", config.tp},
                      {"micro_batches", config.microBatches},
                      {"schedule", config.schedule},
                      {"virtual_stages", config.virtualStages},
                      {"recompute", config.recompute},
                      {"zero", config.zero},
                      {"sequence_parallel", config.sequenceParallel},
                      {"precision", config.precision},
                      {"predicted_step_seconds", config.predictedStepSeconds},
                      {"memory_bytes", config.memoryBytes},
                      {"fits", config.fits},
                      {"chosen_by", config.chosenBy},
                      {"search_seconds", config.searchSeconds},
                      {"configurations_priced", config.configurationsPriced},
                      {"alternatives", std::move(alternatives)}};
}

json::Value mlir::cleave::planToJSON(const PlanReport &report) {
  json::Object grid{{"spec", report.grid}, {"devices", report.devices()}, {"zero", report.zero}};
  json::Array axes;
  for (auto [index, name] : llvm::enumerate(report.axisNames))
    axes.push_back(json::Object{
        {"name", name},
        {"size", report.gridShape[index]},
        {"role", index < report.axisRoles.size() ? report.axisRoles[index] : std::string()},
        {"sequence_parallel",
         index < report.axisSequenceParallel.size() && report.axisSequenceParallel[index]}});
  grid["axes"] = std::move(axes);
  json::Array idle;
  for (const std::string &axis : report.idleAxes)
    idle.push_back(axis);
  grid["idle_axes"] = std::move(idle);

  json::Array collectives;
  for (const PlanCollective &c : report.collectives)
    collectives.push_back(json::Object{{"kind", c.kind},
                                       {"axes", c.axes},
                                       {"bytes_per_device", c.bytes},
                                       {"algorithm", c.algorithm},
                                       {"seconds_each", c.seconds},
                                       {"count", c.count},
                                       {"seconds_total", c.seconds * c.count},
                                       {"exposed_s", c.exposedSeconds},
                                       {"schedule", c.schedule}});
  json::Array compute;
  for (const PlanOpTime &op : report.compute)
    compute.push_back(json::Object{{"op", op.op}, {"count", op.count}, {"seconds", op.seconds}});

  json::Array slowest;
  for (const PlanOpTime &op : report.slowestOps)
    slowest.push_back(json::Object{{"op", op.op}, {"seconds", op.seconds}});

  const PlanMemory &memory = report.memory;
  PlanMemoryParts parts = memoryParts(memory);
  json::Object memoryObject{{"parameters", memory.parameters},
                            {"optimizer_state", memory.optimizerState},
                            {"batch_inputs", memory.inputs},
                            {"workspace", memory.workspace},
                            {"workspace_is_upper_bound", !memory.workspaceNote.empty()},
                            {"total", memory.total()},
                            {"capacity", report.cluster.memoryCapacity},
                            {"gradients", parts.gradients},
                            {"activations", parts.activations},
                            {"parts", partsToJSON(parts)},
                            {"fits", report.fits()}};
  json::Object step{{"compute", report.computeSeconds},
                    {"communication", report.communicationSeconds},
                    {"exposed_communication", report.exposedSeconds},
                    {"total", report.stepSeconds()},
                    {"communication_s", report.communicationSeconds},
                    {"exposed_communication_s", report.exposedSeconds},
                    {"launch_overhead_s", report.launchSeconds},
                    {"kernels", report.kernels},
                    {"overlap_modelled", report.overlapModelled}};
  if (report.pipeline && report.pipeline->predictedStepSeconds)
    step["pipeline"] = *report.pipeline->predictedStepSeconds;
  json::Object result{{"grid", std::move(grid)},
                      {"cluster", clusterToJSON(report.cluster)},
                      {"parameters", tensorsToJSON(report.parameters)},
                      {"optimizer_state", tensorsToJSON(report.optimizerState)},
                      {"batch_inputs", tensorsToJSON(report.inputs)},
                      {"activations", tensorsToJSON(report.activations)},
                      {"collectives", std::move(collectives)},
                      {"compute", std::move(compute)},
                      {"slowest_ops", std::move(slowest)},
                      {"memory_per_device", std::move(memoryObject)},
                      {"step_seconds", std::move(step)}};
  if (report.pipeline)
    result["pipeline"] = pipelineToJSON(report);
  result["precision"] = report.precision;
  result["precision_note"] =
      report.precisionNote.empty() ? json::Value(nullptr) : json::Value(report.precisionNote);
  result["executable_memory_per_device"] = orNull(report.executableBytes);
  if (report.configuration)
    result["configuration"] = configurationToJSON(*report.configuration);
  if (!report.notUnrolled.empty())
    result["not_unrolled"] = report.notUnrolled;
  return result;
}

json::Value mlir::cleave::planComparisonToJSON(const PlanReport &chosen,
                                               const PlanReport &alternative) {
  return json::Object{
      {"chosen", planToJSON(chosen)},
      {"alternative", planToJSON(alternative)},
      {"difference",
       json::Object{
           {"step_seconds", alternative.stepSeconds() - chosen.stepSeconds()},
           {"compute_seconds", alternative.computeSeconds - chosen.computeSeconds},
           {"exposed_communication_seconds", alternative.exposedSeconds - chosen.exposedSeconds},
           {"memory_per_device_bytes", alternative.memory.total() - chosen.memory.total()}}}};
}
