//===- NodeTests.cpp - the ONNX backend node tests as a static-shape model -===//
#include "NodeTests.h"

#include <algorithm>
#include <fstream>
#include <sstream>

namespace fs = std::filesystem;
using namespace mlir::cleave;
using namespace mlir::cleave::nodetests;

const char *const nodetests::kPolicy =
    "policy: the node tests pass shape-like operands (Reshape shape, Slice starts/ends/axes/\n"
    "  steps, Squeeze/Unsqueeze/Reduce axes, Split sizes, Trilu k, Expand and ConstantOfShape\n"
    "  shapes, Range bounds, Dropout ratio/training_mode) as graph inputs, with values in\n"
    "  test_data_set_0. A static-shape compiler needs them as constants, so:\n"
    "  - every INT32/INT64/BOOL graph input becomes an initializer holding its test value\n"
    "    (integer data becomes constant too);\n"
    "  - every 0-d input feeding Dropout's ratio, Range or OneHot's depth, and Resize's roi\n"
    "    and scales, becomes a Constant node (a float initializer would be a trainable\n"
    "    parameter);\n"
    "  - inputs with dynamic dimensions get the static shape of their test data\n"
    "    (ImportOptions::inputShapes).\n";

std::vector<NodeTest> nodetests::listNodeTests(const fs::path &dataDir,
                                               std::vector<std::string> &unreadable) {
  std::vector<std::string> supportedList = getSupportedOnnxOps();
  std::set<std::string> supported(supportedList.begin(), supportedList.end());
  std::vector<fs::path> dirs;
  for (const fs::directory_entry &entry : fs::directory_iterator(dataDir))
    if (fs::exists(entry.path() / "model.onnx"))
      dirs.push_back(entry.path());
  std::sort(dirs.begin(), dirs.end());

  std::vector<NodeTest> tests;
  for (const fs::path &dir : dirs) {
    NodeTest test;
    test.dir = dir;
    test.name = dir.filename().string();
    std::ifstream file(dir / "model.onnx", std::ios::binary);
    if (!test.model.ParseFromIstream(&file)) {
      unreadable.push_back(test.name);
      continue;
    }
    int64_t opset = -1;
    for (const auto &import : test.model.opset_import())
      if (import.domain().empty() || import.domain() == "ai.onnx")
        opset = import.version();
    test.applicable = opset >= kMinOpset && opset <= kMaxOpset;
    for (const onnx::NodeProto &node : test.model.graph().node()) {
      test.ops.insert(node.op_type());
      test.applicable &= supported.count(node.op_type()) && node.domain().empty();
    }
    tests.push_back(std::move(test));
  }
  return tests;
}

std::optional<std::map<std::string, std::string>>
nodetests::readExpectedFailures(const std::string &path) {
  std::map<std::string, std::string> expected;
  std::ifstream file(path);
  if (!file)
    return std::nullopt;
  std::string line;
  while (std::getline(file, line)) {
    if (line.empty() || line[0] == '#')
      continue;
    std::istringstream fields(line);
    std::string name, reason;
    fields >> name;
    std::getline(fields, reason);
    if (!name.empty())
      expected[name] = reason;
  }
  return expected;
}

std::vector<fs::path> nodetests::listDataSets(const fs::path &test) {
  std::vector<fs::path> sets;
  for (const fs::directory_entry &entry : fs::directory_iterator(test))
    if (entry.is_directory() && entry.path().filename().string().rfind("test_data_set_", 0) == 0)
      sets.push_back(entry.path());
  std::sort(sets.begin(), sets.end());
  return sets;
}

std::optional<onnx::TensorProto> nodetests::readTestTensor(const fs::path &dataSet,
                                                           const char *kind, int index) {
  fs::path file = dataSet / (std::string(kind) + "_" + std::to_string(index) + ".pb");
  std::ifstream stream(file, std::ios::binary);
  onnx::TensorProto tensor;
  if (!stream || !tensor.ParseFromIstream(&stream))
    return std::nullopt;
  return tensor;
}

void nodetests::fixBfloat16(onnx::TensorProto &tensor, int32_t declaredType) {
  if (declaredType == onnx::TensorProto::BFLOAT16 &&
      tensor.data_type() == onnx::TensorProto::UINT16)
    tensor.set_data_type(onnx::TensorProto::BFLOAT16);
}

