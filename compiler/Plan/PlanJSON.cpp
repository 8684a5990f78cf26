//===- PlanJSON.cpp - a plan report for machines --------------------------===//
//
// The same content as the table; sizes in bytes, times in seconds.
//
//===----------------------------------------------------------------------===//
#include "compiler/Plan/PlanReport.h"

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

json::Value mlir::cleave::planToJSON(const PlanReport &report) {
  json::Object grid{{"spec", report.grid}, {"devices", report.devices()}, {"zero", report.zero}};
  json::Array axes;
  for (auto [index, name] : llvm::enumerate(report.axisNames))
    axes.push_back(json::Object{
        {"name", name},
        {"size", report.gridShape[index]},
        {"role", index < report.axisRoles.size() ? report.axisRoles[index] : std::string()}});
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
                                       {"seconds_total", c.seconds * c.count}});
  json::Array compute;
  for (const PlanOpTime &op : report.compute)
    compute.push_back(json::Object{{"op", op.op}, {"count", op.count}, {"seconds", op.seconds}});

  json::Array slowest;
  for (const PlanOpTime &op : report.slowestOps)
    slowest.push_back(json::Object{{"op", op.op}, {"seconds", op.seconds}});

  const PlanMemory &memory = report.memory;
  json::Object memoryObject{{"parameters", memory.parameters},
                            {"optimizer_state", memory.optimizerState},
                            {"batch_inputs", memory.inputs},
                            {"workspace", memory.workspace},
                            {"workspace_is_upper_bound", !memory.workspaceNote.empty()},
                            {"total", memory.total()},
                            {"capacity", report.cluster.memoryCapacity},
                            {"fits", report.fits()}};
  json::Object step{{"compute", report.computeSeconds},
                    {"communication", report.communicationSeconds},
                    {"exposed_communication", report.exposedSeconds},
                    {"total", report.stepSeconds()},
                    {"overlap_modelled", false}};
  return json::Object{{"grid", std::move(grid)},
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
