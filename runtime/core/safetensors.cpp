//===- safetensors.cpp - the safetensors tensor file format ----------------===//
#include "cleave/rt/safetensors.h"

#include "cleave/rt/check.h"
#include "cleave/rt/tensor.h"
#include "file_util.h"
#include "json.h"

#include <algorithm>
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
  AtomicFileWriter out;
  size_t next = 0;

  Impl(const std::string &path, std::vector<SafetensorsEntry> laid_out)
      : entries(std::move(laid_out)), out(path) {}
};

SafetensorsWriter::SafetensorsWriter(const std::string &path, std::vector<SafetensorsEntry> entries,
                                     const Metadata &metadata) {
  int64_t offset = 0;
  for (SafetensorsEntry &entry : entries) {
    entry.begin = offset;
    offset += num_elements(entry.shape) * dtype_bytes(entry.dtype);
    entry.end = offset;
  }
  std::string json = header_json(entries, metadata);
  impl_ = std::make_unique<Impl>(path, std::move(entries));
  uint64_t length = json.size();
  unsigned char prefix[8];
  for (int i = 0; i < 8; ++i)
    prefix[i] = static_cast<unsigned char>(length >> (8 * i));
  impl_->out.write(prefix, 8);
  impl_->out.write(json);
}

SafetensorsWriter::~SafetensorsWriter() = default;

const std::vector<SafetensorsEntry> &SafetensorsWriter::entries() const { return impl_->entries; }

void SafetensorsWriter::write_next(const void *data) {
  CLEAVE_CHECK(impl_->next < impl_->entries.size(), "more tensors written than laid out");
  const SafetensorsEntry &entry = impl_->entries[impl_->next++];
  impl_->out.write(data, entry.end - entry.begin);
}

std::string SafetensorsWriter::finish_temp() {
  CLEAVE_CHECK(impl_->next == impl_->entries.size(), "only ", impl_->next, " of ",
               impl_->entries.size(), " tensors written");
  return impl_->out.finish_temp();
}

void SafetensorsWriter::commit() {
  CLEAVE_CHECK(impl_->next == impl_->entries.size(), "only ", impl_->next, " of ",
               impl_->entries.size(), " tensors written");
  impl_->out.commit();
}

//===-- reader -------------------------------------------------------------===//

struct SafetensorsFile::Impl {
  File file;
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
}

SafetensorsFile::~SafetensorsFile() = default;
SafetensorsFile::SafetensorsFile(SafetensorsFile &&) noexcept = default;
SafetensorsFile &SafetensorsFile::operator=(SafetensorsFile &&) noexcept = default;

const std::string &SafetensorsFile::path() const { return impl_->file.path(); }
const Metadata &SafetensorsFile::metadata() const { return impl_->metadata; }
const std::vector<SafetensorsEntry> &SafetensorsFile::entries() const { return impl_->entries; }

const SafetensorsEntry *SafetensorsFile::find(const std::string &name) const {
  for (const SafetensorsEntry &entry : impl_->entries)
    if (entry.name == name)
      return &entry;
  return nullptr;
}

void SafetensorsFile::read(const SafetensorsEntry &entry, void *dst) const {
  impl_->file.read_at(impl_->data_start + entry.begin, dst, entry.end - entry.begin);
}

} // namespace cleave::rt
