//===- Precision.h - the bytes a training run keeps and moves per element -===//
//
// `--precision bf16` prices the plan as a mixed-precision training run
// (Micikevicius et al., 2018; the ZeRO paper's count, Rajbhandari et al.,
// 2020): bf16 activations, gradients and messages, bf16 products with fp32
// sums, an fp32 master copy of every parameter and fp32 optimizer state.
// Per element of an f32 tensor of the IR:
//
//   what                                        fp32   bf16
//   activation kept for the backward, sent
//   across a pipeline cut or a collective          4      2
//   gradient (and its all-reduce/reduce-scatter)   4      2
//   parameter: working copy + fp32 master          4      2 + 4
//   optimizer state (AdamW: two moments)         4 each  4 each
//
// so a trainable AdamW parameter holds 4 + 4 + 8 = 16 bytes in fp32 and
// 2 + 4 + 2 + 8 = 16 in bf16; activations halve. Other element types
// (token ids, masks) and scalars (the loss) keep their size. The IR keeps f32 throughout: these
// functions price it, they change nothing.
//
//===----------------------------------------------------------------------===//
#ifndef CLEAVE_PASSES_ANALYSIS_COST_PRECISION_H
#define CLEAVE_PASSES_ANALYSIS_COST_PRECISION_H

#include "passes/Analysis/Cost/ComputeCost.h"

#include "mlir/IR/Types.h"
#include "llvm/ADT/StringRef.h"

#include <cstdint>
#include <optional>

namespace mlir::cleave {

enum class Precision { fp32, bf16 };

/// "fp32" or "bf16" (cleavec's --precision), else nullopt.
std::optional<Precision> parsePrecision(llvm::StringRef name);
llvm::StringRef getPrecisionName(Precision precision);

/// The type `type` is kept and moved in at `precision`: under bf16 an f32
/// tensor of rank > 0 becomes bf16; anything else (rank-0 tensors such as
/// the loss, integers) is unchanged.
Type getTrainingType(Type type, Precision precision);

/// Bytes of an activation, a gradient or a message of IR type `type`.
int64_t getActivationBytes(Type type, Precision precision);
/// Bytes of a parameter of IR type `type`: itself in fp32; under bf16 its
/// bf16 working copy plus its fp32 master copy.
int64_t getParameterBytes(Type type, Precision precision);
/// Bytes of an optimizer-state tensor: fp32 state at either precision.
int64_t getOptimizerStateBytes(Type type, Precision precision);

/// How ComputeCost prices ops at `precision`: under bf16 products run at
/// the bf16 peak and the other ops move 2-byte activations.
ComputeOptions getComputeOptions(Precision precision);

} // namespace mlir::cleave

#endif // CLEAVE_PASSES_ANALYSIS_COST_PRECISION_H
