//===- Passes.h - the codegen passes --------------------------------------===//
#ifndef CLEAVE_COMPILER_CODEGEN_PASSES_H
#define CLEAVE_COMPILER_CODEGEN_PASSES_H

#include "dialects/Cleave/IR/CleaveDialect.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Pass/Pass.h"

namespace mlir::cleave::codegen {

#define GEN_PASS_DECL
#include "compiler/Codegen/Passes.h.inc"

#define GEN_PASS_REGISTRATION
#include "compiler/Codegen/Passes.h.inc"

} // namespace mlir::cleave::codegen

#endif // CLEAVE_COMPILER_CODEGEN_PASSES_H
