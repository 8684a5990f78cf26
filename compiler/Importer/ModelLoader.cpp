//===- ModelLoader.cpp - read and validate an ONNX model ------------------===//
#include "compiler/Importer/ModelLoader.h"

#include "compiler/Importer/HostTensor.h"

#include "onnx/checker.h"
#include "onnx/defs/parser.h"
#include "onnx/shape_inference/implementation.h"

#include "llvm/Support/FileSystem.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"

#include <google/protobuf/stubs/logging.h>

#include <limits>
#include <set>

using namespace mlir::cleave;
using namespace mlir::cleave::importer;

static llvm::Error makeError(const std::string &message) {
  return llvm::createStringError(llvm::inconvertibleErrorCode(), message);
}

/// ONNX's messages span several lines (node dumps, parse context); the
/// importer reports one line per error.
static std::string oneLine(llvm::StringRef text) {
  llvm::SmallVector<llvm::StringRef> lines;
  text.split(lines, '\n', /*MaxSplit=*/-1, /*KeepEmpty=*/false);
  std::string joined;
  for (llvm::StringRef line : lines) {
    line = line.trim();
    if (line.empty())
      continue;
    if (!joined.empty())
      joined += ' ';
    joined += line.str();
  }
  return joined;
}

/// ONNX's parser reports "[ParseError at position (line: L column: C)]",
/// "Error context: <the line>" and the reason on three lines; this makes
/// " at line L, column C: <reason> (near '<the line>')".
static std::string describeParseError(llvm::StringRef message) {
  llvm::SmallVector<llvm::StringRef, 3> lines;
  message.trim().split(lines, '\n', /*MaxSplit=*/2);
  llvm::StringRef position = lines[0].trim();
  if (lines.size() != 3 || !position.consume_front("[ParseError at position (line: ") ||
      !position.consume_back(")]"))
    return ": " + oneLine(message);
  auto [line, column] = position.split(" column: ");
  llvm::StringRef context = lines[1].trim();
  context.consume_front("Error context:");
  std::string reason = oneLine(lines[2]);
  if (llvm::StringRef(reason).ends_with("."))
    reason.pop_back();
  return " at line " + line.str() + ", column " + column.str() + ": " + reason + " (near '" +
         context.trim().str() + "')";
}

/// A protobuf parse of arbitrary bytes can "succeed" with nothing in it;
/// insist on the parts every ONNX model has.
static llvm::Error checkLooksLikeModel(const onnx::ModelProto &model, const std::string &what) {
  if (model.ir_version() <= 0 || !model.has_graph() || model.opset_import_size() == 0)
    return makeError(what + " is not an ONNX model (no IR version, graph or opset_import); "
                            "is the file truncated or of another format?");
  return llvm::Error::success();
}

llvm::Error mlir::cleave::importer::parseModelFile(const std::string &path,
                                                   onnx::ModelProto &model) {
  // Checked before reading, which would take a while for nothing.
  uint64_t size = 0;
  if (!llvm::sys::fs::file_size(path, size) &&
      size > static_cast<uint64_t>(std::numeric_limits<int>::max()))
    return makeError("'" + path +
                     "' is larger than protobuf's 2 GiB limit; save the weights "
                     "as external data (onnx.save_model(..., save_as_external_data=True))");
  auto buffer =
      llvm::MemoryBuffer::getFile(path, /*IsText=*/false, /*RequiresNullTerminator=*/true);
  if (!buffer)
    return makeError("cannot read '" + path + "': " + buffer.getError().message());
  llvm::StringRef bytes = (*buffer)->getBuffer();
  if (bytes.empty())
    return makeError("'" + path + "' is empty, not an ONNX model");
  bool textual = llvm::StringRef(path).ends_with(".onnxtext") || bytes.ltrim().starts_with("<");
  if (textual) {
    if (llvm::Error error = parseModelText(bytes.str(), model))
      return makeError("'" + path + "': " + llvm::toString(std::move(error)));
    return llvm::Error::success();
  }
  // Protobuf reports parse failures on stderr too; our message says it better.
  google::protobuf::LogSilencer silencer;
  if (!model.ParseFromArray(bytes.data(), static_cast<int>(bytes.size())))
    return makeError("'" + path + "' is not a valid ONNX protobuf (truncated or corrupt file?)");
  return checkLooksLikeModel(model, "'" + path + "'");
}

