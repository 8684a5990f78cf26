//===- onnx-node-sweep.cpp - import every ONNX backend node test ----------===//
//
// 1. For each test directory holding model.onnx, list the op types it uses.
// 2. Models with an op outside the importer's table, or an opset outside
//    the supported range, are counted as not applicable.
// 3. Apply the static-shape policy (kPolicy, printed in the header): the
//    node tests pass shape-like operands (Reshape shape, Slice starts,
//    axes, Trilu k, ...) as graph inputs with values in test_data_set_0. A
//    static-shape compiler needs them as constants, so integer and bool
//    inputs become initializers holding those values, and the scalar
//    operands of Dropout (ratio) and Range (bounds) Constant nodes; inputs
//    with dynamic dimensions get the static shape of their test data
//    through ImportOptions::inputShapes. The modified model is written to a
//    temporary file and imported.
// 4. It must import, unless expected-failures.txt names the test (with the
//    reason); an expected failure that now imports is reported too, so the
//    list stays honest.
// 5. Cross-check every imported model: each result type of @forward must
//    equal the dims and element type of the test's output_N.pb, and a
//    result the importer folded to a constant must hold the expected values.
// 6. Import each model that passed again with every input constant
//    (TEST[folded]): whatever folds is checked against the test's outputs.
// 7. Print per-op results and a closing "N passed, M failed" line.
//
//===----------------------------------------------------------------------===//
#include "compiler/Importer/Importer.h"
#include "compiler/Importer/NodeContext.h"
#include "compiler/Registration.h"
#include "dialects/Cleave/IR/CleaveOps.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/MLIRContext.h"
#include "llvm/Support/FileSystem.h"

#include "onnx/onnx_pb.h"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <optional>
#include <set>
#include <sstream>

namespace fs = std::filesystem;
using namespace mlir;
using namespace mlir::cleave;

#ifndef CLEAVE_DEFAULT_EXPECTED_FAILURES
#define CLEAVE_DEFAULT_EXPECTED_FAILURES ""
#endif

/// Relative and absolute tolerance for comparing folded float outputs.
constexpr double kFoldTolerance = 1e-4;

static const char *kPolicy =
    "policy: the node tests pass shape-like operands (Reshape shape, Slice starts/ends/axes/\n"
    "  steps, Squeeze/Unsqueeze/Reduce axes, Split sizes, Trilu k, Expand and ConstantOfShape\n"
    "  shapes, Range bounds, Dropout ratio/training_mode) as graph inputs, with values in\n"
    "  test_data_set_0. A static-shape compiler needs them as constants, so:\n"
    "  - every INT32/INT64/BOOL graph input becomes an initializer holding its test value\n"
    "    (integer data becomes constant too);\n"
    "  - every 0-d input feeding Dropout's ratio or Range becomes a Constant node (a float\n"
    "    initializer would be a trainable parameter);\n"
    "  - inputs with dynamic dimensions get the static shape of their test data\n"
    "    (ImportOptions::inputShapes).\n"
    "  Each model's output types must equal output_N.pb's dims and dtypes, and outputs that\n"
    "  fold to constants must hold its values. Each model that imports is imported again\n"
    "  with every input constant (floats as Constant nodes; verdict TEST[folded]), to check\n"
    "  the folding of every op the importer folds against the test's outputs.\n";

struct OpTally {
  int applicable = 0, imported = 0, expected = 0;
};

