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
//===----------------------------------------------------------------------===//
#ifndef CLEAVE_RT_SAFETENSORS_H
#define CLEAVE_RT_SAFETENSORS_H

#include "cleave/rt/model.h"

#include <cstdint>
#include <map>
#include <memory>
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
  const Metadata &metadata() const;
  const std::vector<SafetensorsEntry> &entries() const; // in data order
  const SafetensorsEntry *find(const std::string &name) const;
  /// Reads the entry's bytes into `dst` (host memory).
  void read(const SafetensorsEntry &entry, void *dst) const;

private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

} // namespace cleave::rt

#endif // CLEAVE_RT_SAFETENSORS_H
