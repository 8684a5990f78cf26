//===- FactorRule.h - how an op's dimensions may be split -----------------===//
//
// The sharding search and the partitioner see every op through one
// description: its *factors*. A factor is one loop of the op (a batch row,
// an output feature, a contracted dimension, ...) with a size; each
// dimension of each operand and result is one factor, a product of factors
// (a reshape that merges or splits dimensions), or none (a broadcast
// dimension of size 1). Splitting a factor over grid axes splits every
// dimension it appears in. A factor that appears in the operands but not in
// a result is reduced over by the op, so splitting it leaves that result
// partial: each device holds a partial sum (or max, min) that a collective
// must combine. A `whole` factor may never be split (a softmax axis, the
// vocabulary an embedding indexes).
//
// This is the factor formulation of Shardy / GSPMD's einsum-like rules; the
// upstream ShardingInterface's indexing maps cannot express reshapes,
// gathers or the count a mean divides by, which training graphs are full
// of.
//
//===----------------------------------------------------------------------===//
#ifndef CLEAVE_INTERFACES_FACTORRULE_H
#define CLEAVE_INTERFACES_FACTORRULE_H

#include "mlir/Dialect/Shard/IR/ShardOps.h"
#include "llvm/ADT/SmallVector.h"

#include <cstdint>

namespace mlir::cleave {

enum class FactorKind {
  parallel, // may be split; the op runs unchanged on each block
  whole,    // must stay whole on every device
};

struct Factor {
  int64_t size = 1;
  FactorKind kind = FactorKind::parallel;
  /// The op divides by this factor's size (a mean over rows, the 1/N of a
  /// mean loss): a device that holds 1/k of the factor must scale its
  /// results by 1/k so that partial results still sum to the global value.
  bool dividesByCount = false;
};

/// The factors of one operand or result dimension, major first. Empty: the
/// dimension is not tied to any factor and stays whole (size 1, or a
/// dimension the op reads entirely).
using DimFactors = llvm::SmallVector<int, 2>;
using TensorFactors = llvm::SmallVector<DimFactors, 4>;

struct FactorRule {
  llvm::SmallVector<Factor, 8> factors;
  llvm::SmallVector<TensorFactors, 4> operands; // one entry per operand
  llvm::SmallVector<TensorFactors, 3> results;  // one entry per result
  /// How each result combines over a split factor it does not carry.
  llvm::SmallVector<shard::ReductionKind, 3> resultReductions;
  /// Operands the op adds to its results after summing over the factors
  /// the results lack (a convolution's bias). Splitting such a factor
  /// leaves each device a partial sum, and the sum of those partial sums
  /// would count the operand once per device: it must enter exactly one of
  /// them (the partitioner zeroes it on the other devices).
  llvm::SmallVector<unsigned, 1> addedAfterReduction;

  int addFactor(int64_t size, FactorKind kind = FactorKind::parallel) {
    factors.push_back({size, kind, false});
    return static_cast<int>(factors.size()) - 1;
  }
  /// Whether `factor` appears in some dimension of result `result`.
  bool resultCarries(unsigned result, int factor) const {
    for (const DimFactors &dim : results[result])
      for (int f : dim)
        if (f == factor)
          return true;
    return false;
  }
};

/// Attaches the rules of the cleave ops (dialects/Cleave/IR/
/// CleaveOpFactorRules.cpp); the dialect does it when it loads.
void attachFactorRules(MLIRContext *context);

} // namespace mlir::cleave

#include "dialects/Cleave/Interfaces/FactorRuleInterface.h.inc"

#endif // CLEAVE_INTERFACES_FACTORRULE_H
