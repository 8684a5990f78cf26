//===- Collectives.h - shard collectives -> runtime calls -----------------===//
//
// A partitioned train step (cleave-partition) holds shard.all_reduce,
// shard.reduce_scatter, shard.all_gather, shard.all_to_all and
// shard.all_slice ops; each becomes one call of cleave::rt::collective
// (runtime/include/cleave/rt/collectives.h) on the communicator of its grid
// axes, by the rules Collectives.cpp adds to the rule table. The model table of
// such a program also records the grid and each tensor's sharding, with
// global shapes, so that the driver loads and checkpoints whole tensors.
//
//===----------------------------------------------------------------------===//
#ifndef CLEAVE_COMPILER_CODEGEN_COLLECTIVES_H
#define CLEAVE_COMPILER_CODEGEN_COLLECTIVES_H

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/BuiltinOps.h"

#include <optional>
#include <string>

namespace mlir::cleave::codegen {

/// The device grid of `function`'s module as "dp=2,tp=2", or nullopt for a
/// one-device program.
std::optional<std::string> gridOf(func::FuncOp function);

/// For argument `index` of a partitioned function: its sharding string
/// ("dp,-", "" when whole) and its global shape.
struct ArgumentLayout {
  std::string sharding;
  SmallVector<int64_t> globalShape;
};
ArgumentLayout argumentLayout(func::FuncOp function, unsigned index);

} // namespace mlir::cleave::codegen

#endif // CLEAVE_COMPILER_CODEGEN_COLLECTIVES_H
