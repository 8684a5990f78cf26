//===- Importer.cpp - ONNX graph -> cleave dialect ------------------------===//
//
// 1. Parse and validate (ModelLoader): opset, checker, static input shapes,
//    external data; every op must have a rule.
// 2. Sort initializers: float tensors become parameter arguments (their
//    values stay in the file); integer/bool ones and exporter scalars
//    become compile-time constants that fold shape arithmetic.
// 3. Translate nodes in order through the rule table, verifying the IR
//    each rule builds.
// 4. Run ONNX shape inference and cross-check every static type with it.
// 5. Return the graph outputs, drop dead IR, verify.
//
//===----------------------------------------------------------------------===//
#include "compiler/Importer/Importer.h"

#include "compiler/Importer/ModelLoader.h"
#include "compiler/Importer/NodeContext.h"
#include "dialects/Cleave/IR/CleaveOps.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/Verifier.h"
#include "mlir/Transforms/RegionUtils.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/GlobPattern.h"
#include "llvm/Support/Path.h"

#include <set>

using namespace mlir;
using namespace mlir::cleave;
using namespace mlir::cleave::importer;

static llvm::Error makeError(const std::string &message) {
  return llvm::createStringError(llvm::inconvertibleErrorCode(), message);
}

static std::string typeText(Type type) {
  std::string text;
  llvm::raw_string_ostream os(text);
  os << type;
  return text;
}

/// Exporters turn Python scalars into one-element initializers named
/// "onnx::..." (after constant folding); those are constants, not weights.
static bool isExporterScalar(const onnx::TensorProto &tensor) {
  int64_t count = 1;
  for (int64_t dim : tensor.dims())
    count *= dim;
  return count <= 1 && llvm::StringRef(tensor.name()).starts_with("onnx::");
}

static bool isFloatTensor(const onnx::TensorProto &tensor) {
  switch (tensor.data_type()) {
  case onnx::TensorProto::FLOAT:
  case onnx::TensorProto::DOUBLE:
  case onnx::TensorProto::FLOAT16:
  case onnx::TensorProto::BFLOAT16:
    return true;
  default:
    return false;
  }
}

static llvm::Expected<RankedTensorType>
convertTensorType(const onnx::TypeProto &type, const std::string &name, MLIRContext *context) {
  const onnx::TypeProto::Tensor &tensor = type.tensor_type();
  Type elementType = convertElementType(tensor.elem_type(), context);
  if (!elementType)
    return makeError("'" + name + "' has element type " + onnxTypeName(tensor.elem_type()) +
                     ", which Cleave does not support");
  SmallVector<int64_t> shape;
  for (const auto &dim : tensor.shape().dim())
    shape.push_back(dim.has_dim_value() ? dim.dim_value() : ShapedType::kDynamic);
  return RankedTensorType::get(shape, elementType);
}

/// The static type ONNX inferred for `name`, if it inferred one.
static std::optional<RankedTensorType>
inferredType(const std::unordered_map<std::string, onnx::TypeProto> &inferred,
             const std::string &name, MLIRContext *context) {
  auto it = inferred.find(name);
  if (it == inferred.end() || !it->second.has_tensor_type() ||
      !it->second.tensor_type().has_shape())
    return std::nullopt;
  llvm::Expected<RankedTensorType> type = convertTensorType(it->second, name, context);
  if (!type) {
    llvm::consumeError(type.takeError());
    return std::nullopt;
  }
  if (!type->hasStaticShape())
    return std::nullopt;
  return *type;
}

static std::string supportedOpsList() { return llvm::join(getSupportedOnnxOps(), ", "); }

/// Every node must have an import rule; the first that does not is named
/// with its opset and the list of supported ops.
static llvm::Error checkSupportedOps(const onnx::GraphProto &graph, int64_t opset) {
  for (const onnx::NodeProto &node : graph.node()) {
    std::string where = describeNode(node);
    if (!node.domain().empty() && node.domain() != "ai.onnx")
      return makeError(
          "unsupported op '" + node.domain() + "." + node.op_type() + "' (" + where +
          "): only the default ONNX domain is supported. Supported ops: " + supportedOpsList());
    if (!getRuleTable().lookup(node.op_type()))
      return makeError("unsupported ONNX op '" + node.op_type() + "' (" + where + ", opset " +
                       std::to_string(opset) + "). Supported ops: " + supportedOpsList());
  }
  return llvm::Error::success();
}

namespace {
/// Builds the forward function of one model.
class GraphImporter {
public:
  GraphImporter(onnx::ModelProto &model, int64_t opset, MLIRContext &context,
                const std::vector<std::string> &freeze)
      : model(model), graph(model.graph()), opset(opset), context(context), builder(&context),
        freeze(freeze) {}

