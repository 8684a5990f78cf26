//===- RuleTables.h - building and reading per-op rule tables -------------===//
//
// The importer, autodiff and codegen each keep a table of rules, one per
// op, filled by one registration function per rules file and built once.
//
//===----------------------------------------------------------------------===//
#ifndef CLEAVE_DIALECT_RULETABLES_H
#define CLEAVE_DIALECT_RULETABLES_H

#include "mlir/IR/Operation.h"
#include "mlir/Support/TypeID.h"
#include "llvm/ADT/DenseMap.h"

#include <initializer_list>

namespace mlir::cleave {

/// A table filled by each of `registrations`, in order.
template <typename Table>
Table buildRuleTable(std::initializer_list<void (*)(Table &)> registrations) {
  Table table;
  for (void (*registration)(Table &) : registrations)
    registration(table);
  return table;
}

/// The rule of `op`'s registered operation in `rules`, or null.
template <typename Rule>
const Rule *lookupOpRule(const llvm::DenseMap<TypeID, Rule> &rules, Operation *op) {
  std::optional<RegisteredOperationName> name = op->getRegisteredInfo();
  if (!name)
    return nullptr;
  auto it = rules.find(name->getTypeID());
  return it == rules.end() ? nullptr : &it->second;
}

} // namespace mlir::cleave

#endif // CLEAVE_DIALECT_RULETABLES_H
