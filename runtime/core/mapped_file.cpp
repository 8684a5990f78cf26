//===- mapped_file.cpp - a whole file mapped read-only ---------------------===//
#include "cleave/rt/mapped_file.h"

#include "cleave/rt/check.h"
#include "file_util.h"

#include <sys/mman.h>

namespace cleave::rt {

MappedFile::MappedFile(const std::string &path) : path_(path) {
  File file = File::open_read(path);
  size_ = file.size();
  if (size_ == 0)
    return; // mmap refuses empty mappings; an empty file has no bytes to read
  void *mapping = ::mmap(nullptr, static_cast<size_t>(size_), PROT_READ, MAP_PRIVATE, file.fd(), 0);
  if (mapping == MAP_FAILED)
    fail("cannot map '", path, "': ", last_system_error());
  data_ = static_cast<const uint8_t *>(mapping);
}

MappedFile::~MappedFile() {
  if (data_)
    ::munmap(const_cast<uint8_t *>(data_), static_cast<size_t>(size_));
}

} // namespace cleave::rt
