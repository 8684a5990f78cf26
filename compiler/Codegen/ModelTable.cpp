//===- ModelTable.cpp - the runtime's description of the program ----------===//
//
// ModelInfo (runtime/include/cleave/rt/model.h): each parameter, optimizer
// state and input with its name, dtype and global shape (and sharding in a
// sharded program; "@<stages>:" first for a pipeline stage's own tensors),
// the workspace and scratch sizes, and the training defaults baked in from
// the command line.
//
//===----------------------------------------------------------------------===//
#include "compiler/Codegen/Collectives.h"
#include "compiler/Codegen/Emitter.h"
#include "compiler/Codegen/Rules.h"

#include "dialects/Cleave/IR/CleaveOps.h"

#include "llvm/Support/FormatVariadic.h"

using namespace mlir;
using namespace mlir::cleave;
using namespace mlir::cleave::codegen;

static const char *dtypeName(Type type) {
  if (type.isF32())
    return "f32";
  if (type.isF64())
    return "f64";
  if (type.isF16())
    return "f16";
  if (type.isBF16())
    return "bf16";
  if (type.isSignlessInteger(64))
    return "i64";
  if (type.isSignlessInteger(32))
    return "i32";
  if (type.isSignlessInteger(8))
    return "i8";
  if (type.isSignlessInteger(1))
    return "i1";
  return nullptr; // int16: the loops handle it, cleave::rt::DType does not
}

static std::string cString(StringRef text) {
  std::string quoted = "\"";
  for (char c : text) {
    if (c == '"' || c == '\\')
      quoted += '\\';
    quoted += c;
  }
  return quoted + "\"";
}

