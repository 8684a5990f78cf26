//===- RecomputeRegions.h - which forward ops are recomputed together ----===//
//
// A region is a set of forward ops whose stashed results the backward gets
// from clones instead: the clones of a region run together, right before
// the first backward op reading one of its values, from the region's
// inputs (values made outside it, which stay stashed).
//
//===----------------------------------------------------------------------===//
#ifndef CLEAVE_PASSES_RECOMPUTE_RECOMPUTEREGIONS_H
#define CLEAVE_PASSES_RECOMPUTE_RECOMPUTEREGIONS_H

#include "passes/Pipeline/SplitPhases.h"

#include "llvm/ADT/SmallVector.h"

#include <vector>

namespace mlir::cleave {

/// The ops of one region, in block order.
using RecomputeRegion = llvm::SmallVector<Operation *>;

/// full: one region per layer of the pipeline split's layer boundaries
/// (profileCuts), but the last (the head and the loss, whose backward
/// starts as soon as their forward ends). A layer's ops whose results a
/// later layer's forward reads (its outputs, the next layer's inputs) stay
/// out: they are stashed anyway.
std::vector<RecomputeRegion> findLayerRegions(const TrainStepPhases &phases);

/// selective: one region per attention core, found by its structure: a
/// softmax over the last axis whose input comes, through elementwise ops
/// (scaling, masking), from a batched product of two activations (Q K^T)
/// and whose result goes, through elementwise ops (dropout's product with
/// its random mask), into the left operand of another batched product
/// (P V). The region is the scores product, those elementwise ops, the
/// softmax and the dropout masks; Q, K and V stay stashed.
std::vector<RecomputeRegion> findAttentionRegions(const TrainStepPhases &phases);

} // namespace mlir::cleave

#endif // CLEAVE_PASSES_RECOMPUTE_RECOMPUTEREGIONS_H
