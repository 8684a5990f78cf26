//===- CostInterface.h - what an op costs to run --------------------------===//
#ifndef CLEAVE_INTERFACES_COSTINTERFACE_H
#define CLEAVE_INTERFACES_COSTINTERFACE_H

#include "mlir/IR/OpDefinition.h"

namespace mlir::cleave {
namespace detail {
/// Elements in all ranked-tensor results of `op`.
int64_t countResultElements(Operation *op);
/// Bytes of all ranked-tensor operands and results of `op` (sub-byte types
/// such as i1 round up to one byte per element).
int64_t countOperandAndResultBytes(Operation *op);
} // namespace detail

/// Bytes one element of `elementType` occupies (sub-byte types such as i1
/// take one byte).
int64_t getElementBytes(Type elementType);

/// Bytes one tensor of `type` occupies (0 for non-tensor types). Every
/// byte count of the compiler (costs, the search's memory, the plan
/// report, codegen's buffers) is this one.
int64_t getTensorBytes(Type type);
} // namespace mlir::cleave

#include "dialects/Cleave/Interfaces/CostInterface.h.inc"

#endif // CLEAVE_INTERFACES_COSTINTERFACE_H
