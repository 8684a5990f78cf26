//===- safetensors.cpp - the safetensors tensor file format ----------------===//
#include "cleave/rt/safetensors.h"

#include "cleave/rt/check.h"
#include "cleave/rt/crc32c.h"
#include "cleave/rt/tensor.h"
#include "file_util.h"
#include "json.h"

#include <algorithm>
#include <cstdio>
#include <optional>
#include <set>

namespace cleave::rt {

namespace {

constexpr std::pair<DType, const char *> kDTypeNames[] = {
    {DType::f32, "F32"}, {DType::f64, "F64"}, {DType::f16, "F16"}, {DType::bf16, "BF16"},
    {DType::i64, "I64"}, {DType::i32, "I32"}, {DType::i8, "I8"},   {DType::i1, "BOOL"},
};

// The safetensors library refuses headers over 100 MB; so does this reader,
// which also keeps a corrupt length from turning into a huge allocation.
constexpr int64_t kMaxHeaderBytes = 100'000'000;

// Checksums live in __metadata__ as 8 lowercase hex digits: one per tensor
// under "crc32c:<name>", and one of the 8-byte length and the header JSON
// under kHeaderChecksumKey, computed with its own value written as
// kNoChecksum. Fixed width, so the writer lays the header out before the
// data and fills the values in afterwards without moving anything.
constexpr const char *kChecksumPrefix = "crc32c:";
constexpr const char *kHeaderChecksumKey = "header_crc32c";
constexpr const char *kNoChecksum = "00000000";

std::string hex32(uint32_t value) {
  char text[9];
  std::snprintf(text, sizeof text, "%08x", value);
  return text;
}

std::optional<uint32_t> parse_hex32(const std::string &text) {
  if (text.size() != 8)
    return std::nullopt;
  uint32_t value = 0;
  for (char c : text) {
    int digit = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
    if (digit < 0)
      return std::nullopt;
    value = value << 4 | static_cast<uint32_t>(digit);
  }
  return value;
}

std::string checksum_key(const std::string &tensor) { return kChecksumPrefix + tensor; }

/// The 8-byte little-endian header length followed by the header.
std::string with_length(const std::string &json) {
  std::string bytes(8, '\0');
  uint64_t length = json.size();
  for (int i = 0; i < 8; ++i)
    bytes[static_cast<size_t>(i)] = static_cast<char>(length >> (8 * i));
  return bytes + json;
}

/// The CRC32C of `prefixed_header` (length and JSON) with the header
/// checksum's value, which starts at `value_at`, read as kNoChecksum.
uint32_t header_checksum(std::string prefixed_header, size_t value_at) {
  prefixed_header.replace(value_at, 8, kNoChecksum);
  return crc32c(prefixed_header.data(), prefixed_header.size());
}

/// Where the header checksum's value starts in `prefixed_header`, or npos.
size_t header_checksum_at(const std::string &prefixed_header) {
  const std::string pattern = json_quote(kHeaderChecksumKey) + ":\"";
  size_t found = prefixed_header.find(pattern);
  if (found == std::string::npos || found + pattern.size() + 8 > prefixed_header.size())
    return std::string::npos;
  return found + pattern.size();
}

std::string header_json(const std::vector<SafetensorsEntry> &entries, const Metadata &metadata) {
  std::string json = "{\"__metadata__\":{";
  bool first = true;
  for (const auto &[key, value] : metadata) {
    json += (first ? "" : ",") + json_quote(key) + ":" + json_quote(value);
    first = false;
  }
  json += "}";
  for (const SafetensorsEntry &entry : entries) {
    json += "," + json_quote(entry.name) + ":{\"dtype\":\"" + safetensors_dtype(entry.dtype) +
            "\",\"shape\":[";
    for (size_t i = 0; i < entry.shape.size(); ++i)
      json += (i ? "," : "") + std::to_string(entry.shape[i]);
    json += "],\"data_offsets\":[" + std::to_string(entry.begin) + "," + std::to_string(entry.end) +
            "]}";
  }
  json += "}";
  // Pad so the data section starts 8-byte aligned, as the library does.
  json.append((8 - json.size() % 8) % 8, ' ');
  return json;
}

} // namespace

const char *safetensors_dtype(DType dtype) {
  for (const auto &[type, name] : kDTypeNames)
    if (type == dtype)
      return name;
  CLEAVE_CHECK(false, "unknown DType ", static_cast<int>(dtype));
}

//===-- writer -------------------------------------------------------------===//

struct SafetensorsWriter::Impl {
  std::vector<SafetensorsEntry> entries;
  Metadata metadata; // the caller's, plus the checksums
  AtomicFileWriter out;
  size_t next = 0;
  bool checksums_written = false;

