//===- mapped_file.h - a whole file mapped read-only -----------------------===//
//
// Data sets (.npy arrays, token streams) are mapped rather than read: a
// batch touches a few rows, the kernel pages them in, and a data set larger
// than memory still works.
//
//===----------------------------------------------------------------------===//
#ifndef CLEAVE_RT_MAPPED_FILE_H
#define CLEAVE_RT_MAPPED_FILE_H

#include <cstdint>
#include <string>

namespace cleave::rt {

class MappedFile {
public:
  /// Maps `path`; Error when it cannot be opened or mapped.
  explicit MappedFile(const std::string &path);
  MappedFile(const MappedFile &) = delete;
  MappedFile &operator=(const MappedFile &) = delete;
  ~MappedFile();

  const uint8_t *data() const { return data_; }
  int64_t size() const { return size_; }
  const std::string &path() const { return path_; }

private:
  std::string path_;
  const uint8_t *data_ = nullptr;
  int64_t size_ = 0;
};

} // namespace cleave::rt

#endif // CLEAVE_RT_MAPPED_FILE_H
