//===- Names.h - C++ names for the values of the generated step -----------===//
#ifndef CLEAVE_COMPILER_CODEGEN_NAMES_H
#define CLEAVE_COMPILER_CODEGEN_NAMES_H

#include "mlir/IR/Value.h"
#include "llvm/ADT/DenseMap.h"

#include <string>

namespace mlir::cleave::codegen {

/// Gives each value that the step function names a C++ identifier, the
/// first time it is asked, and the same one afterwards.
class ValueNames {
public:
  std::string get(Value value);

private:
  llvm::DenseMap<Value, std::string> names;
};

} // namespace mlir::cleave::codegen

#endif // CLEAVE_COMPILER_CODEGEN_NAMES_H