  Impl(const std::string &path, std::vector<SafetensorsEntry> laid_out, Metadata metadata)
      : entries(std::move(laid_out)), metadata(std::move(metadata)), out(path) {}

  /// Rewrites the header, now that every tensor's checksum is known.
  void write_checksums() {
    if (checksums_written)
      return;
    for (const SafetensorsEntry &entry : entries)
      metadata[checksum_key(entry.name)] = hex32(*entry.crc32c);
    metadata[kHeaderChecksumKey] = kNoChecksum;
    std::string header = with_length(header_json(entries, metadata));
    metadata[kHeaderChecksumKey] = hex32(header_checksum(header, header_checksum_at(header)));
    header = with_length(header_json(entries, metadata));
    out.write_at(0, header.data(), static_cast<int64_t>(header.size()));
    checksums_written = true;
  }
};

SafetensorsWriter::SafetensorsWriter(const std::string &path, std::vector<SafetensorsEntry> entries,
                                     const Metadata &metadata) {
  int64_t offset = 0;
  Metadata laid_out = metadata;
  for (SafetensorsEntry &entry : entries) {
    entry.begin = offset;
    offset += num_elements(entry.shape) * dtype_bytes(entry.dtype);
    entry.end = offset;
    entry.crc32c.reset();
    laid_out[checksum_key(entry.name)] = kNoChecksum;
  }
  for (const auto &[key, value] : metadata)
    CLEAVE_CHECK(key != kHeaderChecksumKey && key.rfind(kChecksumPrefix, 0) != 0,
                 "safetensors metadata key '", key, "' is reserved for the checksums");
  laid_out[kHeaderChecksumKey] = kNoChecksum;
  // The header as it will be, with every checksum still zero: the same
  // length as the final one, which write_checksums puts over it.
  std::string header = with_length(header_json(entries, laid_out));
  impl_ = std::make_unique<Impl>(path, std::move(entries), metadata);
  impl_->out.write(header);
}

SafetensorsWriter::~SafetensorsWriter() = default;

const std::vector<SafetensorsEntry> &SafetensorsWriter::entries() const { return impl_->entries; }

void SafetensorsWriter::write_next(const void *data) {
  CLEAVE_CHECK(impl_->next < impl_->entries.size(), "more tensors written than laid out");
  SafetensorsEntry &entry = impl_->entries[impl_->next++];
  entry.crc32c = crc32c(data, static_cast<size_t>(entry.end - entry.begin));
  impl_->out.write(data, entry.end - entry.begin);
}

std::string SafetensorsWriter::finish_temp() {
  CLEAVE_CHECK(impl_->next == impl_->entries.size(), "only ", impl_->next, " of ",
               impl_->entries.size(), " tensors written");
  impl_->write_checksums();
  return impl_->out.finish_temp();
}

void SafetensorsWriter::commit() {
  CLEAVE_CHECK(impl_->next == impl_->entries.size(), "only ", impl_->next, " of ",
               impl_->entries.size(), " tensors written");
  impl_->write_checksums();
  impl_->out.commit();
}

//===-- reader -------------------------------------------------------------===//

struct SafetensorsFile::Impl {
  File file;
  bool checksums = false;
  Metadata metadata;
  std::vector<SafetensorsEntry> entries;
  int64_t data_start = 0;
};

SafetensorsFile::SafetensorsFile(const std::string &path) : impl_(std::make_unique<Impl>()) {
  impl_->file = File::open_read(path);
  auto bad = [&path](const std::string &why) {
    fail("'", path, "' is not a valid safetensors file: ", why);
  };
  int64_t size = impl_->file.size();
  if (size < 8)
    bad("it is " + std::to_string(size) + " bytes long, shorter than the 8-byte header length");
  unsigned char prefix[8];
  impl_->file.read_at(0, prefix, 8);
  uint64_t length = 0;
  for (int i = 7; i >= 0; --i)
    length = (length << 8) | prefix[i];
  if (length > static_cast<uint64_t>(kMaxHeaderBytes) || static_cast<int64_t>(length) > size - 8)
    bad("the header length " + std::to_string(length) + " does not fit the file's " +
        std::to_string(size) + " bytes (truncated or not safetensors)");
  impl_->data_start = 8 + static_cast<int64_t>(length);

  std::string text(length, '\0');
  impl_->file.read_at(8, text.data(), static_cast<int64_t>(length));
  JsonValue header;
  try {
    header = parse_json(text);
  } catch (const Error &error) {
    bad(std::string("its JSON header does not parse: ") + error.what());
  }
  if (header.kind != JsonValue::Kind::object)
    bad("its JSON header is not an object");

  std::set<std::string> seen;
  for (const auto &[name, value] : header.members) {
    if (name == "__metadata__") {
      if (value.kind != JsonValue::Kind::object)
        bad("__metadata__ is not an object");
      for (const auto &[key, item] : value.members) {
        if (item.kind != JsonValue::Kind::string)
          bad("__metadata__ value '" + key + "' is not a string");
        impl_->metadata[key] = item.text;
      }
      continue;
    }
    const std::string where = "tensor '" + name + "' ";
    if (!seen.insert(name).second)
      bad(where + "appears twice");
    if (value.kind != JsonValue::Kind::object)
      bad(where + "is not described by an object");
    SafetensorsEntry entry;
    entry.name = name;
    const JsonValue *dtype = value.find("dtype");
    const JsonValue *shape = value.find("shape");
    const JsonValue *offsets = value.find("data_offsets");
    if (!dtype || dtype->kind != JsonValue::Kind::string || !shape ||
        shape->kind != JsonValue::Kind::array || !offsets ||
        offsets->kind != JsonValue::Kind::array || offsets->items.size() != 2)
      bad(where + "lacks a string 'dtype', an array 'shape' or a pair 'data_offsets'");
    auto type = std::find_if(std::begin(kDTypeNames), std::end(kDTypeNames),
                             [&](const auto &known) { return dtype->text == known.second; });
    if (type == std::end(kDTypeNames))
      bad(where + "has dtype '" + dtype->text + "', which the runtime does not use");
    entry.dtype = type->first;
    for (const JsonValue &dim : shape->items) {
      std::optional<int64_t> extent = dim.as_int64();
      if (!extent || *extent < 0)
        bad(where + "has a shape entry that is not a non-negative integer");
      entry.shape.push_back(*extent);
    }
    std::optional<int64_t> begin = offsets->items[0].as_int64();
    std::optional<int64_t> end = offsets->items[1].as_int64();
    if (!begin || !end || *begin < 0 || *end < *begin)
      bad(where + "has bad data_offsets");
    entry.begin = *begin;
    entry.end = *end;
    if (entry.end - entry.begin != num_elements(entry.shape) * dtype_bytes(entry.dtype))
      bad(where + "has data_offsets [" + std::to_string(entry.begin) + ", " +
          std::to_string(entry.end) + ") that do not hold " + dtype->text +
          shape_string(entry.shape));
    impl_->entries.push_back(std::move(entry));
  }

  std::sort(impl_->entries.begin(), impl_->entries.end(),
            [](const SafetensorsEntry &a, const SafetensorsEntry &b) { return a.begin < b.begin; });
  int64_t expected = 0;
  for (size_t i = 0; i < impl_->entries.size(); ++i) {
    const SafetensorsEntry &entry = impl_->entries[i];
    if (entry.begin != expected)
      bad("tensor '" + entry.name + "' starts at data byte " + std::to_string(entry.begin) +
          ", not " + std::to_string(expected) + " (overlapping tensors or a hole)");
    expected = entry.end;
  }
  int64_t data_size = size - impl_->data_start;
  if (expected != data_size)
    bad("the tensors need " + std::to_string(expected) + " bytes of data but the file has " +
        std::to_string(data_size) + (expected > data_size ? " (truncated)" : ""));
  read_checksums(std::string(reinterpret_cast<const char *>(prefix), 8) + text);
}

void SafetensorsFile::read_checksums(const std::string &prefixed_header) {
  Metadata &metadata = impl_->metadata;
  auto bad = [&](const std::string &why) {
    fail("'", path(), "' is damaged: ", why,
         "; restore it from a good copy (for a checkpoint: resume from an earlier one)");
  };
  std::map<std::string, uint32_t> sums;
  std::optional<uint32_t> header_sum;
  for (auto item = metadata.begin(); item != metadata.end();) {
    bool tensor = item->first.rfind(kChecksumPrefix, 0) == 0;
    if (!tensor && item->first != kHeaderChecksumKey) {
      ++item;
      continue;
    }
    std::optional<uint32_t> value = parse_hex32(item->second);
    if (!value)
      bad("its checksum '" + item->first + "' = '" + item->second +
          "' is not 8 lowercase hex digits");
    if (tensor)
      sums[item->first.substr(std::string(kChecksumPrefix).size())] = *value;
    else
      header_sum = *value;
    item = metadata.erase(item);
  }
  // Files from before the checksums, or from other writers, have none.
  if (sums.empty() && !header_sum)
    return;
  if (!header_sum)
    bad("it has tensor checksums but no '" + std::string(kHeaderChecksumKey) + "'");
  size_t value_at = header_checksum_at(prefixed_header);
  if (value_at == std::string::npos || prefixed_header.compare(value_at, 8, hex32(*header_sum)))
    bad("its header checksum is not where the writer puts it");
  uint32_t actual = header_checksum(prefixed_header, value_at);
  if (actual != *header_sum)
    bad("its header (the JSON that describes the tensors, and the run) has CRC32C " +
        hex32(actual) + ", but " + hex32(*header_sum) + " was recorded when it was written");
  for (SafetensorsEntry &entry : impl_->entries) {
    auto found = sums.find(entry.name);
    if (found == sums.end())
      bad("tensor '" + entry.name + "' has no checksum, unlike the others");
    entry.crc32c = found->second;
    sums.erase(found);
  }
  if (!sums.empty())
    bad("it has a checksum for tensor '" + sums.begin()->first + "', which it does not hold");
  impl_->checksums = true;
}

SafetensorsFile::~SafetensorsFile() = default;
SafetensorsFile::SafetensorsFile(SafetensorsFile &&) noexcept = default;
SafetensorsFile &SafetensorsFile::operator=(SafetensorsFile &&) noexcept = default;

const std::string &SafetensorsFile::path() const { return impl_->file.path(); }
const Metadata &SafetensorsFile::metadata() const { return impl_->metadata; }
bool SafetensorsFile::has_checksums() const { return impl_->checksums; }
const std::vector<SafetensorsEntry> &SafetensorsFile::entries() const { return impl_->entries; }

const SafetensorsEntry *SafetensorsFile::find(const std::string &name) const {
  for (const SafetensorsEntry &entry : impl_->entries)
    if (entry.name == name)
      return &entry;
  return nullptr;
}

void SafetensorsFile::read(const SafetensorsEntry &entry, void *dst) const {
  impl_->file.read_at(impl_->data_start + entry.begin, dst, entry.end - entry.begin);
  if (!entry.crc32c)
    return;
  uint32_t actual = crc32c(dst, static_cast<size_t>(entry.end - entry.begin));
  if (actual != *entry.crc32c)
    fail("'", path(), "' is damaged: tensor '", entry.name, "' reads back with CRC32C ",
         hex32(actual), ", but ", hex32(*entry.crc32c),
         " was recorded when the file was written (its bytes changed on disk or in a copy); "
         "restore it from a good copy (for a checkpoint: resume from an earlier one, "
         "--resume DIR/ckpt-<step>.safetensors)");
}

} // namespace cleave::rt
