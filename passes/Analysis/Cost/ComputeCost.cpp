//===- ComputeCost.cpp - how long one op computes on one device -----------===//
#include "passes/Analysis/Cost/ComputeCost.h"

#include "dialects/Cleave/IR/CleaveOps.h"
#include "dialects/Cleave/Interfaces/CostInterface.h"

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
  if (options.matmulType && isa<MatmulOp>(op))
    return *options.matmulType;
  for (Type type : op->getOperandTypes())
    if (std::optional<DType> narrow = narrowFloat(type))
      return *narrow;
  for (Type type : op->getResultTypes())
    if (std::optional<DType> narrow = narrowFloat(type))
      return *narrow;
  return DType::f32;
}

double cleave::computeTime(Operation *op, const Cluster &cluster, int64_t shardFactor,
                           const ComputeOptions &options) {
  auto cost = dyn_cast<CostOpInterface>(op);
  if (!cost || shardFactor < 1)
    return 0;
  double flops = static_cast<double>(cost.getFlops()) / shardFactor;
  double bytes = static_cast<double>(cost.getBytesAccessed()) / shardFactor;
  return rooflineTime(flops, bytes, getComputeDType(op, options), cluster);
}
