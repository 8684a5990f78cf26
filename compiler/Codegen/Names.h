//===- Names.h - C++ names for the values of the generated step -----------===//
//
// The generated source is read by people: its pointers carry the model's
// own names. An argument is named after its parameter, optimizer state or
// input (`h.0.attn.c_attn.weight` -> `h_0_attn_c_attn_weight`); a result
// that replaces an argument after it (`<argument>_new`); the gradient the
// optimizer reads for a parameter after it (`<parameter>_grad`); any other
// value after the ONNX node its op came from (the op's location; with
// `_grad` after the loss, where autodiff's ops carry their forward op's
// location), or after what the op computes when it has none. Names are valid C++ identifiers, never
// keywords nor the names the generated code itself uses, and unique (`_1`, `_2`.. in the order the
// values are named, which is the function's: the source is the same on every run).
//
//===----------------------------------------------------------------------===//
#ifndef CLEAVE_COMPILER_CODEGEN_NAMES_H
#define CLEAVE_COMPILER_CODEGEN_NAMES_H

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/StringSet.h"

#include <string>

namespace mlir::cleave::codegen {

/// " (ONNX <node>, <node>..)": the nodes `ops` came from, for a comment
/// on their code; "" when none is known.
std::string nodeComment(ArrayRef<Operation *> ops);

/// `text` as a C++ identifier: runs of other characters become one `_`,
/// a leading digit gets a `t_` prefix.
std::string sanitizeIdentifier(StringRef text);

class ValueNames {
public:
  explicit ValueNames(func::FuncOp function);
  /// The name of `value`, chosen the first time it is asked for.
  std::string get(Value value);

private:
  std::string baseName(Value value);
  /// `base`, or `base_1`, `base_2`.. : the first not yet taken nor reserved.
  std::string unique(const std::string &base);

  func::FuncOp function;
  /// Base names found from the train step's structure: each parameter's
  /// gradient, the results of the backward ops.
  llvm::DenseMap<Value, std::string> structuralNames;
  llvm::DenseMap<Value, std::string> names;
  llvm::StringSet<> taken;
};

} // namespace mlir::cleave::codegen

#endif // CLEAVE_COMPILER_CODEGEN_NAMES_H
