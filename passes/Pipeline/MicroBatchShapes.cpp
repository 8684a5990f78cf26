//===- MicroBatchShapes.cpp - an op's types on a slice of the batch -------===//
#include "passes/Pipeline/MicroBatchShapes.h"

#include "dialects/Cleave/IR/CleaveOps.h"
#include "dialects/Cleave/Interfaces/FactorRule.h"

#include "mlir/IR/BuiltinTypes.h"
#include "llvm/ADT/DenseSet.h"

using namespace mlir;
using namespace mlir::cleave;

/// Same-rank collectives (all-reduce, all-gather, ...): a dimension the
/// operand has in k parts has them in the result too.
static FailureOr<MicroBatchTypes> inferSameRank(Operation *op, TypeRange operandTypes) {
  auto before = cast<RankedTensorType>(op->getOperand(0).getType());
  auto after = cast<RankedTensorType>(operandTypes[0]);
  auto result = cast<RankedTensorType>(op->getResult(0).getType());
  if (op->getNumOperands() != 1 || op->getNumResults() != 1 || result.getRank() != before.getRank())
    return op->emitOpError() << "cannot run on a micro-batch: the pipeline passes know no rule "
                                "for its shapes",
           failure();
  llvm::SmallVector<int64_t> shape(result.getShape());
  for (int64_t dim = 0; dim < before.getRank(); ++dim) {
    if (after.getDimSize(dim) == 0)
      return op->emitOpError() << "cannot run on a micro-batch: dimension " << dim
                               << " would be empty",
             failure();
    int64_t parts = before.getDimSize(dim) / after.getDimSize(dim);
    if (parts > 1 && shape[dim] % parts == 0)
      shape[dim] /= parts;
    else if (parts > 1)
      return op->emitOpError() << "cannot run on a micro-batch: its result's dimension " << dim
                               << " (" << shape[dim] << ") does not split " << parts
                               << " ways; the rank's share of the batch is smaller than its "
                                  "input's: use fewer micro-batches",
             failure();
  }
  MicroBatchTypes types;
  types.results.push_back(RankedTensorType::get(shape, result.getElementType()));
  types.slices.resize(1);
  return types;
}

FailureOr<MicroBatchTypes> mlir::cleave::inferMicroBatchTypes(Operation *op,
                                                              TypeRange operandTypes) {
  if (llvm::equal(op->getOperandTypes(), operandTypes)) {
    MicroBatchTypes types;
    types.results.assign(op->getResultTypes().begin(), op->getResultTypes().end());
    types.slices.resize(op->getNumOperands());
    return types;
  }
  auto ruled = dyn_cast<FactorRuleOpInterface>(op);
  if (!ruled)
    return inferSameRank(op, operandTypes);
  FactorRule rule = ruled.getFactorRule();
  // The parts each factor is split in, read off the operands that shrank.
  llvm::DenseMap<int, int64_t> parts;
  for (auto [index, operand] : llvm::enumerate(op->getOperands())) {
    auto before = cast<RankedTensorType>(operand.getType());
    auto after = cast<RankedTensorType>(operandTypes[index]);
    for (int64_t dim = 0; dim < before.getRank(); ++dim) {
      if (before.getDimSize(dim) == after.getDimSize(dim))
        continue;
      if (after.getDimSize(dim) == 0)
        return op->emitOpError() << "cannot run on a micro-batch: dimension " << dim
                                 << " of operand " << index << " would be empty",
               failure();
      int64_t ways = before.getDimSize(dim) / after.getDimSize(dim);
      const DimFactors &factors = rule.operands[index][dim];
      if (factors.empty() || before.getDimSize(dim) % after.getDimSize(dim) != 0 ||
          rule.factors[factors.front()].size % ways != 0)
        return op->emitOpError() << "cannot run on a micro-batch: dimension " << dim
                                 << " of operand " << index << " does not split " << ways
                                 << " ways along the op's loops",
               failure();
      auto [it, inserted] = parts.insert({factors.front(), ways});
      if (!inserted && it->second != ways)
        return op->emitOpError() << "cannot run on a micro-batch: its operands split one loop "
                                 << it->second << " and " << ways << " ways",
               failure();
    }
  }
  // A factor a tensor carries in several dimensions (a reshape regrouping
  // them, kept whole) splits only the first: the micro-batch's rows are a
  // leading block of the row-major elements.
  auto splitSize = [&](const DimFactors &factors, int64_t size, int64_t &ways,
                       llvm::DenseSet<int> &applied) {
    ways = 1;
    if (factors.empty() || !applied.insert(factors.front()).second)
      return size;
    auto found = parts.find(factors.front());
    if (found == parts.end())
      return size;
    ways = found->second;
    return size / ways;
  };
  MicroBatchTypes types;
  for (auto [index, result] : llvm::enumerate(op->getResults())) {
    auto type = cast<RankedTensorType>(result.getType());
    llvm::SmallVector<int64_t> shape(type.getShape());
    llvm::DenseSet<int> applied;
    for (int64_t dim = 0; dim < type.getRank(); ++dim) {
      int64_t ways;
      shape[dim] = splitSize(rule.results[index][dim], shape[dim], ways, applied);
      if (ways > 1 && type.getDimSize(dim) % ways != 0)
        return op->emitOpError() << "cannot run on a micro-batch: result dimension " << dim << " ("
                                 << type.getDimSize(dim) << ") does not split " << ways << " ways",
               failure();
    }
    types.results.push_back(RankedTensorType::get(shape, type.getElementType()));
  }
  // Operands that still have the full batch where the op now splits it.
  types.slices.resize(op->getNumOperands());
  for (auto [index, operand] : llvm::enumerate(op->getOperands())) {
    auto before = cast<RankedTensorType>(operand.getType());
    auto after = cast<RankedTensorType>(operandTypes[index]);
    llvm::DenseSet<int> applied;
    for (int64_t dim = 0; dim < before.getRank(); ++dim) {
      int64_t ways;
      splitSize(rule.operands[index][dim], before.getDimSize(dim), ways, applied);
      if (ways > 1 && after.getDimSize(dim) == before.getDimSize(dim))
        types.slices[index].push_back({static_cast<unsigned>(dim), ways});
    }
  }
  if (auto reduce = dyn_cast<ReduceOp>(op); reduce && reduce.getKind() == ReduceKind::mean) {
    llvm::DenseSet<int> applied;
    for (int64_t axis : reduce.getAxes()) {
      int64_t ways;
      splitSize(rule.operands[0][axis], 0, ways, applied);
      types.meanParts *= ways;
    }
  }
  return types;
}
