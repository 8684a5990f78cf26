//===- json.cpp - the JSON the runtime reads and writes --------------------===//
#include "json.h"

#include "cleave/rt/check.h"

#include <cerrno>
#include <cstdio>
#include <cstdlib>

namespace cleave::rt {

const JsonValue *JsonValue::find(std::string_view key) const {
  for (const auto &[name, value] : members)
    if (name == key)
      return &value;
  return nullptr;
}

std::optional<int64_t> JsonValue::as_int64() const {
  if (kind != Kind::number || text.find_first_of(".eE") != std::string::npos)
    return std::nullopt;
  errno = 0;
  char *end = nullptr;
  long long value = std::strtoll(text.c_str(), &end, 10);
  if (errno != 0 || *end != '\0')
    return std::nullopt;
  return value;
}

std::optional<double> JsonValue::as_double() const {
  if (kind != Kind::number)
    return std::nullopt;
  return std::strtod(text.c_str(), nullptr);
}

namespace {

class Parser {
public:
  explicit Parser(std::string_view text) : text_(text) {}

  JsonValue parse_document() {
    JsonValue value = parse_value(0);
    skip_space();
    if (pos_ != text_.size())
      bad("unexpected text after the JSON value");
    return value;
  }

private:
  static constexpr int kMaxDepth = 64;

  [[noreturn]] void bad(const char *why) { fail(why, " at byte ", pos_); }

  void skip_space() {
    while (pos_ < text_.size() && (text_[pos_] == ' ' || text_[pos_] == '\t' ||
                                   text_[pos_] == '\n' || text_[pos_] == '\r'))
      ++pos_;
  }

  bool consume(char c) {
    skip_space();
    if (pos_ < text_.size() && text_[pos_] == c) {
      ++pos_;
      return true;
    }
    return false;
  }

  void expect(char c, const char *why) {
    if (!consume(c))
      bad(why);
  }

  bool consume_word(std::string_view word) {
    if (text_.substr(pos_, word.size()) != word)
      return false;
    pos_ += word.size();
    return true;
  }

  JsonValue parse_value(int depth) {
    if (depth > kMaxDepth)
      bad("JSON nested too deeply");
    skip_space();
    if (pos_ >= text_.size())
      bad("unexpected end of JSON");
    JsonValue value;
    char c = text_[pos_];
    if (c == '{') {
      ++pos_;
      value.kind = JsonValue::Kind::object;
      if (consume('}'))
        return value;
      do {
        skip_space();
        if (pos_ >= text_.size() || text_[pos_] != '"')
          bad("expected a string key");
        std::string key = parse_string();
        expect(':', "expected ':' after a key");
        value.members.emplace_back(std::move(key), parse_value(depth + 1));
      } while (consume(','));
      expect('}', "expected ',' or '}' in an object");
    } else if (c == '[') {
      ++pos_;
      value.kind = JsonValue::Kind::array;
      if (consume(']'))
        return value;
      do
        value.items.push_back(parse_value(depth + 1));
      while (consume(','));
      expect(']', "expected ',' or ']' in an array");
    } else if (c == '"') {
      value.kind = JsonValue::Kind::string;
      value.text = parse_string();
    } else if (consume_word("true")) {
      value.kind = JsonValue::Kind::boolean;
      value.boolean = true;
    } else if (consume_word("false")) {
      value.kind = JsonValue::Kind::boolean;
    } else if (consume_word("null")) {
      value.kind = JsonValue::Kind::null;
    } else {
      value.kind = JsonValue::Kind::number;
      value.text = parse_number();
    }
    return value;
  }

  std::string parse_number() {
    size_t start = pos_;
    auto digits = [&] {
      size_t first = pos_;
      while (pos_ < text_.size() && text_[pos_] >= '0' && text_[pos_] <= '9')
        ++pos_;
      return pos_ > first;
    };
    if (pos_ < text_.size() && text_[pos_] == '-')
      ++pos_;
    if (pos_ < text_.size() && text_[pos_] == '0')
      ++pos_;
    else if (!digits())
      bad("expected a JSON value");
    if (pos_ < text_.size() && text_[pos_] == '.') {
      ++pos_;
      if (!digits())
        bad("expected digits after '.'");
    }
    if (pos_ < text_.size() && (text_[pos_] == 'e' || text_[pos_] == 'E')) {
      ++pos_;
      if (pos_ < text_.size() && (text_[pos_] == '+' || text_[pos_] == '-'))
        ++pos_;
      if (!digits())
        bad("expected digits in an exponent");
    }
    return std::string(text_.substr(start, pos_ - start));
  }

