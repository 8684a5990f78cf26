// Structural labels: equal for the ops of repeated layers, apart for the
// layers next to the ends, never from names.
#include "passes/Sharding/StructuralLabels.h"

#include "compiler/Registration.h"
#include "dialects/Cleave/IR/CleaveOps.h"

#include "mlir/IR/BuiltinOps.h"
#include "mlir/Parser/Parser.h"

#include <catch2/catch.hpp>

#include <string>

using namespace mlir;
using namespace mlir::cleave;

/// x -> (matmul w_i, relu) x `layers` -> result.
static std::string chain(int layers) {
  std::string text = "func.func @f(%x: tensor<4x8xf32> {cleave.input = \"x\"}";
  for (int i = 0; i < layers; ++i)
    text += ", %w" + std::to_string(i) + ": tensor<8x8xf32> {cleave.param = #cleave.param<\"layer" +
            std::to_string(i) + ".weight\", trainable>}";
  text += ") -> tensor<4x8xf32> {\n";
  std::string previous = "%x";
  for (int i = 0; i < layers; ++i) {
    std::string h = "%h" + std::to_string(i), a = "%a" + std::to_string(i);
    text += "  " + h + " = cleave.matmul " + previous + ", %w" + std::to_string(i) +
            " : (tensor<4x8xf32>, tensor<8x8xf32>) -> tensor<4x8xf32>\n";
    text += "  " + a + " = cleave.unary relu " + h + " : tensor<4x8xf32>\n";
    previous = a;
  }
  return text + "  return " + previous + " : tensor<4x8xf32>\n}\n";
}

/// The function @f of `source`, parsed in a context of its own.
struct ParsedFunction {
  MLIRContext context;
  OwningOpRef<ModuleOp> module;
  func::FuncOp function;

  explicit ParsedFunction(llvm::StringRef source) {
    loadAllDialects(context);
    module = parseSourceString<ModuleOp>(source, &context);
    REQUIRE(module);
    function = module->lookupSymbol<func::FuncOp>("f");
  }

  /// Every OpTy in @f, in order; there must be `count`.
  template <typename OpTy> SmallVector<Operation *> opsOf(size_t count) {
    SmallVector<Operation *> ops;
    function.walk([&](OpTy op) { ops.push_back(op); });
    REQUIRE(ops.size() == count);
    return ops;
  }
};

TEST_CASE("structural labels tie repeated layers and keep the ends apart", "[sharding][labels]") {
  ParsedFunction parsed(chain(6));
  func::FuncOp function = parsed.function;
  SmallVector<Operation *> products = parsed.opsOf<MatmulOp>(6);

  // Before any refinement, every product looks alike (same op and types).
  StructuralLabels initial = computeStructuralLabels(function, 0);
  CHECK(initial.ops.lookup(products[0]) == initial.ops.lookup(products[5]));

  // Two rounds see two edges deep: the first product reads the input, the
  // last one's relu feeds the return; the four between are one layer.
  StructuralLabels labels = computeStructuralLabels(function, 2);
  for (int i = 2; i < 5; ++i)
    CHECK(labels.ops.lookup(products[1]) == labels.ops.lookup(products[i]));
  CHECK(labels.ops.lookup(products[0]) != labels.ops.lookup(products[1]));
  CHECK(labels.ops.lookup(products[5]) != labels.ops.lookup(products[1]));
  // `of` names a value by its defining op.
  CHECK(labels.of(products[2]->getResult(0)) == labels.ops.lookup(products[2]));

  // Arguments: by type, role and users, never by name (every weight has its
  // own); the input is something else.
  CHECK(labels.arguments.size() == 7);
  CHECK(labels.arguments[2] == labels.arguments[3]); // w1, w2
  CHECK(labels.arguments[2] == labels.arguments[5]); // w1, w4
  CHECK(labels.arguments[0] != labels.arguments[2]); // x, w1
  CHECK(labels.of(function.getArgument(3)) == labels.arguments[3]);
}

TEST_CASE("structural labels tell different shapes apart", "[sharding][labels]") {
  ParsedFunction parsed(R"mlir(
    func.func @f(%x: tensor<4x8xf32>, %y: tensor<4x16xf32>) -> (tensor<4x8xf32>, tensor<4x16xf32>) {
      %a = cleave.unary relu %x : tensor<4x8xf32>
      %b = cleave.unary relu %y : tensor<4x16xf32>
      return %a, %b : tensor<4x8xf32>, tensor<4x16xf32>
    })mlir");
  SmallVector<Operation *> relus = parsed.opsOf<UnaryOp>(2);
  StructuralLabels labels = computeStructuralLabels(parsed.function, 1);
  CHECK(labels.ops.lookup(relus[0]) != labels.ops.lookup(relus[1]));
  CHECK(labels.arguments[0] != labels.arguments[1]);
}
