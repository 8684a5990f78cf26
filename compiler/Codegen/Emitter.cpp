//===- Emitter.cpp - write the train step as C++ or CUDA C++ --------------===//
//
// 1. Legalise, schedule (fused loops + library calls) and plan memory.
// 2. Emit static arrays for the non-splat constants.
// 3. Emit the step function (StepFunction.cpp): typed pointers for every
//    stored value, then the steps in order (fused loops: FusedLoops.cpp;
//    library calls: the rule table, Rules.h), then the copies of results
//    into the arguments they update and the loss.
// 4. Emit the ModelInfo table (ModelTable.cpp) and main().
// What differs between CPU and CUDA source is the CodegenTarget's.
//
//===----------------------------------------------------------------------===//
#include "compiler/Codegen/Emitter.h"
#include "compiler/Codegen/Collectives.h"
#include "compiler/Codegen/Legalize.h"
#include "compiler/Codegen/Rules.h"

#include "dialects/Cleave/IR/CleaveOps.h"

#include "llvm/ADT/StringExtras.h"

using namespace mlir;
using namespace mlir::cleave;
using namespace mlir::cleave::codegen;

Emitter::Emitter(func::FuncOp function, const CodegenOptions &options, raw_ostream &os)
    : function(function), options(options), os(os), target(CodegenTarget::get(options.target)),
      names(function) {}

llvm::StringMap<Emitter::Slot> Emitter::slotsByName() {
  llvm::StringMap<Slot> slots;
  unsigned params = 0, inputs = 0;
  for (BlockArgument argument : function.getArguments()) {
    unsigned index = argument.getArgNumber();
    if (auto param = function.getArgAttrOfType<ParamAttr>(index, CleaveDialect::kParamAttrName))
      slots["param:" + param.getName().getValue().str()] = {params++, argument.getType()};
    else if (auto input =
                 function.getArgAttrOfType<StringAttr>(index, CleaveDialect::kInputAttrName))
      slots["input:" + input.getValue().str()] = {inputs++, argument.getType()};
  }
  return slots;
}

FailureOr<std::string> Emitter::typeName(Value value) {
  Operation *where = value.getDefiningOp();
  return cppElementType(typeOf(value).getElementType(), where ? where : function.getOperation());
}

std::optional<std::string> Emitter::stepScalar(Value value) {
  auto argument = dyn_cast<BlockArgument>(value);
  if (!argument)
    return std::nullopt;
  auto name = function.getArgAttrOfType<StringAttr>(argument.getArgNumber(),
                                                    CleaveDialect::kStepScalarAttrName);
  if (!name)
    return std::nullopt;
  return "s." + name.getValue().str();
}

FailureOr<std::string> Emitter::pointer(Value value, Operation *user) {
  Value storage = schedule.storageOf(value);
  auto constant = constantArrays.find(storage);
  if (constant != constantArrays.end())
    return target->constantPointer(constant->second);
  auto it = plan.storage.find(storage);
  // The memory plan places every value the schedule stores: a value
  // without a place is a bug in the schedule or the plan, not in the model.
  if (it == plan.storage.end())
    return user->emitOpError() << "reads or writes a value that has no storage in the memory "
                                  "plan (an internal codegen error: please report it with the "
                                  "model)";
  return names.get(it->second.kind == Storage::Kind::argument
                       ? Value(function.getArgument(it->second.argument))
                       : storage);
}

LogicalResult Emitter::emitConstants() {
  for (Operation &op : function.getBody().front()) {
    auto constant = dyn_cast<ConstantOp>(op);
    if (!constant || isSplatConstant(&op))
      continue;
    auto dense = dyn_cast<DenseElementsAttr>(constant.getValue());
    if (!dense)
      return constant.emitOpError() << "only dense constants can be emitted";
    FailureOr<std::string> type = typeName(constant.getResult());
    if (failed(type))
      return failure();
    std::string name = "kConstant" + std::to_string(constantArrays.size());
    SmallVector<std::string> elements;
    if (isa<FloatType>(dense.getElementType())) {
      for (APFloat value : dense.getValues<APFloat>())
        elements.push_back(floatLiteral(value.convertToDouble(), *type == "float"));
    } else {
      // Both branches int64_t: a conditional mixing getZExtValue's uint64_t
      // would print -1 as 18446744073709551615, which does not compile.
      for (APInt value : dense.getValues<APInt>())
        elements.push_back(std::to_string(dense.getElementType().isSignlessInteger(1)
                                              ? static_cast<int64_t>(value.getZExtValue())
                                              : value.getSExtValue()));
    }
    os << target->constantQualifier() << "const " << *type << " " << name << "[] = {"
       << llvm::join(elements, ", ") << "};\n";
    constantArrays[constant.getResult()] = name;
  }
  return success();
}

LogicalResult Emitter::emitLibraryCall(Operation *op) {
  const CallRule *rule = getRuleTable().lookupCall(op);
  if (!rule)
    return op->emitOpError() << "has no code generation rule";
  // The context keeps a function_ref to this lookup: it must outlive ctx,
  // so it is a named local, not a temporary in the constructor call.
  auto pointerOf = [&](Value value) { return pointer(value, op); };
  CallContext ctx(op, *target, options.precision, pointerOf, scratchExpressions);
  if (failed((*rule)(ctx)) || ctx.hasFailed())
    return failure();
  llvm::raw_string_ostream out(body);
  out << "  { // " << op->getName().getStringRef() << nodeComment(op) << "\n";
  out << ctx.getText();
  out << "  }\n";
  return success();
}

