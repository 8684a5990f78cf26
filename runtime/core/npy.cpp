//===- npy.cpp - NumPy .npy arrays ------------------------------------------===//
#include "cleave/rt/npy.h"

#include "cleave/rt/check.h"
#include "cleave/rt/tensor.h"
#include "file_util.h"

#include <cstring>
#include <string_view>

namespace cleave::rt {

namespace {

struct NpyTypeInfo {
  NpyType type;
  const char *descr;
  const char *name;
  int64_t bytes;
};

constexpr NpyTypeInfo kNpyTypes[] = {
    {NpyType::f2, "<f2", "float16", 2}, {NpyType::f4, "<f4", "float32", 4},
    {NpyType::f8, "<f8", "float64", 8}, {NpyType::i1, "|i1", "int8", 1},
    {NpyType::i4, "<i4", "int32", 4},   {NpyType::i8, "<i8", "int64", 8},
    {NpyType::u1, "|u1", "uint8", 1},   {NpyType::b1, "|b1", "bool", 1},
};

const NpyTypeInfo &info(NpyType type) {
  for (const NpyTypeInfo &entry : kNpyTypes)
    if (entry.type == type)
      return entry;
  CLEAVE_CHECK(false, "unknown NpyType ", static_cast<int>(type));
}

/// Reads the header dict, a Python literal such as
///   {'descr': '<f4', 'fortran_order': False, 'shape': (3, 4), }
/// Only what np.save writes is accepted: string keys, a string descr, a
/// True/False fortran_order and a tuple of non-negative ints.
class HeaderParser {
public:
  HeaderParser(std::string_view text, const std::string &path) : text_(text), path_(path) {}

  void parse(std::string &descr, bool &fortran_order, std::vector<int64_t> &shape) {
    bool have_descr = false, have_order = false, have_shape = false;
    expect('{');
    while (!consume('}')) {
      std::string key = parse_string();
      expect(':');
      if (key == "descr") {
        if (peek() == '[')
          bad("structured dtypes (a list 'descr') are not supported; save a plain numeric array");
        descr = parse_string();
        have_descr = true;
      } else if (key == "fortran_order") {
        fortran_order = parse_bool();
        have_order = true;
      } else if (key == "shape") {
        shape = parse_tuple();
        have_shape = true;
      } else {
        bad("unexpected key '" + key + "' in the header");
      }
      if (!consume(','))
        expect_now('}');
    }
    if (!have_descr || !have_order || !have_shape)
      bad("the header lacks 'descr', 'fortran_order' or 'shape'");
  }

private:
  [[noreturn]] void bad(const std::string &why) {
    fail("'", path_, "' is not a valid .npy file: ", why);
  }

  void skip_space() {
    while (pos_ < text_.size() &&
           (text_[pos_] == ' ' || text_[pos_] == '\n' || text_[pos_] == '\t'))
      ++pos_;
  }

  char peek() {
    skip_space();
    return pos_ < text_.size() ? text_[pos_] : '\0';
  }

  bool consume(char c) {
    if (peek() != c)
      return false;
    ++pos_;
    return true;
  }

  void expect(char c) {
    if (!consume(c))
      bad(std::string("malformed header: expected '") + c + "' at offset " + std::to_string(pos_));
  }

  void expect_now(char c) {
    if (peek() != c)
      bad(std::string("malformed header: expected ',' or '") + c + "' at offset " +
          std::to_string(pos_));
  }

  std::string parse_string() {
    char quote = peek();
    if (quote != '\'' && quote != '"')
      bad("malformed header: expected a string at offset " + std::to_string(pos_));
    size_t end = text_.find(quote, pos_ + 1);
    if (end == std::string_view::npos)
      bad("malformed header: unterminated string");
    std::string value(text_.substr(pos_ + 1, end - pos_ - 1));
    pos_ = end + 1;
    return value;
  }

  bool parse_bool() {
    skip_space();
    for (auto [word, value] : {std::pair{"True", true}, std::pair{"False", false}}) {
      if (text_.substr(pos_, std::strlen(word)) == word) {
        pos_ += std::strlen(word);
        return value;
      }
    }
    bad("malformed header: fortran_order is neither True nor False");
  }

  std::vector<int64_t> parse_tuple() {
    std::vector<int64_t> values;
    expect('(');
    while (!consume(')')) {
      skip_space();
      size_t start = pos_;
      int64_t value = 0;
      while (pos_ < text_.size() && text_[pos_] >= '0' && text_[pos_] <= '9') {
        if (value > (INT64_MAX - 9) / 10)
          bad("a dimension in 'shape' is too large");
        value = value * 10 + (text_[pos_++] - '0');
      }
      if (pos_ == start)
        bad("malformed header: 'shape' must be a tuple of non-negative integers");
      if (pos_ < text_.size() && text_[pos_] == 'L') // Python 2 long suffix
        ++pos_;
      values.push_back(value);
      if (!consume(','))
        expect_now(')');
    }
    return values;
  }

