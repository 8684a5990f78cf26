//===- Recompute.h - activation recomputation of a train step -------------===//
//
// A train step keeps every forward value its backward reads (the stash)
// from the forward until that backward op runs. Recomputation drops chosen
// stashed values and clones the forward ops that make them, from values
// that stay stashed, right before the first backward op that reads one:
//
//   none       nothing;
//   selective  Megatron-LM's selective recomputation: each attention core
//              (the scores product Q K^T, its scaling and masking, the
//              softmax over the last axis, dropout on the probabilities,
//              up to the product with V) is recomputed from Q, K and V;
//   full       every layer but the last (the layer boundaries of the
//              pipeline split, SplitCuts.h) is recomputed from its inputs
//              (the values crossing into it) and the parameters.
//
// Clones carry `cleave.recomputed` and the `cleave.bwd_of` of the backward
// op they serve, so that the pipeline split puts them in that op's backward
// phase and CSE cannot merge them with the forward originals. A cloned
// dropout mask draws the same stream, so the numerics do not change.
//
//===----------------------------------------------------------------------===//
#ifndef CLEAVE_PASSES_RECOMPUTE_RECOMPUTE_H
#define CLEAVE_PASSES_RECOMPUTE_RECOMPUTE_H

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "llvm/ADT/StringRef.h"

#include <optional>
#include <string>

namespace mlir::cleave {

enum class RecomputeMode { none, selective, full };

/// "none", "selective" or "full"; nullopt for anything else.
std::optional<RecomputeMode> parseRecomputeMode(llvm::StringRef text);
llvm::StringRef recomputeModeName(RecomputeMode mode);

/// The unit attribute on every op recomputeActivations cloned.
inline constexpr llvm::StringLiteral kRecomputedAttrName = "cleave.recomputed";

/// What one application did.
struct RecomputeSummary {
  /// The regions recomputed (layers for full, attention cores for
  /// selective), the forward ops cloned, and the stashed values (and their
  /// global bytes) no longer held from the forward to the backward.
  int64_t regions = 0;
  int64_t clonedOps = 0;
  int64_t droppedValues = 0;
  int64_t droppedBytes = 0;
  /// Why nothing was recomputed, when nothing was ("no attention core").
  std::string nothingBecause;
};

/// Applies `mode` to `trainStep`, which must carry the train pipeline's phase
/// tags (cleave.fwd_id, cleave.bwd_of: `phase-tags=true`) and must not be
/// split into pipeline chunks or unrolled yet. Works on shapes alone, on the
/// global (unsharded) step. Fails with an error on the function otherwise.
LogicalResult recomputeActivations(func::FuncOp trainStep, RecomputeMode mode,
                                   RecomputeSummary *summary = nullptr);

} // namespace mlir::cleave

#endif // CLEAVE_PASSES_RECOMPUTE_RECOMPUTE_H