  llvm::Expected<OwningOpRef<ModuleOp>> run(const std::string &source);

private:
  llvm::Error declareArguments(func::FuncOp function);
  llvm::Error importNode(const onnx::NodeProto &node);
  llvm::Error checkAgainstInference();

  onnx::ModelProto &model;
  const onnx::GraphProto &graph;
  int64_t opset;
  MLIRContext &context;
  /// What ONNX shape inference says of each value it could type.
  std::unordered_map<std::string, onnx::TypeProto> inferred;
  OpBuilder builder;
  ValueTable table;
  /// Names some node or graph output reads; other outputs may stay unbuilt.
  std::set<std::string> usedNames;
  /// ImportOptions::freeze.
  const std::vector<std::string> &freeze;
};
} // namespace

llvm::Error GraphImporter::declareArguments(func::FuncOp function) {
  std::set<std::string> &used = usedNames;
  for (const onnx::NodeProto &node : graph.node())
    for (const std::string &input : node.input())
      used.insert(input);
  for (const onnx::ValueInfoProto &output : graph.output())
    used.insert(output.name());
  // BatchNormalization's running statistics are state, not weights.
  std::set<std::string> buffers;
  for (const onnx::NodeProto &node : graph.node())
    if (node.op_type() == "BatchNormalization")
      for (int i = 3; i < std::min(node.input_size(), 5); ++i)
        buffers.insert(node.input(i));
  // Tensors nothing updates: the model's own list (PyTorch's registered
  // buffers, which ONNX exports as plain initializers) and --freeze. Names
  // in the list that are not parameters are ignored: exporters drop unused
  // buffers (num_batches_tracked).
  std::set<std::string> frozenNames;
  for (const onnx::StringStringEntryProto &entry : model.metadata_props())
    if (entry.key() == kFrozenMetadataKey) {
      SmallVector<StringRef> names;
      StringRef(entry.value()).split(names, ',', -1, /*KeepEmpty=*/false);
      for (StringRef name : names)
        frozenNames.insert(name.trim().str());
    }
  std::vector<llvm::GlobPattern> patterns;
  std::vector<bool> patternMatched(freeze.size(), false);
  for (const std::string &text : freeze) {
    llvm::Expected<llvm::GlobPattern> pattern = llvm::GlobPattern::create(text);
    if (!pattern)
      return makeError("--freeze '" + text +
                       "' is not a valid pattern: " + llvm::toString(pattern.takeError()));
    patterns.push_back(std::move(*pattern));
  }

  SmallVector<Type> argumentTypes;
  SmallVector<NamedAttribute> argumentAttrs;
  std::set<std::string> initializerNames;
  Block &body = function.getBody().front();
  for (const onnx::TensorProto &tensor : graph.initializer()) {
    initializerNames.insert(tensor.name());
    if (!used.count(tensor.name()))
      continue;
    Type elementType = convertElementType(tensor.data_type(), &context);
    if (!elementType)
      return makeError("initializer '" + tensor.name() + "' has element type " +
                       onnxTypeName(tensor.data_type()) + ", which Cleave does not support");
    std::vector<int64_t> shape(tensor.dims().begin(), tensor.dims().end());
    if (!getElementCount(shape))
      return makeError("initializer '" + tensor.name() +
                       "' has negative dimensions or more elements than int64 can count");
    if (isFloatTensor(tensor) && !isExporterScalar(tensor)) {
      auto type = RankedTensorType::get(shape, elementType);
      bool frozen = frozenNames.count(tensor.name()) > 0;
      for (auto [index, pattern] : llvm::enumerate(patterns))
        if (pattern.match(tensor.name()))
          patternMatched[index] = frozen = true;
      // Frozen tensors are buffers, as in PyTorch: no gradient, no
      // optimizer state; only a forward that writes them (BatchNorm's
      // running statistics) updates them, and nothing writes a rotary table.
      ParamKind kind =
          buffers.count(tensor.name()) || frozen ? ParamKind::buffer : ParamKind::trainable;
      BlockArgument argument = body.addArgument(type, function.getLoc());
      argumentTypes.push_back(type);
      argumentAttrs.push_back(builder.getNamedAttr(
          CleaveDialect::kParamAttrName,
          ParamAttr::get(&context, builder.getStringAttr(tensor.name()), kind)));
      table.values[tensor.name()] = ImportedValue{argument, std::nullopt};
      continue;
    }
    llvm::Expected<HostTensor> value = HostTensor::fromProto(tensor, elementType);
    if (!value)
      return makeError("initializer " + llvm::toString(value.takeError()));
    table.values[tensor.name()] = ImportedValue{Value(), std::move(*value)};
  }
  for (const onnx::ValueInfoProto &input : graph.input()) {
    if (initializerNames.count(input.name()))
      continue;
    llvm::Expected<RankedTensorType> type = convertTensorType(input.type(), input.name(), &context);
    if (!type)
      return type.takeError();
    BlockArgument argument = body.addArgument(*type, function.getLoc());
    argumentTypes.push_back(*type);
    argumentAttrs.push_back(
        builder.getNamedAttr(CleaveDialect::kInputAttrName, builder.getStringAttr(input.name())));
    table.values[input.name()] = ImportedValue{argument, std::nullopt};
  }
  for (auto [index, matched] : llvm::enumerate(patternMatched))
    if (!matched)
      return makeError("--freeze '" + freeze[index] +
                       "' matches no parameter of the model (parameters are named after its float "
                       "initializers; `cleavec MODEL --emit=summary` lists them)");
  function.setType(builder.getFunctionType(argumentTypes, {}));
  for (auto [i, attr] : llvm::enumerate(argumentAttrs))
    function.setArgAttr(i, attr.getName(), attr.getValue());
  return llvm::Error::success();
}

