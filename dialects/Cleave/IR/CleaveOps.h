//===- CleaveOps.h - the cleave op set ------------------------------------===//
#ifndef CLEAVE_DIALECT_CLEAVEOPS_H
#define CLEAVE_DIALECT_CLEAVEOPS_H

#include "dialects/Cleave/IR/CleaveDialect.h"
#include "dialects/Cleave/Interfaces/CostInterface.h"
#include "dialects/Cleave/Interfaces/HeavyOpTrait.h"
#include "mlir/Bytecode/BytecodeOpInterface.h"
#include "mlir/Dialect/Shard/IR/ShardOps.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/OpDefinition.h"
#include "mlir/IR/OpImplementation.h"
#include "mlir/Interfaces/InferTypeOpInterface.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"

#define GET_OP_CLASSES
#include "dialects/Cleave/IR/CleaveOps.h.inc"

#endif // CLEAVE_DIALECT_CLEAVEOPS_H
