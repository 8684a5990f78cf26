//===- Registration.h - every dialect and pass the tools know -------------===//
//
// One list, used by cleave-opt, cleavec and the tests, so a new dialect or
// pass is registered in exactly one place.
//
//===----------------------------------------------------------------------===//
#ifndef CLEAVE_COMPILER_REGISTRATION_H
#define CLEAVE_COMPILER_REGISTRATION_H

namespace mlir {
class DialectRegistry;
class MLIRContext;
} // namespace mlir

namespace mlir::cleave {
/// cleave plus the upstream dialects it builds on (func, arith, tensor, shard).
void registerAllDialects(mlir::DialectRegistry &registry);
/// Loads registerAllDialects' dialects into `context`.
void loadAllDialects(mlir::MLIRContext &context);
/// The cleave passes plus the upstream ones our pipelines and tests use.
void registerAllPasses();
} // namespace mlir::cleave

#endif // CLEAVE_COMPILER_REGISTRATION_H
