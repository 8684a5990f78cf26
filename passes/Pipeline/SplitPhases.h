//===- SplitPhases.h - which forward op each op of a train step serves ----===//
//
// cleave-pipeline-split cuts the forward into contiguous chunks; everything
// else follows a forward op: a backward op the op it differentiates
// (cleave.bwd_of), an update op its parameter (cleave.update_of), an op
// canonicalization made (untagged) its users, else its producers. This
// file reads those tags once into roles, so that the cut search, the
// counting and the tagging all agree on who belongs where.
//
//===----------------------------------------------------------------------===//
#ifndef CLEAVE_PASSES_PIPELINE_SPLITPHASES_H
#define CLEAVE_PASSES_PIPELINE_SPLITPHASES_H

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "llvm/ADT/DenseMap.h"

#include <vector>

namespace mlir::cleave {

enum class SplitPhase { forward, backward, update };

/// "forward", "backward", "update" (the values of cleave.phase).
llvm::StringRef stringifySplitPhase(SplitPhase phase);

/// Where an op belongs: forward and backward ops to the forward position
/// `anchor` (an index into TrainStepPhases::forwardOps), update ops to the
/// train_step argument `anchor` (-1: gradient clipping, which spans all).
struct OpRole {
  SplitPhase phase = SplitPhase::forward;
  int64_t anchor = 0;
};

/// The roles of every non-constant op of a phase-tagged train step.
class TrainStepPhases {
public:
  /// Reads `function`'s tags; fails (with an error on the function) when it
  /// has no forward op tagged cleave.fwd_id: the train pipeline did not run
  /// with phase-tags=true.
  static FailureOr<TrainStepPhases> analyze(func::FuncOp function);

  func::FuncOp getFunction() const { return function; }
  /// The forward ops (tagged cleave.fwd_id), in block order: the positions
  /// the cuts fall between.
  llvm::ArrayRef<Operation *> getForwardOps() const { return forwardOps; }
  /// The role of a non-constant op of the body (null for constants and the
  /// terminator).
  const OpRole *getRole(Operation *op) const;
  /// The ops with a role, in block order.
  llvm::ArrayRef<Operation *> getOps() const { return ops; }

private:
  func::FuncOp function;
  std::vector<Operation *> forwardOps;
  std::vector<Operation *> ops;
  llvm::DenseMap<Operation *, OpRole> roles;
};

/// The chunk of each op and the owner of each argument under given cuts.
struct ChunkAssignment {
  /// chunkStarts[c]: the first forward position of chunk c (chunkStarts[0]
  /// = 0, strictly increasing).
  std::vector<int64_t> chunkStarts;
  /// Per forward position, its chunk.
  std::vector<int64_t> chunkOfPosition;
  /// Per train_step argument: the chunk that owns it (the first whose
  /// forward reads it; parameters no forward op reads: chunk 0; optimizer
  /// state: its parameter's owner), and all chunks whose forward reads it.
  std::vector<int64_t> argumentOwner;
  std::vector<std::vector<int64_t>> argumentForwardChunks;
  /// Per op with a role.
  llvm::DenseMap<Operation *, int64_t> chunkOf;

  int64_t numChunks() const { return chunkStarts.size(); }
};

/// Assigns every op of `phases` a chunk for the chunks starting at
/// `chunkStarts`.
ChunkAssignment assignChunks(const TrainStepPhases &phases, std::vector<int64_t> chunkStarts);

/// Checks that values flow as a pipeline can carry them: forward values to
/// the same or later chunks, backward values to the same or earlier ones.
/// The error, on the reading op, names both ops' ONNX nodes and chunks.
LogicalResult verifyChunkFlow(const TrainStepPhases &phases, const ChunkAssignment &assignment);

} // namespace mlir::cleave

#endif // CLEAVE_PASSES_PIPELINE_SPLITPHASES_H
