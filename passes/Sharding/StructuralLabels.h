//===- StructuralLabels.h - equal labels for ops that repeat ---------------===//
//
// A transformer's train step is one layer's forward, backward and update
// repeated L times. The sharding search ties the decisions of ops that play
// the same part in each repetition (Search.cpp), so its 0-1 program is about
// one layer's size whatever L is. These labels find the repetitions without
// knowing anything about layers: Weisfeiler-Lehman colour refinement over
// the def-use graph. An op's first label hashes its name, attributes and
// types; each round hashes in its operands' and users' labels. After k
// rounds two ops have equal labels when their neighbourhoods k edges deep
// look alike, so layer 3's c_fc matmul matches layer 7's, while the first
// and last layers (within k edges of the embedding or the loss) keep labels
// of their own.
//
// Equal labels are a hint, not a proof: the search also compares the exact
// structure (uniqued names, attributes and types) of what it ties.
//
//===----------------------------------------------------------------------===//
#ifndef CLEAVE_PASSES_SHARDING_STRUCTURALLABELS_H
#define CLEAVE_PASSES_SHARDING_STRUCTURALLABELS_H

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "llvm/ADT/DenseMap.h"

#include <cstdint>
#include <vector>

namespace mlir::cleave {

struct StructuralLabels {
  llvm::DenseMap<Operation *, uint64_t> ops;
  std::vector<uint64_t> arguments; // by argument number

  /// The label of the op or argument that defines `value` (with the
  /// result number for an op with several results).
  uint64_t of(Value value) const;
};

/// Labels after `rounds` rounds of refinement over `function`'s body.
/// Arguments start from their type and role (parameter, optimizer state
/// kind, input), never their names.
StructuralLabels computeStructuralLabels(func::FuncOp function, int rounds);

} // namespace mlir::cleave

#endif // CLEAVE_PASSES_SHARDING_STRUCTURALLABELS_H