/// The program's entry points: main(), which hands the model table and the
/// step to the runtime's training loop, or the C symbols of a library.
LogicalResult Emitter::emitEntryPoints(bool grid) {
  bool cuda = options.target == Target::cuda;
  if (options.emitMain) {
    os << "int main(int argc, char **argv) {\n";
    os << "  cleave::rt::prepare_process(argv);\n";
    os << "  return cleave::rt::" << (cuda ? "cuda::" : "cpu::")
       << (grid ? "run_training_distributed" : "run_training")
       << "(argc, argv, makeModelInfo(), train_step);\n}\n";
  } else {
    const std::string &prefix = options.symbolPrefix;
    os << "extern \"C\" const cleave::rt::ModelInfo *" << prefix << "model_info() {\n";
    os << "  static const cleave::rt::ModelInfo model = makeModelInfo();\n  return &model;\n}\n\n";
    os << "extern \"C\" void " << prefix
       << "train_step(const cleave::rt::StepScalars *s, const cleave::rt::StepBuffers *io) {\n";
    os << "  train_step(*s, *io);\n}\n";
  }
  return success();
}

LogicalResult Emitter::prepare() {
  if (failed(legalizeForCodegen(function)))
    return failure();
  schedule = buildSchedule(function);
  plan = planMemory(function, schedule);
  // From the legalised function; in the function's order, whichever code
  // names them first.
  names = ValueNames(function);
  for (BlockArgument argument : function.getArguments())
    if (!stepScalar(argument))
      names.get(argument);
  for (Value value : workspaceValues())
    names.get(value);
  return success();
}

LogicalResult Emitter::emitFunction() {
  if (failed(emitConstants()))
    return failure();
  if (failed(emitLoopKernels()))
    return failure();
  body.clear();
  if (failed(emitStepFunction()))
    return failure();
  os << target->stepFunctionPrefix();
  os << "void train_step(const cleave::rt::StepScalars &s, const cleave::rt::StepBuffers &io) {\n";
  os << "  char *const workspace = static_cast<char *>(io.workspace);\n";
  os << body << "}\n\n";
  return success();
}

LogicalResult Emitter::emitEvalFragment() {
  if (failed(prepare()))
    return failure();
  os << "// Evaluation (@" << function.getSymName() << "): " << schedule.steps.size()
     << " steps, workspace " << plan.workspaceBytes << " bytes.\n";
  os << "namespace eval {\n\n";
  if (failed(emitFunction()))
    return failure();
  emitWorkspaceBytesFunction();
  os << "} // namespace eval\n\n";
  return success();
}

void Emitter::emitWorkspaceBytesFunction() {
  std::string scratch = "int64_t(0)";
  for (const std::string &expression : scratchExpressions)
    scratch = "std::max<int64_t>(" + scratch + ", " + expression + ")";
  os << "int64_t workspace_bytes() { return " << plan.workspaceBytes << " + " << scratch
     << "; }\n\n";
}

LogicalResult Emitter::run(CodegenReport *report, Emitter *eval) {
  if (failed(prepare()))
    return failure();

  os << "// Generated by cleavec from " << options.modelPath << "; do not edit.\n";
  os << "// Train step: " << schedule.steps.size() << " steps (" << schedule.loops.size()
     << " fused loops), workspace " << plan.workspaceBytes << " bytes (" << plan.naiveBytes
     << " without reuse).\n";
  if (options.precision == Precision::bf16)
    os << "// Precision bf16: matmul and conv2d operands rounded to bfloat16, fp32 sums; "
          "all else fp32.\n";
  target->emitIncludes(os, gridOf(function).has_value());
  os << "#include <algorithm>\n#include <cmath>\n#include <cstdint>\n#include <cstring>\n\n";
  os << "namespace {\n";
  os << "namespace K = " << target->kernelNamespace() << ";\n\n";
  if (failed(emitFunction()))
    return failure();
  // After the train step, so that its code reads first; inside its own
  // namespace, whose names shadow the train step's.
  if (eval) {
    eval->setEvalFragment(slotsByName());
    if (failed(eval->emitEvalFragment()))
      return failure();
    hasEval = true;
  }
  if (failed(emitModelTable()))
    return failure();

  if (report) {
    report->workspaceBytes = plan.workspaceBytes;
    report->naiveBytes = plan.naiveBytes;
    report->fusedLoops = schedule.loops.size();
    for (const FusedLoop &loop : schedule.loops)
      report->fusedOps += loop.ops.size();
    report->libraryCalls = schedule.steps.size() - schedule.loops.size();
  }
  return success();
}

LogicalResult codegen::emitTrainStep(ModuleOp module, const CodegenOptions &options,
                                     raw_ostream &os, CodegenReport *report) {
  auto function = module.lookupSymbol<func::FuncOp>(options.function);
  if (!function) {
    FailureOr<SmallVector<func::FuncOp>> stages = findPipelineStages(module, options.function);
    if (failed(stages))
      return failure();
    if (!stages->empty()) {
      // Pipeline programs have no evaluation function: a stage holds only
      // its part of the model.
      SmallVector<std::unique_ptr<Emitter>> emitters;
      for (func::FuncOp stage : *stages)
        emitters.push_back(std::make_unique<Emitter>(stage, options, os));
      Emitter top(stages->front(), options, os);
      return top.runPipeline(report, emitters);
    }
  }
  if (!function)
    return module.emitError() << "codegen needs a @" << options.function
                              << " function (run the train pipeline for @train_step)";
  Emitter emitter(function, options, os);
  if (options.evalFunction.empty())
    return emitter.run(report);
  auto eval = module.lookupSymbol<func::FuncOp>(options.evalFunction);
  if (!eval)
    return module.emitError() << "codegen: no @" << options.evalFunction
                              << " function (the train pipeline builds it with eval=true)";
  Emitter evalEmitter(eval, options, os);
  return emitter.run(report, &evalEmitter);
}