  std::string_view text_;
  const std::string &path_;
  size_t pos_ = 0;
};

/// Maps a descr to a supported type; '=' (native) is little-endian here.
NpyType parse_descr(std::string descr, const std::string &path) {
  if (descr.size() == 3 && descr[0] == '>' && descr[1] != '1')
    fail("'", path, "' holds big-endian data (dtype '", descr,
         "'); convert it with a.astype(a.dtype.newbyteorder('<'))");
  if (descr.size() == 3 && descr[0] == '=')
    descr[0] = '<';
  // One-byte types may be written with any byte-order character.
  if (descr.size() == 3 && descr[2] == '1' && (descr[0] == '<' || descr[0] == '>'))
    descr[0] = '|';
  for (const NpyTypeInfo &entry : kNpyTypes)
    if (descr == entry.descr)
      return entry.type;
  fail("'", path, "' has dtype '", descr,
       "', which is not supported; use one of float16, float32, float64, int8, int32, int64, "
       "uint8, bool (little-endian)");
}

uint32_t read_le(const uint8_t *bytes, int count) {
  uint32_t value = 0;
  for (int i = count - 1; i >= 0; --i)
    value = (value << 8) | bytes[i];
  return value;
}

constexpr char kMagic[] = "\x93NUMPY";
constexpr size_t kMagicSize = 6;

} // namespace

const char *npy_descr(NpyType type) { return info(type).descr; }
const char *npy_type_name(NpyType type) { return info(type).name; }
int64_t npy_type_bytes(NpyType type) { return info(type).bytes; }

NpyArray::NpyArray(const std::string &path) : file_(std::make_shared<MappedFile>(path)) {
  const uint8_t *bytes = file_->data();
  int64_t size = file_->size();
  if (size < 10 || std::memcmp(bytes, kMagic, kMagicSize) != 0)
    fail("'", path, "' is not a .npy file (it does not start with \"\\x93NUMPY\")");
  version_ = bytes[6];
  if (version_ < 1 || version_ > 3)
    fail("'", path, "' uses .npy format version ", version_, ".", int(bytes[7]),
         "; versions 1.0, 2.0 and 3.0 are supported");
  int length_bytes = version_ == 1 ? 2 : 4;
  int64_t header_start = 8 + length_bytes;
  if (size < header_start)
    fail("'", path, "' is truncated inside its header");
  int64_t header_length = read_le(bytes + 8, length_bytes);
  data_offset_ = header_start + header_length;
  if (size < data_offset_)
    fail("'", path, "' is truncated inside its header");

  std::string descr;
  bool fortran_order = false;
  std::string_view header(reinterpret_cast<const char *>(bytes + header_start),
                          static_cast<size_t>(header_length));
  HeaderParser(header, path).parse(descr, fortran_order, shape_);
  type_ = parse_descr(descr, path);
  if (fortran_order && shape_.size() > 1)
    fail("'", path,
         "' is stored in Fortran (column-major) order; save it in C order with "
         "np.save(path, np.ascontiguousarray(a))");

  int64_t expected = data_offset_ + byte_size();
  if (size < expected)
    fail("'", path, "' is truncated: its header promises ", npy_type_name(type_),
         shape_string(shape_), " (", byte_size(), " bytes of data) but the file has ",
         size - data_offset_, " bytes of data");
  if (size > expected)
    fail("'", path, "' has ", size - expected, " bytes after the ", npy_type_name(type_),
         shape_string(shape_), " its header describes");
}

int64_t NpyArray::num_elements() const {
  int64_t count = 1;
  for (int64_t dim : shape_)
    count *= dim;
  return count;
}

void write_npy(const std::string &path, NpyType type, const std::vector<int64_t> &shape,
               const void *data) {
  std::string dict =
      std::string("{'descr': '") + npy_descr(type) + "', 'fortran_order': False, 'shape': (";
  for (size_t i = 0; i < shape.size(); ++i)
    dict += (i ? ", " : "") + std::to_string(shape[i]);
  dict += shape.size() == 1 ? ",), }" : "), }";

  // NumPy pads the header with spaces and a final newline so that the data
  // starts at a multiple of 64 bytes.
  bool version2 = dict.size() + 1 + 10 > 65535;
  size_t prefix = version2 ? 12 : 10;
  size_t total = (prefix + dict.size() + 1 + 63) / 64 * 64;
  dict.append(total - prefix - dict.size() - 1, ' ');
  dict += '\n';

  std::string head(kMagic, kMagicSize);
  head += static_cast<char>(version2 ? 2 : 1);
  head += '\0';
  uint32_t length = static_cast<uint32_t>(dict.size());
  for (size_t i = 0; i < (version2 ? 4u : 2u); ++i)
    head += static_cast<char>((length >> (8 * i)) & 0xFF);

  int64_t elements = 1;
  for (int64_t dim : shape)
    elements *= dim;
  AtomicFileWriter out(path);
  out.write(head + dict);
  out.write(data, elements * npy_type_bytes(type));
  out.commit();
}

} // namespace cleave::rt