static std::map<std::string, std::string> readExpectedFailures(const std::string &path) {
  std::map<std::string, std::string> expected;
  std::ifstream file(path);
  if (!file) {
    std::cerr << "onnx-node-sweep: cannot read expected failures '" << path << "'\n";
    std::exit(2);
  }
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

/// test_data_set_0/<kind>_<index>.pb as a TensorProto, if it is one.
static std::optional<onnx::TensorProto> readTestTensor(const fs::path &test, const char *kind,
                                                       int index) {
  fs::path file =
      test / "test_data_set_0" / (std::string(kind) + "_" + std::to_string(index) + ".pb");
  std::ifstream stream(file, std::ios::binary);
  onnx::TensorProto tensor;
  if (!stream || !tensor.ParseFromIstream(&stream))
    return std::nullopt;
  return tensor;
}

/// How graph inputs are turned into constants before importing.
enum class Policy {
  /// Shape-like operands become constants; data stays runtime input.
  StaticShapes,
  /// Every input becomes a Constant node, so that each rule's host folding
  /// is exercised and its results can be compared with the test's outputs.
  FoldAll,
};

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

/// Applies `policy` to `model` (see kPolicy) and fills `options`.
static void applyPolicy(onnx::ModelProto &model, const fs::path &test, Policy policy,
                        ImportOptions &options) {
  onnx::GraphProto *graph = model.mutable_graph();
  std::set<std::string> initializers;
  for (const onnx::TensorProto &tensor : graph->initializer())
    initializers.insert(tensor.name());
  // Scalar operands that decide a shape or a mode, whatever their type.
  std::set<std::string> scalarOperands;
  for (const onnx::NodeProto &node : graph->node()) {
    if (node.op_type() == "Dropout" && node.input_size() > 1)
      scalarOperands.insert(node.input(1));
    if (node.op_type() == "Range")
      scalarOperands.insert(node.input().begin(), node.input().end());
  }
  // Before IR version 4 every initializer must also be a graph input.
  bool keepAsInput = model.ir_version() < 4;
  google::protobuf::RepeatedPtrField<onnx::NodeProto> constants;
  int dataIndex = 0;
  auto *inputs = graph->mutable_input();
  for (int i = 0; i < inputs->size();) {
    const onnx::ValueInfoProto &input = inputs->Get(i);
    if (initializers.count(input.name())) {
      ++i;
      continue;
    }
    // Test data is numbered in graph-input order.
    std::optional<onnx::TensorProto> value = readTestTensor(test, "input", dataIndex++);
    if (!input.type().has_tensor_type() || !value) {
      ++i;
      continue;
    }
    value->set_name(input.name());
    int32_t type = input.type().tensor_type().elem_type();
    // NumPy has no bfloat16: the test data holds its bits as UINT16.
    if (type == onnx::TensorProto::BFLOAT16 && value->data_type() == onnx::TensorProto::UINT16)
      value->set_data_type(onnx::TensorProto::BFLOAT16);
    bool integer = type == onnx::TensorProto::INT32 || type == onnx::TensorProto::INT64 ||
                   type == onnx::TensorProto::BOOL;
    bool scalarOperand = scalarOperands.count(input.name()) && value->dims_size() == 0;
    if ((policy == Policy::FoldAll && !integer) || scalarOperand) {
      // A Constant node, because the importer makes float initializers
      // trainable parameters (and a float ratio or bound is exported so).
      *constants.Add() = constantNode(*value);
      inputs->DeleteSubrange(i, 1);
      continue;
    }
    if (integer) {
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
}

static std::string typeText(Type type) {
  std::string text;
  llvm::raw_string_ostream os(text);
  os << type;
  return text;
}

/// Compares a folded constant result with the expected tensor; returns a
/// description of the first difference, or "".
static std::string compareFolded(const importer::HostTensor &expected, DenseElementsAttr actual) {
  auto values = actual.isSplat() ? std::vector<Attribute>(expected.getNumElements(),
                                                          actual.getSplatValue<Attribute>())
                                 : std::vector<Attribute>(actual.getValues<Attribute>().begin(),
                                                          actual.getValues<Attribute>().end());
  for (int64_t i = 0; i < expected.getNumElements(); ++i) {
    double got;
    if (auto f = dyn_cast<FloatAttr>(values[i]))
      got = f.getValueAsDouble();
    else
      got = static_cast<double>(cast<IntegerAttr>(values[i]).getValue().getSExtValue());
    if (isa<IntegerAttr>(values[i]) && cast<IntegerAttr>(values[i]).getType().isInteger(1))
      got = cast<IntegerAttr>(values[i]).getValue().getBoolValue();
    double want = expected.getDouble(i);
    bool same = (std::isnan(want) && std::isnan(got)) || want == got ||
                std::fabs(want - got) <= kFoldTolerance * (1 + std::fabs(want));
    if (!same)
      return "element " + std::to_string(i) + " folded to " + std::to_string(got) +
             " but the test expects " + std::to_string(want);
  }
  return "";
}

/// Checks each result of @forward against test_data_set_0/output_N.pb;
/// counts the results whose folded values were compared in `foldedChecked`.
static std::string checkOutputs(ModuleOp module, const onnx::GraphProto &graph,
                                const fs::path &test, int &foldedChecked) {
  auto function = module.lookupSymbol<func::FuncOp>("forward");
  if (!function)
    return "the module has no @forward";
  for (unsigned i = 0; i < function.getNumResults(); ++i) {
    std::optional<onnx::TensorProto> expected = readTestTensor(test, "output", i);
    if (!expected)
      return "output_" + std::to_string(i) + ".pb is missing or not a tensor";
    // NumPy has no bfloat16: the test data holds its bits as UINT16.
    if (expected->data_type() == onnx::TensorProto::UINT16 && i < (unsigned)graph.output_size() &&
        graph.output(i).type().tensor_type().elem_type() == onnx::TensorProto::BFLOAT16)
      expected->set_data_type(onnx::TensorProto::BFLOAT16);
    Type elementType = importer::convertElementType(expected->data_type(), module.getContext());
    if (!elementType)
      return "output " + std::to_string(i) + " has unsupported type " +
             importer::onnxTypeName(expected->data_type());
    auto want = RankedTensorType::get(
        std::vector<int64_t>(expected->dims().begin(), expected->dims().end()), elementType);
    Type got = function.getResultTypes()[i];
    if (got != want)
      return "output " + std::to_string(i) + " has type " + typeText(got) +
             " but the test expects " + typeText(want);
    // A folded result must also hold the test's values.
    Value result = function.getBody().front().getTerminator()->getOperand(i);
    auto constant = result.getDefiningOp<ConstantOp>();
    if (!constant)
      continue;
    auto attr = dyn_cast<DenseElementsAttr>(constant.getValue());
    llvm::Expected<importer::HostTensor> values =
        importer::HostTensor::fromProto(*expected, elementType);
    if (!attr || !values) {
      if (!values)
        llvm::consumeError(values.takeError());
      continue;
    }
    ++foldedChecked;
    std::string difference = compareFolded(*values, attr);
    if (!difference.empty())
      return "output " + std::to_string(i) + ": " + difference;
  }
  return "";
}

/// Totals over the whole sweep.
struct Sweep {
  MLIRContext context;
  std::string scratch;
  std::map<std::string, std::string> expectedFailures;
  bool verbose = false;
  int passed = 0, expectedFailed = 0, foldedChecked = 0, foldedFailed = 0;
  std::vector<std::string> unexpected;

  /// Imports `model` under `policy` and checks its outputs; returns the
  /// failure message, or "".
  std::string importAndCheck(onnx::ModelProto model, const fs::path &test, Policy policy) {
    ImportOptions options;
    applyPolicy(model, test, policy, options);
    fs::path path = fs::path(scratch) / (test.filename().string() + ".onnx");
    {
      std::ofstream file(path, std::ios::binary);
      model.SerializeToOstream(&file);
    }
    auto module = importOnnxFile(path.string(), options, context);
    fs::remove(path);
    if (!module)
      return llvm::toString(module.takeError());
    return checkOutputs(**module, model.graph(), test, foldedChecked);
  }

  /// Records the verdict on `name`; returns whether it passed.
  bool record(const std::string &name, const std::string &message) {
    auto expected = expectedFailures.find(name);
    if (message.empty()) {
      ++passed;
      if (expected != expectedFailures.end())
        unexpected.push_back(name + ": imports now; remove it from expected-failures.txt");
      return true;
    }
    if (expected == expectedFailures.end()) {
      unexpected.push_back(name + ": " + message);
      return false;
    }
    ++(llvm::StringRef(name).ends_with("[folded]") ? foldedFailed : expectedFailed);
    if (verbose)
      std::cout << "expected failure " << name << ":" << expected->second
                << "\n    got: " << message << "\n";
    return false;
  }
};

int main(int argc, char **argv) {
  if (argc < 2) {
    std::cerr << "usage: onnx-node-sweep DATA_DIR [--expected-failures FILE] [--verbose]\n";
    return 2;
  }
  fs::path dataDir = argv[1];
  std::string expectedPath = CLEAVE_DEFAULT_EXPECTED_FAILURES;
  Sweep sweep;
  for (int i = 2; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "--expected-failures" && i + 1 < argc) {
      expectedPath = argv[++i];
    } else if (arg == "--verbose") {
      sweep.verbose = true;
    } else {
      std::cerr << "onnx-node-sweep: unknown argument '" << arg << "'\n";
      return 2;
    }
  }
  if (!fs::is_directory(dataDir)) {
    std::cerr << "onnx-node-sweep: '" << dataDir.string() << "' is not a directory\n";
    return 2;
  }
  if (!expectedPath.empty())
    sweep.expectedFailures = readExpectedFailures(expectedPath);

  std::vector<std::string> supportedList = getSupportedOnnxOps();
  std::set<std::string> supported(supportedList.begin(), supportedList.end());
  std::vector<fs::path> tests;
  for (const fs::directory_entry &entry : fs::directory_iterator(dataDir))
    if (fs::exists(entry.path() / "model.onnx"))
      tests.push_back(entry.path());
  std::sort(tests.begin(), tests.end());

  llvm::SmallString<128> scratch;
  if (std::error_code error = llvm::sys::fs::createUniqueDirectory("onnx-node-sweep", scratch)) {
    std::cerr << "onnx-node-sweep: cannot create a scratch directory: " << error.message() << "\n";
    return 2;
  }
  sweep.scratch = scratch.str().str();

  std::cout << "ONNX backend node tests: " << tests.size() << " models in " << dataDir.string()
            << "\n"
            << kPolicy << "expected failures: "
            << (expectedPath.empty() ? std::string("(none)") : expectedPath) << "\n\n";

  loadAllDialects(sweep.context);
  std::map<std::string, OpTally> perOp;
  int notApplicable = 0, foldModels = 0;
  for (const fs::path &test : tests) {
    std::string name = test.filename().string();
    onnx::ModelProto model;
    {
      std::ifstream file(test / "model.onnx", std::ios::binary);
      if (!model.ParseFromIstream(&file)) {
        sweep.unexpected.push_back(name + ": model.onnx does not parse");
        continue;
      }
    }
    int64_t opset = -1;
    for (const auto &import : model.opset_import())
      if (import.domain().empty() || import.domain() == "ai.onnx")
        opset = import.version();
    std::set<std::string> ops;
    bool applicable = opset >= kMinOpset && opset <= kMaxOpset;
    for (const onnx::NodeProto &node : model.graph().node()) {
      ops.insert(node.op_type());
      applicable &= supported.count(node.op_type()) && node.domain().empty();
    }
    if (!applicable) {
      ++notApplicable;
      if (sweep.expectedFailures.count(name))
        sweep.unexpected.push_back(name + ": not applicable (unsupported op or opset); remove "
                                          "it from expected-failures.txt");
      continue;
    }

    int expectedBefore = sweep.expectedFailed;
    bool ok = sweep.record(name, sweep.importAndCheck(model, test, Policy::StaticShapes));
    for (const std::string &op : ops) {
      perOp[op].applicable += 1;
      perOp[op].imported += ok;
      perOp[op].expected += sweep.expectedFailed > expectedBefore;
    }
    // Then with every input constant: whatever folds must be right.
    if (ok) {
      ++foldModels;
      std::string message = sweep.importAndCheck(model, test, Policy::FoldAll);
      if (sweep.record(name + "[folded]", message))
        --sweep.passed; // counted once, above
    }
  }
  fs::remove_all(sweep.scratch);

  std::cout << notApplicable << " use an unsupported op or opset\n\n";
  std::cout << "op                     imported / applicable (known gaps)\n";
  for (const auto &[op, tally] : perOp) {
    std::cout << "  " << op << std::string(std::max<size_t>(1, 21 - op.size()), ' ')
              << tally.imported << " / " << tally.applicable;
    if (tally.expected)
      std::cout << " (" << tally.expected << ")";
    std::cout << "\n";
  }
  std::cout << "\nfolding: " << foldModels << " imported models imported again with every "
            << "input constant; " << sweep.foldedChecked
            << " outputs folded at import time matched the test's values; " << sweep.foldedFailed
            << " known differences\n";
  std::cout << "known gaps (expected-failures.txt): " << sweep.expectedFailed << "\n";
  for (const std::string &line : sweep.unexpected)
    std::cout << "UNEXPECTED " << line << "\n";
  int unexpectedCount = static_cast<int>(sweep.unexpected.size());
  std::cout << "onnx-node-sweep: " << sweep.passed << " passed, " << unexpectedCount << " failed, "
            << (notApplicable + sweep.expectedFailed) << " skipped (" << notApplicable
            << " not applicable, " << sweep.expectedFailed << " known gaps)\n";
  return unexpectedCount == 0 ? 0 : 1;
}