/// ONNX 1.12's shape inference trusts attributes it does not check: a zero
/// Conv stride divides by zero, an out-of-range LayerNormalization axis
/// reads out of bounds. So it runs only once every rule has accepted (and
/// so validated) its node, as a cross-check: each type Cleave built must be
/// the one ONNX infers.
llvm::Error GraphImporter::checkAgainstInference() {
  if (llvm::Error error = inferShapes(model, inferred))
    return error;
  for (const onnx::NodeProto &node : graph.node())
    for (const std::string &output : node.output()) {
      auto it = table.values.find(output);
      if (output.empty() || it == table.values.end())
        continue;
      const ImportedValue &value = it->second;
      RankedTensorType ours =
          value.value ? cast<RankedTensorType>(value.value.getType()) : value.constant->getType();
      std::optional<RankedTensorType> theirs = inferredType(inferred, output, &context);
      if (theirs && *theirs != ours)
        return makeError("internal importer error: for '" + output + "' (output of " +
                         describeNode(node) + ") Cleave built " + typeText(ours) +
                         " but ONNX shape inference says " + typeText(*theirs) +
                         "; please report this with the model");
    }
  return llvm::Error::success();
}

llvm::Error GraphImporter::importNode(const onnx::NodeProto &node) {
  NodeContext ctx(node, opset, table, builder);
  std::string where = ctx.describe();
  // checkSupportedOps has vetted every op type.
  const ImportRule *rule = getRuleTable().lookup(node.op_type());
  for (const std::string &input : node.input())
    if (!input.empty() && !table.values.count(input))
      return makeError(where + " reads '" + input + "', which no earlier node or input defines");
  Block *block = builder.getInsertionBlock();
  Operation *last = block->empty() ? nullptr : &block->back();
  if (failed((*rule)(ctx)))
    return makeError(ctx.getError().empty() ? where + ": import failed" : ctx.getError());
  // A rule that builds IR the verifiers refuse (an element type its op does
  // not take, say) is reported here, naming the node, rather than as a
  // whole-module verification failure at the end.
  auto fresh = last ? std::next(last->getIterator()) : block->begin();
  for (Operation &op : llvm::make_range(fresh, block->end())) {
    std::string diagnostic;
    ScopedDiagnosticHandler handler(&context, [&](Diagnostic &d) {
      diagnostic = d.str();
      return success();
    });
    if (failed(verify(&op)))
      return makeError(where + ": Cleave cannot represent this node (" + diagnostic +
                       "); if the model is valid ONNX, please report it");
  }
  for (int i = 0; i < node.output_size(); ++i) {
    const std::string &output = node.output(i);
    if (output.empty())
      continue;
    if (!table.values.count(output)) {
      if (!usedNames.count(output))
        continue;
      return makeError(where + ": output " + std::to_string(i) + " ('" + output +
                       "') is used, but Cleave's " + node.op_type() +
                       " import does not produce it");
    }
  }
  return llvm::Error::success();
}

