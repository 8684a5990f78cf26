//===- NodeTests.h - the ONNX backend node tests as a static-shape model ---===//
//
// What onnx-node-sweep (import) and onnx-node-forward (run) share: finding
// the node tests, deciding which ones Cleave applies to, reading their
// test data and expected-failure lists, and the policy that turns the
// tests' shape-like graph inputs into constants (kPolicy says how).
//
//===----------------------------------------------------------------------===//
#ifndef CLEAVE_TESTS_ONNX_NODE_NODETESTS_H
#define CLEAVE_TESTS_ONNX_NODE_NODETESTS_H

#include "compiler/Importer/Importer.h"

#include "onnx/onnx_pb.h"

#include <filesystem>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace mlir::cleave::nodetests {

/// The static-shape policy, as printed in the tools' headers.
extern const char *const kPolicy;

/// One backend node test: a directory holding model.onnx and
/// test_data_set_N/{input,output}_M.pb.
struct NodeTest {
  std::filesystem::path dir;
  std::string name;
  onnx::ModelProto model;
  std::set<std::string> ops;
  /// Every op is one the importer knows, in the default domain, and the
  /// opset is in the supported range.
  bool applicable = false;
};

/// The test directories under `dataDir` in name order, parsed; a model that
/// does not parse is named in `unreadable`.
std::vector<NodeTest> listNodeTests(const std::filesystem::path &dataDir,
                                    std::vector<std::string> &unreadable);

/// `test_name  reason` lines (# comments, blank lines skipped); nothing
/// when the file cannot be read.
std::optional<std::map<std::string, std::string>> readExpectedFailures(const std::string &path);

/// The test_data_set_* directories of `test`, in order.
std::vector<std::filesystem::path> listDataSets(const std::filesystem::path &test);

/// <dataSet>/<kind>_<index>.pb as a TensorProto, if it is one.
std::optional<onnx::TensorProto> readTestTensor(const std::filesystem::path &dataSet,
                                                const char *kind, int index);

/// NumPy has no bfloat16: the test data holds bfloat16 bits as UINT16.
/// Relabels `tensor` when the graph declares `declaredType` BFLOAT16.
void fixBfloat16(onnx::TensorProto &tensor, int32_t declaredType);

/// How graph inputs are turned into constants before importing.
enum class Policy {
  /// Shape-like operands become constants; data stays runtime input.
  StaticShapes,
  /// Every input becomes a Constant node, so that each rule's host folding
  /// is exercised and its results can be compared with the test's outputs.
  FoldAll,
};

/// What applyPolicy did to the graph inputs (by name).
struct PolicyResult {
  /// Inputs that became initializers or Constant nodes, with the
  /// test_data_set_0 value each was given.
  std::map<std::string, onnx::TensorProto> constants;
  /// Graph inputs in order, with their index in the test data
  /// (input_<index>.pb), whether or not they stayed inputs.
  std::vector<std::pair<std::string, int>> dataIndex;
};

/// Applies `policy` (kPolicy) to `model`, taking values from
/// test_data_set_0 of `test`, and fills `options` with static shapes.
PolicyResult applyPolicy(onnx::ModelProto &model, const std::filesystem::path &test, Policy policy,
                         ImportOptions &options);

/// `text` followed by spaces up to `width` (at least one), for tables.
std::string padded(const std::string &text, size_t width);

} // namespace mlir::cleave::nodetests

#endif // CLEAVE_TESTS_ONNX_NODE_NODETESTS_H
