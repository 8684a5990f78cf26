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
#include "NodeTests.h"

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
using namespace mlir::cleave::nodetests;

#ifndef CLEAVE_DEFAULT_EXPECTED_FAILURES
#define CLEAVE_DEFAULT_EXPECTED_FAILURES ""
#endif

/// Relative and absolute tolerance for comparing folded float outputs.
constexpr double kFoldTolerance = 1e-4;

/// What the sweep checks beyond the shared policy (nodetests::kPolicy).
static const char *kChecks =
    "  Each model's output types must equal output_N.pb's dims and dtypes, and outputs that\n"
    "  fold to constants must hold its values. Each model that imports is imported again\n"
    "  with every input constant (floats as Constant nodes; verdict TEST[folded]), to check\n"
    "  the folding of every op the importer folds against the test's outputs.\n";

struct OpTally {
  int applicable = 0, imported = 0, expected = 0;
};

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
    std::optional<onnx::TensorProto> expected =
        readTestTensor(test / "test_data_set_0", "output", i);
    if (!expected)
      return "output_" + std::to_string(i) + ".pb is missing or not a tensor";
    if (i < (unsigned)graph.output_size())
      fixBfloat16(*expected, graph.output(i).type().tensor_type().elem_type());
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
  if (!expectedPath.empty()) {
    auto expected = readExpectedFailures(expectedPath);
    if (!expected) {
      std::cerr << "onnx-node-sweep: cannot read expected failures '" << expectedPath << "'\n";
      return 2;
    }
    sweep.expectedFailures = std::move(*expected);
  }

  std::vector<std::string> unreadable;
  std::vector<NodeTest> tests = listNodeTests(dataDir, unreadable);
  for (const std::string &name : unreadable)
    sweep.unexpected.push_back(name + ": model.onnx does not parse");

  llvm::SmallString<128> scratch;
  if (std::error_code error = llvm::sys::fs::createUniqueDirectory("onnx-node-sweep", scratch)) {
    std::cerr << "onnx-node-sweep: cannot create a scratch directory: " << error.message() << "\n";
    return 2;
  }
  sweep.scratch = scratch.str().str();

  std::cout << "ONNX backend node tests: " << tests.size() + unreadable.size() << " models in "
            << dataDir.string() << "\n"
            << kPolicy << kChecks << "expected failures: "
            << (expectedPath.empty() ? std::string("(none)") : expectedPath) << "\n\n";

  loadAllDialects(sweep.context);
  std::map<std::string, OpTally> perOp;
  int notApplicable = 0, foldModels = 0;
  for (const NodeTest &nodeTest : tests) {
    const std::string &name = nodeTest.name;
    const fs::path &test = nodeTest.dir;
    const onnx::ModelProto &model = nodeTest.model;
    const std::set<std::string> &ops = nodeTest.ops;
    if (!nodeTest.applicable) {
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
    std::cout << "  " << padded(op, 21) << tally.imported << " / " << tally.applicable;
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
