//===- enum_table.h - per-enumerator facts kept in tables -----------------===//
//
// Names and sizes of the runtime's small enums live in arrays indexed by the
// enumerator, one entry per enumerator in declaration order (each table has a
// static_assert on its length), instead of one switch statement per fact.
//
//===----------------------------------------------------------------------===//
#ifndef CLEAVE_RT_ENUM_TABLE_H
#define CLEAVE_RT_ENUM_TABLE_H

#include "cleave/rt/check.h"

#include <cstddef>

namespace cleave::rt {

/// The number of enumerators of `Enum`, whose last one is `last`.
template <typename Enum> constexpr size_t enum_count(Enum last) {
  return static_cast<size_t>(last) + 1;
}

/// table[value]; a value outside the table is a broken invariant, reported
/// as "unknown <enum_name> <value>".
template <typename T, size_t N, typename Enum>
const T &enum_entry(const T (&table)[N], Enum value, const char *enum_name) {
  const auto index = static_cast<size_t>(value);
  CLEAVE_CHECK(index < N, "unknown ", enum_name, " ", static_cast<int>(value));
  return table[index];
}

/// table[value], or `otherwise` for a value outside the table.
template <typename T, size_t N, typename Enum>
const T &enum_entry_or(const T (&table)[N], Enum value, const T &otherwise) {
  const auto index = static_cast<size_t>(value);
  return index < N ? table[index] : otherwise;
}

} // namespace cleave::rt

#endif // CLEAVE_RT_ENUM_TABLE_H
