//===- HeavyOpTrait.h - ops whose sharding is a decision ------------------===//
//
// The C++ side of Cleave_HeavyOp (HeavyOpTrait.td): a marker, queried as
// `op->hasTrait<OpTrait::cleave::HeavyOp>()`.
//
//===----------------------------------------------------------------------===//
#ifndef CLEAVE_INTERFACES_HEAVYOPTRAIT_H
#define CLEAVE_INTERFACES_HEAVYOPTRAIT_H

#include "mlir/IR/OpDefinition.h"

namespace mlir::OpTrait::cleave {

/// An op whose layout the sharding search decides; others follow theirs.
template <typename ConcreteType> class HeavyOp : public TraitBase<ConcreteType, HeavyOp> {};

} // namespace mlir::OpTrait::cleave

#endif // CLEAVE_INTERFACES_HEAVYOPTRAIT_H
