//===- Legalize.h - rewrite the train step into what codegen emits --------===//
#ifndef CLEAVE_COMPILER_CODEGEN_LEGALIZE_H
#define CLEAVE_COMPILER_CODEGEN_LEGALIZE_H

#include "mlir/Dialect/Func/IR/FuncOps.h"

namespace mlir::cleave::codegen {

/// Rewrites `function` so every op maps onto one runtime kernel or fused
/// loop; fails (with a diagnostic) on ops codegen cannot handle.
LogicalResult legalizeForCodegen(func::FuncOp function);

} // namespace mlir::cleave::codegen

#endif // CLEAVE_COMPILER_CODEGEN_LEGALIZE_H
