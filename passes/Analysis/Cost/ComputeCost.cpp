//===- ComputeCost.cpp - how long one op computes on one device -----------===//
#include "passes/Analysis/Cost/ComputeCost.h"

#include "dialects/Cleave/IR/CleaveOps.h"
#include "dialects/Cleave/Interfaces/CostInterface.h"
#include "passes/Analysis/Cost/Precision.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/BuiltinTypes.h"

#include <algorithm>

using namespace mlir;
using namespace mlir::cleave;

double cleave::rooflineTime(double flops, double bytes, DType type, const Cluster &cluster) {
  double computeRate = cluster.peak(type) * cluster.computeEfficiency;
  double memoryRate = cluster.memoryBandwidth * cluster.memoryEfficiency;
  double computeSeconds = computeRate > 0 ? flops / computeRate : 0;
  double memorySeconds = memoryRate > 0 ? bytes / memoryRate : 0;
  return std::max(computeSeconds, memorySeconds);
}

/// The DType of a float element type narrower than f32, else nullopt.
static std::optional<DType> narrowFloat(Type type) {
  auto tensor = dyn_cast<ShapedType>(type);
  Type element = tensor ? tensor.getElementType() : type;
  if (element.isBF16())
    return DType::bf16;
  if (element.isF16())
    return DType::f16;
  return std::nullopt;
}

DType cleave::getComputeDType(Operation *op, const ComputeOptions &options) {
  if (options.matmulType && isa<MatmulOp, Conv2dOp, Conv2dGradInputOp, Conv2dGradFilterOp>(op))
    return *options.matmulType;
  for (Type type : op->getOperandTypes())
    if (std::optional<DType> narrow = narrowFloat(type))
      return *narrow;
  for (Type type : op->getResultTypes())
    if (std::optional<DType> narrow = narrowFloat(type))
      return *narrow;
  return DType::f32;
}

/// Whether `op` belongs to the optimizer update, which stays fp32 under
/// mixed precision (its master weights and state).
static bool isUpdateOp(Operation *op) {
  if (op->hasAttr(CleaveDialect::kUpdateOfAttrName))
    return true;
  for (Value operand : op->getOperands()) {
    auto argument = dyn_cast<BlockArgument>(operand);
    auto function = argument ? dyn_cast<func::FuncOp>(argument.getOwner()->getParentOp()) : nullptr;
    if (function && argument.getOwner() == &function.getBody().front() &&
        function.getArgAttr(argument.getArgNumber(), CleaveDialect::kOptStateAttrName))
      return true;
  }
  return false;
}

double cleave::getPricedBytesAccessed(Operation *op, const ComputeOptions &options) {
  auto cost = dyn_cast<CostOpInterface>(op);
  if (!cost)
    return 0;
  double bytes = static_cast<double>(cost.getBytesAccessed());
  if (!options.bf16Activations || isUpdateOp(op))
    return bytes;
  double irBytes = 0, trainingBytes = 0;
  auto add = [&](Type type) {
    irBytes += static_cast<double>(getTensorBytes(type));
    trainingBytes += static_cast<double>(getActivationBytes(type, Precision::bf16));
  };
  for (Type type : op->getOperandTypes())
    add(type);
  for (Type type : op->getResultTypes())
    add(type);
  return irBytes > 0 ? bytes * trainingBytes / irBytes : bytes;
}

double cleave::computeTime(Operation *op, const Cluster &cluster, int64_t shardFactor,
                           const ComputeOptions &options) {
  auto cost = dyn_cast<CostOpInterface>(op);
  if (!cost || shardFactor < 1)
    return 0;
  double flops = static_cast<double>(cost.getFlops()) / shardFactor;
  double bytes = getPricedBytesAccessed(op, options) / shardFactor;
  return rooflineTime(flops, bytes, getComputeDType(op, options), cluster);
}
