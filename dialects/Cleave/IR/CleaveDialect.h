//===- CleaveDialect.h - the cleave dialect -------------------------------===//
#ifndef CLEAVE_DIALECT_CLEAVEDIALECT_H
#define CLEAVE_DIALECT_CLEAVEDIALECT_H

#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/Dialect.h"

#include "dialects/Cleave/IR/CleaveDialect.h.inc"
#include "dialects/Cleave/IR/CleaveEnums.h.inc"

#define GET_ATTRDEF_CLASSES
#include "dialects/Cleave/IR/CleaveAttrs.h.inc"

#endif // CLEAVE_DIALECT_CLEAVEDIALECT_H
