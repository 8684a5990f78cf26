//===- StepFunction.cpp - the body of the generated train step ------------===//
//
// Typed pointers to the arguments (the runtime's buffers) and into the
// workspace, the steps in order, then the copies of results into the
// arguments they update, the outputs and the loss.
//
//===----------------------------------------------------------------------===//
#include "compiler/Codegen/Emitter.h"
#include "compiler/Codegen/Rules.h"

#include "dialects/Cleave/IR/CleaveOps.h"

using namespace mlir;
using namespace mlir::cleave;
using namespace mlir::cleave::codegen;

SmallVector<Value> Emitter::workspaceValues() {
  SmallVector<Value> values;
  function.walk([&](Operation *op) {
    for (Value result : op->getResults()) {
      auto it = plan.storage.find(result);
      if (it != plan.storage.end() && it->second.kind == Storage::Kind::workspace)
        values.push_back(result);
    }
  });
  return values;
}

LogicalResult Emitter::emitStepFunction() {
  llvm::raw_string_ostream out(body);
  // Typed pointers to the arguments.
  unsigned params = 0, states = 0, inputs = 0;
  for (BlockArgument argument : function.getArguments()) {
    unsigned index = argument.getArgNumber();
    if (stepScalar(argument))
      continue;
    FailureOr<std::string> type = typeName(argument);
    if (failed(type))
      return failure();
    std::string source;
    if (fragment) {
      // The evaluation function reads the train step's tables, by name.
      std::string key;
      bool isParam = false;
      if (auto param = function.getArgAttrOfType<ParamAttr>(index, CleaveDialect::kParamAttrName)) {
        key = "param:" + param.getName().getValue().str();
        isParam = true;
      } else if (auto input =
                     function.getArgAttrOfType<StringAttr>(index, CleaveDialect::kInputAttrName)) {
        key = "input:" + input.getValue().str();
      }
      auto slot = fragmentSlots.find(key);
      if (slot == fragmentSlots.end() || slot->second.type != argument.getType())
        return function.emitOpError()
               << "argument #" << index << " ('" << key
               << "') is not an argument of the train step with the same per-device type";
      std::string position = std::to_string(slot->second.index);
      source = isParam ? "io.params[" + position + "]"
                       : "const_cast<void *>(io.inputs[" + position + "])";
    } else if (function.getArgAttr(index, CleaveDialect::kParamAttrName))
      source = "io.params[" + std::to_string(params++) + "]";
    else if (function.getArgAttr(index, CleaveDialect::kOptStateAttrName))
      source = "io.opt_state[" + std::to_string(states++) + "]";
    else
      source = "const_cast<void *>(io.inputs[" + std::to_string(inputs++) + "])";
    // A pipeline stage names only its own tensors (nvcc warns of the rest).
    if (stage >= 0 && !usesArgument(function, index))
      continue;
    out << "  " << *type << " *const " << names.get(argument) << " = static_cast<" << *type
        << " *>(" << source << ");\n";
  }
  // Typed pointers into the workspace, in the function's order so that the
  // generated source is the same on every run.
  for (Value value : workspaceValues()) {
    const Storage &storage = plan.storage.find(value)->second;
    FailureOr<std::string> type = typeName(value);
    if (failed(type))
      return failure();
    out << "  " << *type << " *const " << names.get(value) << " = reinterpret_cast<" << *type
        << " *>(workspace + " << storage.offset << ");\n";
  }
  SmallVector<std::pair<std::string, Value>> constantsByName;
  for (auto &[value, name] : constantArrays)
    constantsByName.push_back({name, value});
  llvm::sort(constantsByName, llvm::less_first());
  for (auto &[name, value] : constantsByName) {
    FailureOr<std::string> type = typeName(value);
    if (failed(type))
      return failure();
    target->emitConstantAccess(out, *type, name);
  }
  out << "  void *const scratch = workspace + " << plan.workspaceBytes << ";\n";
  out << "  (void)scratch;\n\n";
  for (const Step &step : schedule.steps) {
    if (step.loop >= 0 ? failed(emitLoop(step.loop)) : failed(emitLibraryCall(step.op)))
      return failure();
  }
  // Results into the arguments they update, the outputs, and the loss.
  auto returnOp = cast<func::ReturnOp>(function.getBody().front().getTerminator());
  for (auto [result, argument] : plan.copiesAtEnd) {
    FailureOr<std::string> from = pointer(result, returnOp);
    if (failed(from))
      return failure();
    out << target->copyStatement(names.get(function.getArgument(argument)), *from,
                                 valueBytes(result));
  }
  unsigned outputIndex = 0;
  for (auto [index, result] : llvm::enumerate(returnOp.getOperands())) {
    bool isOutput = function.getResultAttr(index, CleaveDialect::kOutputAttrName) != nullptr;
    if (!isOutput && !function.getResultAttr(index, CleaveDialect::kLossAttrName))
      continue;
    FailureOr<std::string> from = pointer(result, returnOp);
    if (failed(from))
      return failure();
    if (isOutput)
      out << target->copyStatement("io.outputs[" + std::to_string(outputIndex++) + "]", *from,
                                   valueBytes(result));
    else
      out << target->lossStatement(*from);
  }
  return success();
}
