//===- onnx-node-sweep.cpp - import every ONNX backend node test ----------===//
//
// 1. For each test directory holding model.onnx, list the op types it uses.
// 2. Models with an op outside the importer's table, or an opset outside
//    the supported range, are counted as not applicable.
// 3. The rest must import, unless expected-failures.txt names the test
//    (with the reason); an expected failure that now imports is reported
//    too, so the list stays honest.
// 4. Print per-op results and a closing "N passed, M failed" line.
//
//===----------------------------------------------------------------------===//
#include "compiler/Importer/Importer.h"
#include "compiler/Registration.h"

#include "mlir/IR/MLIRContext.h"

#include "onnx/onnx_pb.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <set>
#include <sstream>

namespace fs = std::filesystem;

struct OpTally {
  int applicable = 0, imported = 0;
};

static std::map<std::string, std::string> readExpectedFailures(const std::string &path) {
  std::map<std::string, std::string> expected;
  std::ifstream file(path);
  std::string line;
  while (std::getline(file, line)) {
    if (line.empty() || line[0] == '#')
      continue;
    std::istringstream fields(line);
    std::string name, reason;
    fields >> name;
    std::getline(fields, reason);
    expected[name] = reason;
  }
  return expected;
}

int main(int argc, char **argv) {
  if (argc < 2) {
    std::cerr << "usage: onnx-node-sweep DATA_DIR [--expected-failures FILE] [--verbose]\n";
    return 2;
  }
  fs::path dataDir = argv[1];
  std::map<std::string, std::string> expectedFailures;
  bool verbose = false;
  for (int i = 2; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "--expected-failures" && i + 1 < argc)
      expectedFailures = readExpectedFailures(argv[++i]);
    else if (arg == "--verbose")
      verbose = true;
  }
  if (!fs::is_directory(dataDir)) {
    std::cerr << "onnx-node-sweep: '" << dataDir.string() << "' is not a directory\n";
    return 2;
  }

  std::vector<std::string> supportedList = mlir::cleave::getSupportedOnnxOps();
  std::set<std::string> supported(supportedList.begin(), supportedList.end());
  std::vector<fs::path> tests;
  for (const fs::directory_entry &entry : fs::directory_iterator(dataDir))
    if (fs::exists(entry.path() / "model.onnx"))
      tests.push_back(entry.path());
  std::sort(tests.begin(), tests.end());

  mlir::MLIRContext context;
  mlir::cleave::loadAllDialects(context);
  std::map<std::string, OpTally> perOp;
  int notApplicable = 0, passed = 0, failed = 0, expectedFailed = 0;
  std::vector<std::string> unexpected;
  for (const fs::path &test : tests) {
    std::string name = test.filename().string();
    onnx::ModelProto model;
    {
      std::ifstream file(test / "model.onnx", std::ios::binary);
      if (!model.ParseFromIstream(&file)) {
        unexpected.push_back(name + ": model.onnx does not parse");
        ++failed;
        continue;
      }
    }
    int64_t opset = -1;
    for (const auto &import : model.opset_import())
      if (import.domain().empty() || import.domain() == "ai.onnx")
        opset = import.version();
    std::set<std::string> ops;
    bool applicable = opset >= mlir::cleave::kMinOpset && opset <= mlir::cleave::kMaxOpset;
    for (const onnx::NodeProto &node : model.graph().node()) {
      ops.insert(node.op_type());
      applicable &= supported.count(node.op_type()) && node.domain().empty();
    }
    if (!applicable) {
      ++notApplicable;
      continue;
    }
    mlir::cleave::ImportOptions options;
    auto module = mlir::cleave::importOnnxFile((test / "model.onnx").string(), options, context);
    bool ok = static_cast<bool>(module);
    std::string message = ok ? "" : llvm::toString(module.takeError());
    for (const std::string &op : ops) {
      perOp[op].applicable += 1;
      perOp[op].imported += ok;
    }
    auto expected = expectedFailures.find(name);
    if (ok) {
      ++passed;
      if (expected != expectedFailures.end())
        unexpected.push_back(name + ": imports now; remove it from expected-failures.txt");
    } else if (expected != expectedFailures.end()) {
      ++expectedFailed;
      if (verbose)
        std::cout << "expected failure " << name << ":" << expected->second << "\n";
    } else {
      ++failed;
      unexpected.push_back(name + ": " + message);
    }
  }

  std::cout << "ONNX backend node tests: " << tests.size() << " models; " << notApplicable
            << " use an unsupported op or opset\n\n";
  std::cout << "op                     imported / applicable\n";
  for (const auto &[op, tally] : perOp)
    std::cout << "  " << op << std::string(std::max<size_t>(1, 21 - op.size()), ' ')
              << tally.imported << " / " << tally.applicable << "\n";
  std::cout << "\nknown gaps (expected-failures.txt): " << expectedFailed << "\n";
  for (const std::string &line : unexpected)
    std::cout << "UNEXPECTED " << line << "\n";
  int unexpectedCount = static_cast<int>(unexpected.size());
  std::cout << "onnx-node-sweep: " << passed << " passed, " << unexpectedCount << " failed, "
            << (notApplicable + expectedFailed) << " skipped\n";
  return unexpectedCount == 0 ? 0 : 1;
}
