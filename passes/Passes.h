//===- Passes.h - the cleave passes ---------------------------------------===//
#ifndef CLEAVE_PASSES_PASSES_H
#define CLEAVE_PASSES_PASSES_H

#include "dialects/Cleave/IR/CleaveDialect.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Shard/IR/ShardDialect.h"
#include "mlir/Dialect/Shard/IR/ShardOps.h"
#include "mlir/Pass/Pass.h"
#include "passes/TrainOptions.h"

namespace mlir::cleave {

#define GEN_PASS_DECL
#include "passes/Passes.h.inc"

#define GEN_PASS_REGISTRATION
#include "passes/Passes.h.inc"

/// The passes whose options come from passes/TrainOptions.def, made from
/// the settings as values (the pipeline's way in).
std::unique_ptr<Pass> createCleaveAttachLoss(const LossSettings &settings,
                                             const CleaveAttachLossOptions &functions = {});
std::unique_ptr<Pass> createCleaveOptimizer(const OptimizerSettings &settings);

} // namespace mlir::cleave

#endif // CLEAVE_PASSES_PASSES_H