LogicalResult Emitter::emitModelTable() {
  SmallVector<std::string> params, states, inputs;
  for (BlockArgument argument : function.getArguments())
    if (!dtypeName(typeOf(argument).getElementType()))
      return function.emitOpError()
             << "argument #" << argument.getArgNumber() << " has element type "
             << typeOf(argument).getElementType()
             << ", which the runtime's tensor table (cleave::rt::DType) cannot describe";
  int shapeIndex = 0;
  // Tables list global shapes; a sharded program's step sees each rank's
  // block (Collectives.h, runtime distribution.h).
  SmallVector<std::string> paramShardings, stateShardings, inputShardings;
  auto spec = [&](StringRef name, RankedTensorType localType, unsigned argument,
                  SmallVectorImpl<std::string> &shardings) {
    ArgumentLayout layout = argumentLayout(layoutFunction(argument), argument);
    // Batch inputs are every stage's: each rank reads its data-parallel
    // block of the batch.
    std::string prefix = &shardings == &inputShardings ? "" : stagePrefix(argument);
    shardings.push_back(cString(prefix + layout.sharding));
    auto type = RankedTensorType::get(layout.globalShape, localType.getElementType());
    std::string shape = "kShape" + std::to_string(shapeIndex++);
    os << "const int64_t " << shape << "[] = {"
       << (type.getRank() ? shapeList(type.getShape()) : "0") << "};\n";
    return llvm::formatv("{{{0}, cleave::rt::DType::{1}, {2}, {3}}", cString(name),
                         dtypeName(type.getElementType()), type.getRank(), shape)
        .str();
  };
  for (BlockArgument argument : function.getArguments()) {
    unsigned index = argument.getArgNumber();
    RankedTensorType type = typeOf(argument);
    if (auto param = function.getArgAttrOfType<ParamAttr>(index, CleaveDialect::kParamAttrName))
      params.push_back("{" + spec(param.getName().getValue(), type, index, paramShardings) +
                       ", cleave::rt::ParamKind::" + stringifyParamKind(param.getKind()).str() +
                       "}");
    else if (auto state =
                 function.getArgAttrOfType<StringAttr>(index, CleaveDialect::kOptStateAttrName))
      states.push_back(spec(state.getValue(), type, index, stateShardings));
    else if (auto input =
                 function.getArgAttrOfType<StringAttr>(index, CleaveDialect::kInputAttrName))
      inputs.push_back(spec(input.getValue(), type, index, inputShardings));
  }
  auto array = [&](StringRef type, StringRef name, ArrayRef<std::string> entries) {
    os << "const " << type << " " << name << "[] = {\n";
    for (const std::string &entry : entries)
      os << "    " << entry << ",\n";
    if (entries.empty())
      os << "    {},\n"; // C++ has no empty arrays; the count says 0
    os << "};\n";
  };
  array("cleave::rt::ParamSpec", "kParams", params);
  array("cleave::rt::TensorSpec", "kOptState", states);
  array("cleave::rt::TensorSpec", "kInputs", inputs);
  std::optional<std::string> grid = gridOf(function);
  if (grid) {
    array("char *", "kParamShardings", paramShardings);
    array("char *", "kOptStateShardings", stateShardings);
    array("char *", "kInputShardings", inputShardings);
  }

  int64_t batch = 0;
  for (BlockArgument argument : function.getArguments())
    if (function.getArgAttr(argument.getArgNumber(), CleaveDialect::kInputAttrName) &&
        typeOf(argument).getRank() > 0) {
      batch = argumentLayout(function, argument.getArgNumber()).globalShape[0];
      break;
    }
  const TrainSettings &train = options.train;
  os << "\ncleave::rt::ModelInfo makeModelInfo() {\n";
  std::string scratch = "int64_t(0)";
  for (const std::string &expression : scratchExpressions)
    scratch = "std::max<int64_t>(" + scratch + ", " + expression + ")";
  os << "  cleave::rt::ModelInfo model{};\n";
  os << "  model.model_path = " << cString(options.modelPath) << ";\n";
  os << "  model.params = kParams;\n  model.num_params = " << params.size() << ";\n";
  os << "  model.opt_state = kOptState;\n  model.num_opt_state = " << states.size() << ";\n";
  os << "  model.inputs = kInputs;\n  model.num_inputs = " << inputs.size() << ";\n";
  if (stageFunctions.empty()) {
    os << "  model.workspace_bytes = " << plan.workspaceBytes << " + " << scratch << ";\n";
  } else {
    // A rank runs one stage: the workspace fits the largest.
    SmallVector<std::string> stages;
    for (size_t stage = 0; stage < stageFunctions.size(); ++stage)
      stages.push_back("stage" + std::to_string(stage) + "::workspace_bytes()");
    os << "  model.workspace_bytes = std::max<int64_t>({" << llvm::join(stages, ", ") << "});\n";
  }
  if (hasEval) {
    // One workspace serves both functions: they never run at once.
    os << "  model.workspace_bytes = std::max<int64_t>(model.workspace_bytes, "
          "eval::workspace_bytes());\n";
    os << "  model.eval_step = eval::train_step;\n";
  }
  // TrainDefaults are double: the host derives AdamW's per-step scalars
  // from them, so they must not pass through float (17 digits round-trip).
  auto exact = [](double value) { return llvm::formatv("{0:e16}", value).str(); };
  os << llvm::formatv(
      "  model.defaults = cleave::rt::TrainDefaults{{cleave::rt::OptimizerKind::{0}, "
      "{1}, {2}, {3}, {4}, {5}, {6}, {7}, cleave::rt::LrSchedule::{8}, {9}, {10}};\n",
      train.optimizer, exact(train.lr), exact(train.beta1), exact(train.beta2), exact(train.eps),
      exact(train.weightDecay), exact(train.momentum), exact(train.clipGradNorm), train.schedule,
      train.warmupSteps, batch);
  os << "  model.target = \"" << target->name() << "\";\n";
  if (grid) {
    os << "  model.grid = " << cString(*grid) << ";\n";
    os << "  model.param_shardings = kParamShardings;\n";
    os << "  model.opt_state_shardings = kOptStateShardings;\n";
    os << "  model.input_shardings = kInputShardings;\n";
  }
  os << "  return model;\n}\n\n} // namespace\n\n";
  return emitEntryPoints(grid.has_value());
}