llvm::Error mlir::cleave::importer::parseModelText(const std::string &text,
                                                   onnx::ModelProto &model) {
  onnx::Common::Status status;
  try {
    status = onnx::OnnxParser::Parse(model, text.c_str());
  } catch (const std::exception &error) {
    // ONNX 1.12's parser converts literals with std::stoll/stof unguarded.
    return makeError(
        std::string("textual ONNX does not parse: a number is malformed or out of range (") +
        error.what() + ")");
  }
  if (!status.IsOK())
    return makeError("textual ONNX does not parse" + describeParseError(status.ErrorMessage()));
  return checkLooksLikeModel(model, "the textual model");
}

llvm::Expected<int64_t> mlir::cleave::importer::getCheckedOpset(const onnx::ModelProto &model) {
  int64_t opset = -1;
  for (const onnx::OperatorSetIdProto &import : model.opset_import())
    if (import.domain().empty() || import.domain() == "ai.onnx")
      opset = import.version();
  if (opset < 0)
    return makeError("the model imports no default-domain (ai.onnx) opset");
  if (opset < kMinOpset || opset > kMaxOpset)
    return makeError("opset " + std::to_string(opset) + " is not supported: Cleave imports ONNX " +
                     "opsets " + std::to_string(kMinOpset) + " to " + std::to_string(kMaxOpset) +
                     " (ONNX 1.12); re-export the model with an opset in that range, e.g. "
                     "torch.onnx.export(..., opset_version=17)");
  return opset;
}

ExternalData mlir::cleave::importer::readExternalData(const onnx::TensorProto &tensor) {
  ExternalData data;
  for (const onnx::StringStringEntryProto &entry : tensor.external_data()) {
    if (entry.key() == "location")
      data.location = entry.value();
    else if (entry.key() == "offset")
      data.offset = std::stoll(entry.value());
    else if (entry.key() == "length")
      data.length = std::stoll(entry.value());
  }
  return data;
}

static int64_t elementBytes(int32_t dataType) {
  switch (dataType) {
  case onnx::TensorProto::DOUBLE:
  case onnx::TensorProto::INT64:
  case onnx::TensorProto::UINT64:
    return 8;
  case onnx::TensorProto::FLOAT:
  case onnx::TensorProto::INT32:
  case onnx::TensorProto::UINT32:
    return 4;
  case onnx::TensorProto::FLOAT16:
  case onnx::TensorProto::BFLOAT16:
  case onnx::TensorProto::INT16:
  case onnx::TensorProto::UINT16:
    return 2;
  default:
    return 1;
  }
}

static llvm::Error checkExternalData(const onnx::GraphProto &graph,
                                     const std::string &baseDirectory) {
  for (const onnx::TensorProto &tensor : graph.initializer()) {
    if (tensor.data_location() != onnx::TensorProto::EXTERNAL)
      continue;
    ExternalData data;
    try {
      data = readExternalData(tensor);
    } catch (const std::exception &) {
      return makeError("initializer '" + tensor.name() +
                       "' has a malformed external_data offset or length");
    }
    if (data.location.empty())
      return makeError("initializer '" + tensor.name() +
                       "' is marked external but names no location");
    llvm::SmallString<256> path(baseDirectory);
    llvm::sys::path::append(path, data.location);
    std::optional<int64_t> count =
        getElementCount(std::vector<int64_t>(tensor.dims().begin(), tensor.dims().end()));
    if (!count || *count > std::numeric_limits<int64_t>::max() / 8)
      return makeError("initializer '" + tensor.name() +
                       "' has negative dimensions or more elements than int64 can count");
    int64_t needed = *count * elementBytes(tensor.data_type());
    if (data.length >= 0 && data.length != needed)
      return makeError("initializer '" + tensor.name() + "' declares " +
                       std::to_string(data.length) +
                       " bytes of external data but its shape needs " + std::to_string(needed));
    if (data.offset < 0 || data.offset > std::numeric_limits<int64_t>::max() - needed)
      return makeError("initializer '" + tensor.name() + "' has an invalid external_data offset " +
                       std::to_string(data.offset));
    uint64_t size = 0;
    if (llvm::sys::fs::file_size(path, size))
      return makeError("parameter '" + tensor.name() +
                       "' keeps its values in external-data file '" + std::string(path) +
                       "', which does not exist. Put the data file beside the model, or pass "
                       "--no-weights to import shapes only (enough for planning)");
    if (static_cast<int64_t>(size) < data.offset + needed)
      return makeError("external-data file '" + std::string(path) + "' holds " +
                       std::to_string(size) + " bytes but parameter '" + tensor.name() +
                       "' needs bytes " + std::to_string(data.offset) + " to " +
                       std::to_string(data.offset + needed) +
                       "; the file is truncated or belongs "
                       "to another model");
  }
  return llvm::Error::success();
}

