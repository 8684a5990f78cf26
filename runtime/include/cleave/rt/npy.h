//===- npy.h - NumPy .npy arrays --------------------------------------------===//
//
// The format np.save writes (format versions 1.0, 2.0 and 3.0): the magic
// "\x93NUMPY", a version, the header length, a Python dict literal
// {'descr': ..., 'fortran_order': ..., 'shape': (...)}, then the raw
// elements in C order. Arrays are mapped, not read (mapped_file.h).
//
//===----------------------------------------------------------------------===//
#ifndef CLEAVE_RT_NPY_H
#define CLEAVE_RT_NPY_H

#include "cleave/rt/mapped_file.h"

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace cleave::rt {

/// The element types the reader accepts. All are little-endian; 1-byte
/// types have no byte order.
enum class NpyType { f2, f4, f8, i1, i4, i8, u1, b1 };

const char *npy_descr(NpyType type);     // "<f4", "|b1", ...
const char *npy_type_name(NpyType type); // NumPy's name: "float32", "bool", ...
int64_t npy_type_bytes(NpyType type);

/// A mapped .npy file. Copies share the mapping.
class NpyArray {
public:
  /// Maps and validates `path`. Error (naming the file) for: a missing
  /// file, a bad magic or header, an unsupported or big-endian dtype,
  /// fortran_order True, or a size that disagrees with the header.
  explicit NpyArray(const std::string &path);

  const std::string &path() const { return file_->path(); }
  NpyType type() const { return type_; }
  const std::vector<int64_t> &shape() const { return shape_; }
  /// The format version's major number (1, 2 or 3).
  int version() const { return version_; }
  /// The first element; elements are contiguous in C order.
  const uint8_t *data() const { return file_->data() + data_offset_; }
  int64_t num_elements() const;
  int64_t byte_size() const { return num_elements() * npy_type_bytes(type_); }

private:
  std::shared_ptr<MappedFile> file_;
  NpyType type_ = NpyType::f4;
  std::vector<int64_t> shape_;
  int version_ = 1;
  int64_t data_offset_ = 0;
};

/// Writes a C-order array as format 1.0 (2.0 when the header needs more
/// than 65535 bytes), atomically.
void write_npy(const std::string &path, NpyType type, const std::vector<int64_t> &shape,
               const void *data);

} // namespace cleave::rt

#endif // CLEAVE_RT_NPY_H
