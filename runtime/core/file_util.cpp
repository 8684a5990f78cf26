//===- file_util.cpp - checked POSIX file access and atomic replacement ----===//
#include "file_util.h"

#include "cleave/rt/check.h"

#include <cerrno>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace cleave::rt {

File File::open_read(const std::string &path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    fail("cannot open '", path, "': ", last_system_error());
  struct stat info;
  if (::fstat(fd, &info) == 0 && S_ISDIR(info.st_mode)) {
    ::close(fd);
    fail("cannot read '", path, "': it is a directory");
  }
  return File(fd, path);
}

File::File(File &&other) noexcept { *this = std::move(other); }

File &File::operator=(File &&other) noexcept {
  if (this != &other) {
    if (fd_ >= 0)
      ::close(fd_);
    fd_ = other.fd_;
    path_ = std::move(other.path_);
    other.fd_ = -1;
  }
  return *this;
}

File::~File() {
  if (fd_ >= 0)
    ::close(fd_);
}

int64_t File::size() const {
  struct stat info;
  if (::fstat(fd_, &info) != 0)
    fail("cannot stat '", path_, "': ", last_system_error());
  return static_cast<int64_t>(info.st_size);
}

void File::read_at(int64_t offset, void *dst, int64_t bytes) const {
  char *out = static_cast<char *>(dst);
  int64_t done = 0;
  while (done < bytes) {
    ssize_t got = ::pread(fd_, out + done, static_cast<size_t>(bytes - done),
                          static_cast<off_t>(offset + done));
    if (got < 0 && errno == EINTR)
      continue;
    if (got < 0)
      fail("cannot read '", path_, "': ", last_system_error());
    if (got == 0)
      fail("'", path_, "' is truncated: reading bytes [", offset, ", ", offset + bytes,
           ") but the file has ", size(), " bytes");
    done += got;
  }
}

void File::write(const void *src, int64_t bytes) {
  const char *in = static_cast<const char *>(src);
  int64_t done = 0;
  while (done < bytes) {
    ssize_t put = ::write(fd_, in + done, static_cast<size_t>(bytes - done));
    if (put < 0 && errno == EINTR)
      continue;
    if (put < 0)
      fail("cannot write '", path_, "': ", last_system_error());
    done += put;
  }
}

void File::write_at(int64_t offset, const void *src, int64_t bytes) {
  const char *in = static_cast<const char *>(src);
  int64_t done = 0;
  while (done < bytes) {
    ssize_t put = ::pwrite(fd_, in + done, static_cast<size_t>(bytes - done),
                           static_cast<off_t>(offset + done));
    if (put < 0 && errno == EINTR)
      continue;
    if (put < 0)
      fail("cannot write '", path_, "': ", last_system_error());
    done += put;
  }
}

void File::sync() {
  if (::fsync(fd_) != 0)
    fail("cannot fsync '", path_, "': ", last_system_error());
}

void File::close() {
  if (fd_ < 0)
    return;
  int result = ::close(fd_);
  fd_ = -1;
  // close can report a deferred write error (NFS, full disk).
  if (result != 0)
    fail("cannot close '", path_, "': ", last_system_error());
}

AtomicFileWriter::AtomicFileWriter(std::string path)
    : path_(std::move(path)), temp_path_(path_ + ".tmp") {
  int fd = ::open(temp_path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0)
    fail("cannot create '", temp_path_, "': ", last_system_error());
  file_ = File(fd, temp_path_);
}

AtomicFileWriter::~AtomicFileWriter() {
  if (!finished_) {
    file_ = File();
    ::unlink(temp_path_.c_str());
  }
}

std::string AtomicFileWriter::finish_temp() {
  file_.sync();
  file_.close();
  finished_ = true;
  return temp_path_;
}

void AtomicFileWriter::commit() { publish_file(finish_temp(), path_); }

void publish_file(const std::string &temp_path, const std::string &path) {
  if (::rename(temp_path.c_str(), path.c_str()) != 0)
    fail("cannot rename '", temp_path, "' to '", path, "': ", last_system_error());
  sync_directory(directory_of(path));
}

void sync_directory(const std::string &dir) {
  int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0)
    fail("cannot open directory '", dir, "': ", last_system_error());
  int result = ::fsync(fd);
  ::close(fd);
  if (result != 0)
    fail("cannot fsync directory '", dir, "': ", last_system_error());
}

std::string directory_of(const std::string &path) {
  size_t slash = path.find_last_of('/');
  if (slash == std::string::npos)
    return ".";
  if (slash == 0)
    return "/";
  return path.substr(0, slash);
}

std::string join_path(const std::string &dir, const std::string &name) {
  if (!name.empty() && name[0] == '/')
    return name;
  if (dir.empty() || dir == ".")
    return name;
  return dir.back() == '/' ? dir + name : dir + "/" + name;
}

std::string read_text_file(const std::string &path) {
  File file = File::open_read(path);
  std::string text(static_cast<size_t>(file.size()), '\0');
  file.read_at(0, text.data(), static_cast<int64_t>(text.size()));
  return text;
}

} // namespace cleave::rt
