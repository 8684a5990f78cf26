//===- Passes.h - the activation recomputation pass -----------------------===//
#ifndef CLEAVE_PASSES_RECOMPUTE_PASSES_H
#define CLEAVE_PASSES_RECOMPUTE_PASSES_H

#include "dialects/Cleave/IR/CleaveDialect.h"
#include "mlir/Pass/Pass.h"

namespace mlir::cleave {

#define GEN_PASS_DECL
#include "passes/Recompute/Passes.h.inc"

#define GEN_PASS_REGISTRATION
#include "passes/Recompute/Passes.h.inc"

} // namespace mlir::cleave

#endif // CLEAVE_PASSES_RECOMPUTE_PASSES_H