static std::string shapeText(const onnx::TensorShapeProto &shape) {
  std::string text = "[";
  for (int i = 0; i < shape.dim_size(); ++i) {
    if (i)
      text += ", ";
    const auto &dim = shape.dim(i);
    text += dim.has_dim_value()   ? std::to_string(dim.dim_value())
            : dim.has_dim_param() ? dim.dim_param()
                                  : "?";
  }
  return text + "]";
}

/// Makes the shape of each data input static, or says which option would.
static llvm::Error fixInputShapes(onnx::GraphProto &graph, const ImportOptions &options) {
  std::set<std::string> initializers;
  for (const onnx::TensorProto &tensor : graph.initializer())
    initializers.insert(tensor.name());
  // A misspelt --input-shape name is the first thing to report: every
  // other message below would only be its consequence.
  std::set<std::string> inputNames;
  std::string known;
  for (const onnx::ValueInfoProto &input : graph.input())
    if (!initializers.count(input.name()) && inputNames.insert(input.name()).second)
      known += (known.empty() ? "" : ", ") + input.name();
  for (const auto &entry : options.inputShapes)
    if (!inputNames.count(entry.first))
      return makeError("--input-shape names '" + entry.first +
                       "', which is not a data input of the model (inputs: " + known + ")");

  for (onnx::ValueInfoProto &input : *graph.mutable_input()) {
    if (initializers.count(input.name()))
      continue;
    if (!input.type().has_tensor_type())
      return makeError("input '" + input.name() +
                       "' is not a tensor; only tensor inputs are "
                       "supported");
    onnx::TypeProto::Tensor *tensorType = input.mutable_type()->mutable_tensor_type();
    auto requested = options.inputShapes.find(input.name());
    if (!tensorType->has_shape()) {
      if (requested == options.inputShapes.end())
        return makeError("input '" + input.name() +
                         "' has no shape (not even a rank); give it one with --input-shape " +
                         input.name() + "=d0,d1,...");
      // Without a declared rank, --input-shape supplies the whole shape.
      for (size_t i = 0; i < requested->second.size(); ++i)
        tensorType->mutable_shape()->add_dim();
    }
    onnx::TensorShapeProto *shape = tensorType->mutable_shape();
    if (requested != options.inputShapes.end()) {
      const std::vector<int64_t> &dims = requested->second;
      if (static_cast<int>(dims.size()) != shape->dim_size())
        return makeError("--input-shape for '" + input.name() + "' gives " +
                         std::to_string(dims.size()) + " dimension" +
                         (dims.size() == 1 ? "" : "s") + " but the model's input " +
                         shapeText(*shape) + " has rank " + std::to_string(shape->dim_size()));
      for (int i = 0; i < shape->dim_size(); ++i) {
        auto *dim = shape->mutable_dim(i);
        if (dim->has_dim_value() && dim->dim_value() != dims[i])
          return makeError("--input-shape for '" + input.name() + "' sets dimension " +
                           std::to_string(i) + " to " + std::to_string(dims[i]) +
                           " but the model fixes it to " + std::to_string(dim->dim_value()));
        dim->set_dim_value(dims[i]);
      }
    }
    if (options.batchSize && shape->dim_size() > 0 && !shape->dim(0).has_dim_value())
      shape->mutable_dim(0)->set_dim_value(*options.batchSize);
    for (int i = 0; i < shape->dim_size(); ++i) {
      if (shape->dim(i).has_dim_value() && shape->dim(i).dim_value() == 0)
        return makeError("input '" + input.name() + "' has shape " + shapeText(*shape) +
                         " with a zero-size dimension " + std::to_string(i) +
                         "; Cleave does not compile empty tensors");
      if (!shape->dim(i).has_dim_value() || shape->dim(i).dim_value() < 0)
        return makeError("input '" + input.name() + "' has shape " + shapeText(*shape) +
                         " with a dynamic dimension " + std::to_string(i) +
                         "; Cleave compiles static shapes: pass --input-shape " + input.name() +
                         "=d0,d1,... (or --batch-size N for a dynamic first dimension)");
    }
    std::vector<int64_t> dims;
    for (const auto &dim : shape->dim())
      dims.push_back(dim.dim_value());
    if (!getElementCount(dims))
      return makeError("input '" + input.name() + "' has shape " + shapeText(*shape) +
                       ", more elements than int64 can count");
  }
  return llvm::Error::success();
}

