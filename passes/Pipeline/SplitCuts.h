//===- SplitCuts.h - where a train step's forward can be cut, and where to -===//
//
// A cut at forward position k ends one chunk before forwardOps[k]. The
// activations crossing it are the forward values made before k and read
// by the forward at or after k. Layer boundaries (docs/pipeline.md, "The
// split") are the cuts with the fewest crossing values, one per layer: the
// cut with the fewest bytes between two ops that read a weight (a trainable
// parameter of rank >= 2), none before the first weight op nor after the
// last (the embedding stays with the first chunk, the head and the loss
// with the last), none inside one ONNX node's ops.
//
//===----------------------------------------------------------------------===//
#ifndef CLEAVE_PASSES_PIPELINE_SPLITCUTS_H
#define CLEAVE_PASSES_PIPELINE_SPLITCUTS_H

#include "passes/Pipeline/SplitPhases.h"

#include <string>
#include <vector>

namespace mlir::cleave {

/// What cutting at each forward position would cost.
struct CutProfile {
  /// Per position k in [0, n] (n = forward ops; 0 and n cut nothing): the
  /// number of activations (forward values that depend on a batch input)
  /// and the global bytes of all forward values crossing a cut there.
  std::vector<int64_t> crossingCount;
  std::vector<int64_t> crossingBytes;
  /// Per position k: the weight-reading forward ops before it.
  std::vector<int64_t> weightOpsBefore;
  /// The layer boundaries, increasing.
  std::vector<int64_t> candidates;
  /// Per forward position: the seconds of its forward op and of the ops
  /// anchored to it (its backward), as `seconds` prices them.
  std::vector<double> forwardSeconds;
  std::vector<double> backwardSeconds;

  /// The model's layers: the boundaries split it into candidates + 1.
  int64_t numLayers() const { return candidates.size() + 1; }
};

CutProfile profileCuts(const TrainStepPhases &phases,
                       llvm::function_ref<double(Operation *)> seconds);

/// The chunk starts (C entries, the first 0) that cut the forward at C - 1
/// layer boundaries minimising the slowest chunk's forward + backward
/// seconds, then the bytes crossing the cuts. Requires C <= numLayers().
std::vector<int64_t> balanceCuts(const CutProfile &profile, int64_t chunks);

/// The chunk starts for cuts named by ONNX node (each ends a chunk after
/// the node's last forward op), or an error on the function: a name no
/// forward op has (with the nearest names), names out of forward order or
/// ending the same chunk, a cut after the last forward op.
FailureOr<std::vector<int64_t>> resolvePinnedCuts(const TrainStepPhases &phases,
                                                  llvm::ArrayRef<std::string> cuts);

/// The name a cut ending before position `start` is reported by: the ONNX
/// node of the last forward op before it that has one, else the op's name
/// and fwd_id ("cleave.binary#7") when the IR carries no node names.
std::string nameCutBefore(const TrainStepPhases &phases, int64_t start);

} // namespace mlir::cleave

#endif // CLEAVE_PASSES_PIPELINE_SPLITCUTS_H
