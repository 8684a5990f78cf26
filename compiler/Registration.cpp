//===- Registration.cpp - every dialect and pass the tools know -----------===//
#include "compiler/Registration.h"
#include "compiler/Codegen/Passes.h"

#include "dialects/Cleave/IR/CleaveDialect.h"
#include "passes/Passes.h"
#include "passes/Pipelines.h"
#include "passes/Recompute/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Shard/IR/ShardDialect.h"
#include "mlir/Dialect/Shard/Transforms/Passes.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/DialectRegistry.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/Transforms/Passes.h"

void mlir::cleave::registerAllDialects(mlir::DialectRegistry &registry) {
  registry.insert<mlir::cleave::CleaveDialect, mlir::func::FuncDialect, mlir::arith::ArithDialect,
                  mlir::tensor::TensorDialect, mlir::shard::ShardDialect>();
}

void mlir::cleave::loadAllDialects(mlir::MLIRContext &context) {
  mlir::DialectRegistry registry;
  registerAllDialects(registry);
  context.appendDialectRegistry(registry);
  context.loadAllAvailableDialects();
}

void mlir::cleave::registerAllPasses() {
  mlir::cleave::registerCleavePasses();
  mlir::cleave::registerCleaveRecomputePasses();
  mlir::cleave::registerCleavePipelines();
  mlir::cleave::codegen::registerCleaveCodegenPasses();
  mlir::shard::registerShardPasses();
  mlir::registerCanonicalizerPass();
  mlir::registerCSEPass();
  mlir::registerSymbolDCEPass();
}
