//===- MemoryCost.h - what one device must hold ---------------------------===//
//
// Per device: every parameter's value, gradient and optimizer state, each
// divided by how many ways it is sharded, plus the peak of live activations
// (the codegen MemoryPlan's workspace, computed from liveness).
//
// Bytes per parameter element come from the optimizer and the precision:
//
//   fp32 training (cleave's default)   value 4, gradient 4, state: SGD 0,
//                                      SGD with momentum 4, AdamW 8 (two moments)
//   mixed precision (16-bit value and  value 2, gradient 2, state: an fp32
//   gradient, fp32 master copy)        master copy 4 + the moments above
//                                      (AdamW: K = 12, ZeRO's figure)
//
// ZeRO shards over the N_d data-parallel ranks: stage 1 the optimizer
// state, stage 2 also the gradients, stage 3 also the values. For AdamW
// with mixed precision, Psi parameters:
//   baseline 16 Psi,  ZeRO-1 4 Psi + 12 Psi / N_d,  ZeRO-2 2 Psi + 14 Psi / N_d,
//   ZeRO-3 16 Psi / N_d.
// A tensor-parallel split multiplies into all three factors.
//
//===----------------------------------------------------------------------===//
#ifndef CLEAVE_PASSES_ANALYSIS_COST_MEMORYCOST_H
#define CLEAVE_PASSES_ANALYSIS_COST_MEMORYCOST_H

#include "passes/Analysis/Cluster/Cluster.h"

#include "llvm/ADT/StringRef.h"

#include <cstdint>
#include <optional>

namespace mlir::cleave {

enum class OptimizerKind { sgd, sgdMomentum, adamw };

/// "sgd" (momentum 0), "sgd" with momentum, or "adamw", as cleavec's
/// --optimizer and --momentum name them.
std::optional<OptimizerKind> parseOptimizerKind(llvm::StringRef name, double momentum = 0);

/// Bytes one parameter element costs, by what they are for.
struct ParameterBytes {
  int64_t value = 4;
  int64_t gradient = 4;
  int64_t optimizerState = 8;
};

/// The table above. `valueBytes` is the size of the parameter's element
/// type (4 for f32, 2 for bf16/f16); 16-bit values imply an fp32 master
/// copy in the optimizer state.
ParameterBytes getParameterBytes(OptimizerKind optimizer, int64_t valueBytes = 4);

/// How many ways each part of a parameter's training state is split.
struct ShardFactors {
  int64_t value = 1;
  int64_t gradient = 1;
  int64_t optimizerState = 1;
};

/// ZeRO stage 0 to 3 over `dataParallel` ranks (stage 0: nothing sharded);
/// stages above 3 count as 3.
ShardFactors getZeroShardFactors(int stage, int64_t dataParallel);

/// Bytes one device holds, by what they are for.
struct DeviceMemory {
  int64_t parameters = 0;
  int64_t gradients = 0;
  int64_t optimizerState = 0;
  int64_t activations = 0;

  int64_t total() const { return parameters + gradients + optimizerState + activations; }
  DeviceMemory &operator+=(const DeviceMemory &other);
};

/// What one device holds of a parameter tensor of `elements` elements. A
/// part split f ways holds ceil(elements / f) elements (uneven splits pad
/// the last shard).
DeviceMemory getParameterMemory(int64_t elements, const ParameterBytes &bytes,
                                const ShardFactors &shards);

/// By how many bytes `memory` exceeds one device of `cluster` (0 if it
/// fits): the planner reports it with the option that would help.
int64_t getMemoryOverflow(const DeviceMemory &memory, const Cluster &cluster);

} // namespace mlir::cleave

#endif // CLEAVE_PASSES_ANALYSIS_COST_MEMORYCOST_H