llvm::Error mlir::cleave::importer::checkModel(onnx::ModelProto &model,
                                               const ImportOptions &options,
                                               const std::string &baseDirectory) {
  if (options.requireWeights)
    if (llvm::Error error = checkExternalData(model.graph(), baseDirectory))
      return error;
  try {
    bool hasExternalData = false;
    for (const onnx::TensorProto &tensor : model.graph().initializer())
      hasExternalData |= tensor.data_location() == onnx::TensorProto::EXTERNAL;
    if (!hasExternalData) {
      onnx::checker::check_model(model);
    } else {
      // The checker insists on reading external-data files (relative to the
      // working directory). checkExternalData has vetted them already, so
      // check a copy in which each external initializer becomes a plain
      // graph input of the same type: the rest of the graph is unchanged.
      onnx::ModelProto skeleton = model;
      onnx::GraphProto *graph = skeleton.mutable_graph();
      std::set<std::string> inputs;
      for (const onnx::ValueInfoProto &input : graph->input())
        inputs.insert(input.name());
      auto *initializers = graph->mutable_initializer();
      for (int i = initializers->size() - 1; i >= 0; --i) {
        const onnx::TensorProto &tensor = initializers->Get(i);
        if (tensor.data_location() != onnx::TensorProto::EXTERNAL)
          continue;
        if (!inputs.count(tensor.name())) {
          onnx::ValueInfoProto *input = graph->add_input();
          input->set_name(tensor.name());
          auto *tensorType = input->mutable_type()->mutable_tensor_type();
          tensorType->set_elem_type(tensor.data_type());
          for (int64_t dim : tensor.dims())
            tensorType->mutable_shape()->add_dim()->set_dim_value(dim);
        }
        initializers->DeleteSubrange(i, 1);
      }
      onnx::checker::check_model(skeleton);
    }
  } catch (const std::exception &error) {
    return makeError("the ONNX checker rejects the model: " + oneLine(error.what()));
  }
  return fixInputShapes(*model.mutable_graph(), options);
}

llvm::Error mlir::cleave::importer::inferShapes(
    onnx::ModelProto &model, std::unordered_map<std::string, onnx::TypeProto> &inferredTypes) {
  try {
    onnx::ShapeInferenceOptions inference(/*check_type=*/true, /*strict_mode=*/1,
                                          /*data_prop=*/true);
    onnx::shape_inference::InferShapes(model, onnx::OpSchemaRegistry::Instance(), inference);
  } catch (const std::exception &error) {
    return makeError("ONNX shape inference fails on the model: " + oneLine(error.what()));
  }
  auto record = [&](const onnx::ValueInfoProto &info) { inferredTypes[info.name()] = info.type(); };
  for (const onnx::ValueInfoProto &info : model.graph().value_info())
    record(info);
  for (const onnx::ValueInfoProto &info : model.graph().output())
    record(info);
  return llvm::Error::success();
}