  uint32_t parse_hex4() {
    if (pos_ + 4 > text_.size())
      bad("truncated \\u escape");
    uint32_t value = 0;
    for (int i = 0; i < 4; ++i) {
      char c = text_[pos_++];
      value <<= 4;
      if (c >= '0' && c <= '9')
        value |= static_cast<uint32_t>(c - '0');
      else if (c >= 'a' && c <= 'f')
        value |= static_cast<uint32_t>(c - 'a' + 10);
      else if (c >= 'A' && c <= 'F')
        value |= static_cast<uint32_t>(c - 'A' + 10);
      else
        bad("bad hex digit in a \\u escape");
    }
    return value;
  }

  static void append_utf8(std::string &out, uint32_t code) {
    if (code < 0x80) {
      out += static_cast<char>(code);
    } else if (code < 0x800) {
      out += static_cast<char>(0xC0 | (code >> 6));
      out += static_cast<char>(0x80 | (code & 0x3F));
    } else if (code < 0x10000) {
      out += static_cast<char>(0xE0 | (code >> 12));
      out += static_cast<char>(0x80 | ((code >> 6) & 0x3F));
      out += static_cast<char>(0x80 | (code & 0x3F));
    } else {
      out += static_cast<char>(0xF0 | (code >> 18));
      out += static_cast<char>(0x80 | ((code >> 12) & 0x3F));
      out += static_cast<char>(0x80 | ((code >> 6) & 0x3F));
      out += static_cast<char>(0x80 | (code & 0x3F));
    }
  }

  std::string parse_string() {
    ++pos_; // the opening quote
    std::string out;
    for (;;) {
      if (pos_ >= text_.size())
        bad("unterminated string");
      char c = text_[pos_++];
      if (c == '"')
        return out;
      if (static_cast<unsigned char>(c) < 0x20)
        bad("control character in a string");
      if (c != '\\') {
        out += c;
        continue;
      }
      if (pos_ >= text_.size())
        bad("unterminated string");
      char escape = text_[pos_++];
      switch (escape) {
      case '"':
        out += '"';
        break;
      case '\\':
        out += '\\';
        break;
      case '/':
        out += '/';
        break;
      case 'b':
        out += '\b';
        break;
      case 'f':
        out += '\f';
        break;
      case 'n':
        out += '\n';
        break;
      case 'r':
        out += '\r';
        break;
      case 't':
        out += '\t';
        break;
      case 'u': {
        uint32_t code = parse_hex4();
        if (code >= 0xD800 && code < 0xDC00 && text_.substr(pos_, 2) == "\\u") {
          pos_ += 2;
          uint32_t low = parse_hex4();
          if (low < 0xDC00 || low >= 0xE000)
            bad("unpaired surrogate in a \\u escape");
          code = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00);
        }
        append_utf8(out, code);
        break;
      }
      default:
        bad("unknown escape in a string");
      }
    }
  }

  std::string_view text_;
  size_t pos_ = 0;
};

} // namespace

JsonValue parse_json(std::string_view text) { return Parser(text).parse_document(); }

std::string json_quote(std::string_view text) {
  std::string out = "\"";
  for (char c : text) {
    switch (c) {
    case '"':
      out += "\\\"";
      break;
    case '\\':
      out += "\\\\";
      break;
    case '\n':
      out += "\\n";
      break;
    case '\r':
      out += "\\r";
      break;
    case '\t':
      out += "\\t";
      break;
    default:
      if (static_cast<unsigned char>(c) < 0x20) {
        char escape[7];
        std::snprintf(escape, sizeof escape, "\\u%04x", c);
        out += escape;
      } else {
        out += c;
      }
    }
  }
  return out + "\"";
}

} // namespace cleave::rt