static onnx::NodeProto constantNode(const onnx::TensorProto &value) {
  onnx::NodeProto node;
  node.set_op_type("Constant");
  node.set_name("sweep_constant_" + value.name());
  node.add_output(value.name());
  onnx::AttributeProto *attr = node.add_attribute();
  attr->set_name("value");
  attr->set_type(onnx::AttributeProto::TENSOR);
  *attr->mutable_t() = value;
  return node;
}

PolicyResult nodetests::applyPolicy(onnx::ModelProto &model, const fs::path &test, Policy policy,
                                    ImportOptions &options) {
  PolicyResult result;
  onnx::GraphProto *graph = model.mutable_graph();
  std::set<std::string> initializers;
  for (const onnx::TensorProto &tensor : graph->initializer())
    initializers.insert(tensor.name());
  // Scalar operands that decide a shape or a mode, whatever their type.
  std::set<std::string> scalarOperands, shapeOperands;
  for (const onnx::NodeProto &node : graph->node()) {
    if (node.op_type() == "Dropout" && node.input_size() > 1)
      scalarOperands.insert(node.input(1));
    if (node.op_type() == "Range")
      scalarOperands.insert(node.input().begin(), node.input().end());
    if (node.op_type() == "OneHot" && node.input_size() > 1)
      scalarOperands.insert(node.input(1));
    // Resize's roi and scales (Upsample's scales) decide the output shape.
    if (node.op_type() == "Resize" || node.op_type() == "Upsample")
      shapeOperands.insert(node.input().begin() + 1, node.input().end());
  }
  // Before IR version 4 every initializer must also be a graph input.
  bool keepAsInput = model.ir_version() < 4;
  google::protobuf::RepeatedPtrField<onnx::NodeProto> constants;
  fs::path dataSet = test / "test_data_set_0";
  int dataIndex = 0;
  auto *inputs = graph->mutable_input();
  for (int i = 0; i < inputs->size();) {
    const onnx::ValueInfoProto &input = inputs->Get(i);
    if (initializers.count(input.name())) {
      ++i;
      continue;
    }
    // Test data is numbered in graph-input order.
    result.dataIndex.emplace_back(input.name(), dataIndex);
    std::optional<onnx::TensorProto> value = readTestTensor(dataSet, "input", dataIndex++);
    if (!input.type().has_tensor_type() || !value) {
      ++i;
      continue;
    }
    value->set_name(input.name());
    int32_t type = input.type().tensor_type().elem_type();
    fixBfloat16(*value, type);
    bool integer = type == onnx::TensorProto::INT32 || type == onnx::TensorProto::INT64 ||
                   type == onnx::TensorProto::BOOL;
    bool scalarOperand = (scalarOperands.count(input.name()) && value->dims_size() == 0) ||
                         shapeOperands.count(input.name());
    if ((policy == Policy::FoldAll && !integer) || scalarOperand) {
      // A Constant node, because the importer makes float initializers
      // trainable parameters (and a float ratio or bound is exported so).
      result.constants[input.name()] = *value;
      *constants.Add() = constantNode(*value);
      inputs->DeleteSubrange(i, 1);
      continue;
    }
    if (integer) {
      result.constants[input.name()] = *value;
      *graph->add_initializer() = *value;
      if (keepAsInput)
        ++i;
      else
        inputs->DeleteSubrange(i, 1);
      continue;
    }
    const onnx::TypeProto::Tensor &tensorType = input.type().tensor_type();
    bool dynamic = !tensorType.has_shape();
    for (const auto &dim : tensorType.shape().dim())
      dynamic |= !dim.has_dim_value();
    if (dynamic)
      options.inputShapes[input.name()] =
          std::vector<int64_t>(value->dims().begin(), value->dims().end());
    ++i;
  }
  if (!constants.empty()) {
    constants.MergeFrom(graph->node());
    graph->mutable_node()->Swap(&constants);
  }
  return result;
}

std::string nodetests::padded(const std::string &text, size_t width) {
  return text + std::string(text.size() < width ? width - text.size() : 1, ' ');
}
