//===- Names.cpp - C++ names for the values of the generated step ---------===//
#include "compiler/Codegen/Names.h"

using namespace mlir;
using namespace mlir::cleave::codegen;

std::string ValueNames::get(Value value) {
  auto it = names.find(value);
  if (it != names.end())
    return it->second;
  std::string name;
  if (auto argument = dyn_cast<BlockArgument>(value))
    name = "arg" + std::to_string(argument.getArgNumber());
  else
    name = "v" + std::to_string(names.size());
  names[value] = name;
  return name;
}