llvm::Expected<OwningOpRef<ModuleOp>> GraphImporter::run(const std::string &source) {
  Location loc = FileLineColLoc::get(&context, source.empty() ? "<onnx>" : source, 0, 0);
  OwningOpRef<ModuleOp> module = ModuleOp::create(loc);
  (*module)->setAttr(CleaveDialect::kSourceAttrName, builder.getStringAttr(source));
  (*module)->setAttr(CleaveDialect::kOpsetAttrName, builder.getI64IntegerAttr(opset));
  builder.setInsertionPointToEnd(module->getBody());
  auto function = func::FuncOp::create(builder, loc, "forward", builder.getFunctionType({}, {}));
  Block *body = function.addEntryBlock();
  if (llvm::Error error = declareArguments(function))
    return std::move(error);

  builder.setInsertionPointToEnd(body);
  for (const onnx::NodeProto &node : graph.node())
    if (llvm::Error error = importNode(node))
      return std::move(error);
  if (llvm::Error error = checkAgainstInference())
    return std::move(error);

  SmallVector<Value> results;
  SmallVector<Type> resultTypes;
  for (const onnx::ValueInfoProto &output : graph.output()) {
    auto it = table.values.find(output.name());
    if (it == table.values.end())
      return makeError("graph output '" + output.name() + "' is never computed");
    ImportedValue &value = it->second;
    if (!value.value)
      value.value = ConstantOp::create(builder, loc, value.constant->toAttr());
    results.push_back(value.value);
    resultTypes.push_back(value.value.getType());
  }
  func::ReturnOp::create(builder, loc, results);
  function.setType(builder.getFunctionType(function.getArgumentTypes(), resultTypes));
  for (auto [i, output] : llvm::enumerate(graph.output()))
    function.setResultAttr(i, CleaveDialect::kOutputAttrName, builder.getStringAttr(output.name()));

  // Shape arithmetic that folded may leave unused IR behind.
  IRRewriter rewriter(&context);
  (void)runRegionDCE(rewriter, function.getBody());

  std::string diagnostics;
  {
    ScopedDiagnosticHandler handler(&context, [&](Diagnostic &diagnostic) {
      llvm::raw_string_ostream os(diagnostics);
      os << diagnostic.getLocation() << ": " << diagnostic << "\n";
      return success();
    });
    if (failed(verify(*module)))
      return makeError("internal importer error: the imported IR does not verify:\n" + diagnostics +
                       "please report this with the model");
  }
  return std::move(module);
}

//===----------------------------------------------------------------------===//
// Entry points
//===----------------------------------------------------------------------===//

static llvm::Expected<OwningOpRef<ModuleOp>>
importModel(onnx::ModelProto &model, const ImportOptions &options, MLIRContext &context,
            const std::string &source, const std::string &baseDirectory) {
  context.loadDialect<CleaveDialect, func::FuncDialect>();
  llvm::Expected<int64_t> opset = getCheckedOpset(model);
  if (!opset)
    return opset.takeError();
  if (llvm::Error error = checkModel(model, options, baseDirectory))
    return std::move(error);
  if (llvm::Error error = checkSupportedOps(model.graph(), *opset))
    return std::move(error);
  GraphImporter importer(model, *opset, context, options.freeze);
  return importer.run(source);
}

namespace mlir::cleave {

llvm::Expected<OwningOpRef<ModuleOp>>
importOnnxFile(const std::string &path, const ImportOptions &options, MLIRContext &context) {
  onnx::ModelProto model;
  if (llvm::Error error = parseModelFile(path, model))
    return std::move(error);
  llvm::SmallString<256> absolute(path);
  llvm::sys::fs::make_absolute(absolute);
  std::string directory = llvm::sys::path::parent_path(absolute).str();
  return importModel(model, options, context, std::string(absolute), directory);
}

llvm::Expected<OwningOpRef<ModuleOp>> importOnnxText(const std::string &text,
                                                     const ImportOptions &options,
                                                     MLIRContext &context,
                                                     const std::string &baseDirectory) {
  onnx::ModelProto model;
  if (llvm::Error error = parseModelText(text, model))
    return std::move(error);
  return importModel(model, options, context, "", baseDirectory);
}

std::vector<std::string> getSupportedOnnxOps() { return getRuleTable().getOpTypes(); }

llvm::Error parseInputShape(const std::string &text, ImportOptions &options) {
  llvm::StringRef name, dims;
  std::tie(name, dims) = llvm::StringRef(text).split('=');
  if (name.empty() || dims.empty())
    return makeError("--input-shape '" + text + "' must look like name=d0,d1,...");
  std::vector<int64_t> shape;
  SmallVector<llvm::StringRef> parts;
  dims.split(parts, ',');
  for (llvm::StringRef part : parts) {
    int64_t size;
    if (part.trim().getAsInteger(10, size) || size <= 0)
      return makeError("--input-shape '" + text + "': '" + part.str() +
                       "' is not a positive integer");
    shape.push_back(size);
  }
  options.inputShapes[name.str()] = shape;
  return llvm::Error::success();
}

} // namespace mlir::cleave
