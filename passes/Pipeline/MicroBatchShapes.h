//===- MicroBatchShapes.h - an op's types on a slice of the batch ---------===//
//
// A micro-batch runs the step's ops on fewer rows: each cloned op gets the
// result types its smaller operands give. The op's factor rule
// (dialects/Cleave/Interfaces/FactorRule.h) says which result dimensions
// shrink with which operand dimensions: a dimension whose major factor an
// operand split is split the same way in every tensor that carries it.
//
//===----------------------------------------------------------------------===//
#ifndef CLEAVE_PASSES_PIPELINE_MICROBATCHSHAPES_H
#define CLEAVE_PASSES_PIPELINE_MICROBATCHSHAPES_H

#include "mlir/IR/Operation.h"
#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/SmallVector.h"

namespace mlir::cleave {

/// How an op runs on a micro-batch: its result types, and for each operand
/// the dimensions (with their number of parts) that must be sliced because
/// the operand is not per micro-batch but the op splits it (a constant with
/// a batch dimension).
struct MicroBatchTypes {
  llvm::SmallVector<Type> results;
  llvm::SmallVector<llvm::SmallVector<std::pair<unsigned, int64_t>, 1>> slices;
  /// Parts of the reduced dimensions of a reduce-mean (1: none split).
  int64_t meanParts = 1;
};

/// The types of `op` (as in the full-batch program) once its operands have
/// `operandTypes`; fails with a diagnostic on `op` when the shapes cannot
/// be split (no factor rule, a dimension whose factors do not divide).
FailureOr<MicroBatchTypes> inferMicroBatchTypes(Operation *op, TypeRange operandTypes);

} // namespace mlir::cleave

#endif // CLEAVE_PASSES_PIPELINE_MICROBATCHSHAPES_H
