//===- json.h - the JSON the runtime reads and writes ----------------------===//
//
// Private to cleave_rt_core. Safetensors headers and metrics lines are JSON;
// this is a small strict parser (RFC 8259, nesting at most 64 deep) and a
// string quoter, enough for both. Numbers keep their literal text so that
// 64-bit byte offsets are read exactly.
//
//===----------------------------------------------------------------------===//
#ifndef CLEAVE_RT_CORE_JSON_H
#define CLEAVE_RT_CORE_JSON_H

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace cleave::rt {

struct JsonValue {
  enum class Kind { null, boolean, number, string, array, object };

  Kind kind = Kind::null;
  bool boolean = false;
  std::string text; // a string's value, or a number's literal
  std::vector<JsonValue> items;
  std::vector<std::pair<std::string, JsonValue>> members; // in file order

  /// The member named `key` of an object, or nullptr.
  const JsonValue *find(std::string_view key) const;
  /// The value of an integral number that fits int64_t.
  std::optional<int64_t> as_int64() const;
  std::optional<double> as_double() const;
};

/// Parses one JSON value filling all of `text` (surrounding whitespace
/// allowed). Throws Error "<reason> at byte <offset>".
JsonValue parse_json(std::string_view text);

/// `text` as a JSON string literal, quoted and escaped.
std::string json_quote(std::string_view text);

} // namespace cleave::rt

#endif // CLEAVE_RT_CORE_JSON_H
