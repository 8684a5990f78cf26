// The importer's public API on small textual models and the committed ones.
#include "compiler/Importer/Importer.h"
#include "compiler/Registration.h"
#include "dialects/Cleave/IR/CleaveOps.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/MLIRContext.h"

#include <catch2/catch.hpp>

using namespace mlir;
using namespace mlir::cleave;

namespace {
struct Fixture {
  Fixture() { loadAllDialects(context); }
  MLIRContext context;
};

std::string errorOf(llvm::Expected<OwningOpRef<ModuleOp>> result) {
  REQUIRE_FALSE(static_cast<bool>(result));
  return llvm::toString(result.takeError());
}

func::FuncOp forwardOf(ModuleOp module) {
  auto function = module.lookupSymbol<func::FuncOp>("forward");
  REQUIRE(function);
  return function;
}
} // namespace

TEST_CASE_METHOD(Fixture, "parameters become named arguments before data inputs", "[importer]") {
  const char *text = R"(
    <ir_version: 8, opset_import: ["" : 17]>
    agraph (float[2,3] x) => (float[2,4] y)
      <float[4,3] fc_weight = {1,2,3,4,5,6,7,8,9,10,11,12}, float[4] fc_bias = {0,0,0,0}>
    {
      y = Gemm <transB = 1> (x, fc_weight, fc_bias)
    }
  )";
  auto module = importOnnxText(text, ImportOptions(), context);
  REQUIRE(static_cast<bool>(module));
  func::FuncOp function = forwardOf(**module);
  REQUIRE(function.getNumArguments() == 3);
  auto weight = function.getArgAttrOfType<ParamAttr>(0, CleaveDialect::kParamAttrName);
  REQUIRE(weight);
  CHECK(weight.getName().getValue() == "fc_weight");
  CHECK(weight.getKind() == ParamKind::trainable);
  CHECK(function.getArgAttrOfType<StringAttr>(2, CleaveDialect::kInputAttrName).getValue() == "x");
  // The weight's values never reach the IR.
  bool hasLargeConstant = false;
  function.walk([&](ConstantOp op) { hasLargeConstant |= op.getType().getNumElements() > 1; });
  CHECK_FALSE(hasLargeConstant);
  int matmuls = 0;
  function.walk([&](MatmulOp op) {
    ++matmuls;
    CHECK(op.getTransposeB());
  });
  CHECK(matmuls == 1);
}

TEST_CASE_METHOD(Fixture, "the exporter's shape arithmetic folds away", "[importer]") {
  const char *text = R"(
    <ir_version: 8, opset_import: ["" : 17]>
    agraph (float[2,16,32] x) => (float[2,16,2,16] y)
    {
      s = Shape (x)
      i0 = Constant <value = int64 {0}> ()
      i1 = Constant <value = int64 {1}> ()
      b = Gather <axis = 0> (s, i0)
      t = Gather <axis = 0> (s, i1)
      ax = Constant <value = int64[1] {0}> ()
      b1 = Unsqueeze (b, ax)
      t1 = Unsqueeze (t, ax)
      h = Constant <value = int64[2] {2, 16}> ()
      shape = Concat <axis = 0> (b1, t1, h)
      y = Reshape (x, shape)
    }
  )";
  auto module = importOnnxText(text, ImportOptions(), context);
  REQUIRE(static_cast<bool>(module));
  int ops = 0;
  forwardOf(**module).walk([&](Operation *op) {
    if (op->getDialect() && op->getDialect()->getNamespace() == "cleave") {
      ++ops;
      CHECK(isa<ReshapeOp>(op));
    }
  });
  CHECK(ops == 1);
}

TEST_CASE_METHOD(Fixture, "unsupported ops are named with node, opset and the supported list",
                 "[importer][errors]") {
  const char *text = R"(
    <ir_version: 8, opset_import: ["" : 17]>
    agraph (float[4] x) => (int64[1,N] y)
    {
      y = NonZero (x)
    }
  )";
  std::string message = errorOf(importOnnxText(text, ImportOptions(), context));
  CHECK(message.find("unsupported ONNX op 'NonZero'") != std::string::npos);
  CHECK(message.find("opset 17") != std::string::npos);
  CHECK(message.find("Supported ops:") != std::string::npos);
  CHECK(message.find("MatMul") != std::string::npos);
}

