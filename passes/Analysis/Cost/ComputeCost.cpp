//===- ComputeCost.cpp - how long one op computes on one device -----------===//
#include "passes/Analysis/Cost/ComputeCost.h"

#include "dialects/Cleave/IR/CleaveOps.h"
#include "dialects/Cleave/Interfaces/CostInterface.h"
#include "passes/Analysis/Cost/Precision.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/BuiltinTypes.h"

#include "llvm/ADT/SmallPtrSet.h"

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

/// Ops the code generators compute inside fused elementwise loops:
/// compiler/Codegen/Schedule.cpp's isElementwise (the ops with a scalar
/// expression rule in ElementwiseExpressions.cpp; splat constants are
/// literals, priced at 0 bytes by their CostOpInterface anyway).
static bool isFusible(Operation *op) {
  return isa<UnaryOp, BinaryOp, CompareOp, SelectOp, CastOp, BroadcastOp, RandomMaskOp>(op);
}

/// Ops the schedule gives no step (views and constants): a fused loop runs
/// on across them.
static bool isStepless(Operation *op) { return isa<ReshapeOp, ConstantOp>(op); }

static ArrayRef<int64_t> resultShape(Operation *op) {
  auto type = dyn_cast<ShapedType>(op->getResult(0).getType());
  return type && type.hasRank() ? type.getShape() : ArrayRef<int64_t>();
}

/// The value whose storage `value` is (looking through reshape views).
static Value storageOf(Value value) {
  while (auto reshape = value.getDefiningOp<ReshapeOp>())
    value = reshape.getInput();
  return value;
}

/// The fused loop `op` (fusible) runs in, as compiler/Codegen/Schedule.cpp
/// builds it: the run of fusible ops with op's result shape around it in
/// program order, across stepless ops.
static llvm::SmallPtrSet<Operation *, 16> fusedLoopOf(Operation *op) {
  llvm::SmallPtrSet<Operation *, 16> loop;
  ArrayRef<int64_t> shape = resultShape(op);
  auto extend = [&](Operation *(Operation::*next)()) {
    for (Operation *other = (op->*next)(); other; other = (other->*next)()) {
      if (isStepless(other))
        continue;
      if (!isFusible(other) || resultShape(other) != shape)
        return;
      loop.insert(other);
    }
  };
  loop.insert(op);
  extend(&Operation::getPrevNode);
  extend(&Operation::getNextNode);
  return loop;
}

/// Whether a user of `value` (through views) is outside `loop`: then the
/// loop writes it to memory.
static bool escapes(Value value, const llvm::SmallPtrSetImpl<Operation *> &loop) {
  for (Operation *user : value.getUsers()) {
    if (auto reshape = dyn_cast<ReshapeOp>(user)) {
      if (escapes(reshape.getResult(), loop))
        return true;
    } else if (!loop.contains(user)) {
      return true;
    }
  }
  return false;
}

/// Whether `value` is a splat constant: a literal inside the loop.
static bool isLiteral(Value value) {
  auto constant = value.getDefiningOp<ConstantOp>();
  auto dense = constant ? dyn_cast<DenseElementsAttr>(constant.getValue()) : nullptr;
  return dense && dense.isSplat();
}

/// The tensors a fusible op moves to or from memory inside its fused loop:
/// an operand unless an earlier op of the loop computed it (a register),
/// already read it, or it is a literal; a result only when something after
/// the loop reads it.
/// Pricing each elementwise op as if it read and wrote every tensor charged
/// a GPT's step for traffic its fused loops never make (on this machine's
/// CPU ranks, half the predicted step: docs/benchmarks.md, "Cost model
/// against measured steps").
static SmallVector<Type> fusedTraffic(Operation *op) {
  llvm::SmallPtrSet<Operation *, 16> loop = fusedLoopOf(op);
  llvm::SmallPtrSet<Value, 8> readBefore;
  for (Operation *member : loop)
    if (member != op && member->isBeforeInBlock(op))
      for (Value operand : member->getOperands())
        readBefore.insert(storageOf(operand));
  SmallVector<Type> types;
  for (Value operand : op->getOperands()) {
    Value storage = storageOf(operand);
    Operation *producer = storage.getDefiningOp();
    if ((producer && loop.contains(producer)) || isLiteral(storage) ||
        !readBefore.insert(storage).second)
      continue;
    types.push_back(operand.getType());
  }
  for (Value result : op->getResults())
    if (escapes(result, loop))
      types.push_back(result.getType());
  return types;
}

double cleave::getPricedBytesAccessed(Operation *op, const ComputeOptions &options) {
  auto cost = dyn_cast<CostOpInterface>(op);
  if (!cost)
    return 0;
  bool bf16 = options.bf16Activations && !isUpdateOp(op);
  if (isFusible(op)) {
    double bytes = 0;
    for (Type type : fusedTraffic(op))
      bytes += static_cast<double>(bf16 ? getActivationBytes(type, Precision::bf16)
                                        : getTensorBytes(type));
    return bytes;
  }
  double bytes = static_cast<double>(cost.getBytesAccessed());
  if (!bf16)
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
