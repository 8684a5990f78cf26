//===- safetensors.h - the safetensors tensor file format ------------------===//
//
// The format of Hugging Face's safetensors library: an 8-byte little-endian
// header length N, N bytes of JSON
//   {"__metadata__": {"key": "value", ...},
//    "<name>": {"dtype": "F32", "shape": [2, 3], "data_offsets": [begin, end]}, ...}
// padded with spaces to a multiple of 8, then the tensors' bytes, C order,
// little-endian; offsets are relative to the end of the header and the
// tensors tile the data section without holes. Metadata values are strings.
//
// Checksums. The writer adds to __metadata__ a CRC-32C (crc32c.h) of each
// tensor's bytes, "crc32c:<name>": "1a2b3c4d", and one of the header
// itself (the 8-byte length and the JSON, with this value read as
// "00000000"), "header_crc32c". The reader checks the header's when it
// opens the file and each tensor's as read() reads it, and throws Error
// "'<path>' is damaged: ..." naming what differs and both checksums. Files
// without checksums (older ones, other writers') read as before.
//
//===----------------------------------------------------------------------===//
#ifndef CLEAVE_RT_SAFETENSORS_H
#define CLEAVE_RT_SAFETENSORS_H

#include "cleave/rt/model.h"

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace cleave::rt {

using Metadata = std::map<std::string, std::string>;

/// "F32", "F64", "F16", "BF16", "I64", "I32", "I8", "BOOL".
const char *safetensors_dtype(DType dtype);

struct SafetensorsEntry {
  std::string name;
  DType dtype = DType::f32;
  std::vector<int64_t> shape;
  int64_t begin = 0; // byte range in the data section
  int64_t end = 0;
  /// The CRC-32C of the bytes (crc32c.h): set by the writer as it writes
  /// them; by the reader when the file records one.
  std::optional<uint32_t> crc32c;
};

/// Writes a file tensor by tensor, so that tensors living on a device can
/// be staged through one host buffer at a time. The file is written as
/// "<path>.tmp" and renamed over <path> by commit() (see file_util.h).
class SafetensorsWriter {
public:
  /// Writes the header for `entries` (offsets are assigned here, in order).
  SafetensorsWriter(const std::string &path, std::vector<SafetensorsEntry> entries,
                    const Metadata &metadata);
  ~SafetensorsWriter();
  SafetensorsWriter(const SafetensorsWriter &) = delete;
  SafetensorsWriter &operator=(const SafetensorsWriter &) = delete;

  const std::vector<SafetensorsEntry> &entries() const;
  /// Appends the bytes of the next entry (its end - begin bytes).
  void write_next(const void *data);
  /// fsyncs and closes "<path>.tmp" without renaming it; returns its path.
  std::string finish_temp();
  /// finish_temp(), then renames it over <path> and fsyncs the directory.
  void commit();

private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

/// An open safetensors file; the constructor validates the whole header
/// (JSON syntax, dtypes, shapes, offsets that tile the data section exactly)
/// and throws Error "'<path>' is not a valid safetensors file: <why>".
class SafetensorsFile {
public:
  explicit SafetensorsFile(const std::string &path);
  ~SafetensorsFile();
  SafetensorsFile(SafetensorsFile &&) noexcept;
  SafetensorsFile &operator=(SafetensorsFile &&) noexcept;

  const std::string &path() const;
  /// The __metadata__ strings, less the checksums.
  const Metadata &metadata() const;
  /// Whether the file records checksums (then every tensor has one).
  bool has_checksums() const;
  const std::vector<SafetensorsEntry> &entries() const; // in data order
  const SafetensorsEntry *find(const std::string &name) const;
  /// Reads the entry's bytes into `dst` (host memory); Error when they do
  /// not have the recorded checksum.
  void read(const SafetensorsEntry &entry, void *dst) const;

private:
  void read_checksums(const std::string &prefixed_header);

  struct Impl;
  std::unique_ptr<Impl> impl_;
};

} // namespace cleave::rt

#endif // CLEAVE_RT_SAFETENSORS_H