TEST_CASE_METHOD(Fixture, "opsets outside the supported range are refused", "[importer][errors]") {
  const char *text = R"(
    <ir_version: 3, opset_import: ["" : 5]>
    agraph (float[4] x) => (float[4] y)
    {
      y = Relu (x)
    }
  )";
  std::string message = errorOf(importOnnxText(text, ImportOptions(), context));
  CHECK(message.find("opset 5 is not supported") != std::string::npos);
}

TEST_CASE_METHOD(Fixture, "dynamic input dimensions need --input-shape", "[importer][errors]") {
  const char *text = R"(
    <ir_version: 8, opset_import: ["" : 17]>
    agraph (float[N,4] x) => (float[N,4] y)
    {
      y = Relu (x)
    }
  )";
  std::string message = errorOf(importOnnxText(text, ImportOptions(), context));
  CHECK(message.find("dynamic dimension 0") != std::string::npos);
  CHECK(message.find("--input-shape x=") != std::string::npos);

  ImportOptions options;
  REQUIRE_FALSE(static_cast<bool>(parseInputShape("x=8,4", options)));
  auto module = importOnnxText(text, options, context);
  REQUIRE(static_cast<bool>(module));
  CHECK(forwardOf(**module).getArgumentTypes()[0] ==
        RankedTensorType::get({8, 4}, Float32Type::get(&context)));

  ImportOptions batch;
  batch.batchSize = 3;
  auto batched = importOnnxText(text, batch, context);
  REQUIRE(static_cast<bool>(batched));
  CHECK(cast<RankedTensorType>(forwardOf(**batched).getArgumentTypes()[0]).getDimSize(0) == 3);
}

TEST_CASE("parseInputShape rejects malformed shapes", "[importer][errors]") {
  ImportOptions options;
  llvm::Error missing = parseInputShape("x", options);
  CHECK(static_cast<bool>(missing));
  llvm::consumeError(std::move(missing));
  llvm::Error negative = parseInputShape("x=2,-1", options);
  CHECK(static_cast<bool>(negative));
  llvm::consumeError(std::move(negative));
}

TEST_CASE_METHOD(Fixture, "committed models import with their parameters named",
                 "[importer][models]") {
  struct Case {
    const char *file;
    unsigned params;
    unsigned buffers;
  };
  for (Case model :
       {Case{"mlp.onnx", 6, 0}, Case{"gpt_toy.onnx", 28, 0}, Case{"cnn.onnx", 12, 4}}) {
    INFO(model.file);
    auto module =
        importOnnxFile(std::string(CLEAVE_MODELS_DIR) + "/" + model.file, ImportOptions(), context);
    if (!module)
      FAIL(llvm::toString(module.takeError()));
    func::FuncOp function = forwardOf(**module);
    unsigned params = 0, buffers = 0;
    for (unsigned i = 0; i < function.getNumArguments(); ++i)
      if (auto param = function.getArgAttrOfType<ParamAttr>(i, CleaveDialect::kParamAttrName)) {
        ++params;
        buffers += param.getKind() == ParamKind::buffer;
      }
    CHECK(params == model.params);
    CHECK(buffers == model.buffers);
  }
}

TEST_CASE_METHOD(Fixture, "a shapes-only 39B model plans without its weights",
                 "[importer][models]") {
  std::string path = std::string(CLEAVE_MODELS_DIR) + "/gpt-39b.onnx";
  std::string message = errorOf(importOnnxFile(path, ImportOptions(), context));
  CHECK(message.find("--no-weights") != std::string::npos);
  ImportOptions options;
  options.requireWeights = false;
  auto module = importOnnxFile(path, options, context);
  if (!module)
    FAIL(llvm::toString(module.takeError()));
  int64_t elements = 0;
  func::FuncOp function = forwardOf(**module);
  for (unsigned i = 0; i < function.getNumArguments(); ++i)
    if (function.getArgAttr(i, CleaveDialect::kParamAttrName))
      elements += cast<RankedTensorType>(function.getArgumentTypes()[i]).getNumElements();
  CHECK(elements == 39087652864LL);
}
