//===- file_util.h - checked POSIX file access and atomic replacement ------===//
//
// Private to cleave_rt_core. Every failure throws Error naming the path and
// the system's reason. AtomicFileWriter is how every output file (checkpoint,
// `latest`, exported ONNX, rewritten metrics) is written: into
// "<path>.tmp", fsync'd, then renamed over <path> and the directory fsync'd,
// so a reader sees the old file or the complete new one, never a torn one.
//
//===----------------------------------------------------------------------===//
#ifndef CLEAVE_RT_CORE_FILE_UTIL_H
#define CLEAVE_RT_CORE_FILE_UTIL_H

#include <cstdint>
#include <string>

namespace cleave::rt {

/// An open file descriptor, closed on destruction.
class File {
public:
  /// Opens `path` for reading; Error "cannot open '<path>': <reason>".
  static File open_read(const std::string &path);

  File() = default;
  File(File &&other) noexcept;
  File &operator=(File &&other) noexcept;
  File(const File &) = delete;
  File &operator=(const File &) = delete;
  ~File();

  int fd() const { return fd_; }
  const std::string &path() const { return path_; }
  int64_t size() const;

  /// Reads exactly `bytes` at `offset`; Error when the file ends first.
  void read_at(int64_t offset, void *dst, int64_t bytes) const;
  /// Writes all of `bytes` at the current position.
  void write(const void *src, int64_t bytes);
  /// Overwrites `bytes` at `offset` (pwrite), leaving the write position.
  void write_at(int64_t offset, const void *src, int64_t bytes);
  void sync();
  void close();

private:
  File(int fd, std::string path) : fd_(fd), path_(std::move(path)) {}
  friend class AtomicFileWriter;

  int fd_ = -1;
  std::string path_;
};

/// Writes "<path>.tmp" and, on commit(), replaces <path> with it atomically.
/// A writer destroyed without commit() removes its temporary file; a
/// process killed mid-write leaves "<path>.tmp" behind, which the next
/// writer of <path> truncates and nothing ever reads.
class AtomicFileWriter {
public:
  explicit AtomicFileWriter(std::string path);
  ~AtomicFileWriter();
  AtomicFileWriter(const AtomicFileWriter &) = delete;
  AtomicFileWriter &operator=(const AtomicFileWriter &) = delete;

  void write(const void *src, int64_t bytes) { file_.write(src, bytes); }
  void write(const std::string &text) { write(text.data(), static_cast<int64_t>(text.size())); }
  void write_at(int64_t offset, const void *src, int64_t bytes) {
    file_.write_at(offset, src, bytes);
  }
  int fd() const { return file_.fd(); }
  const std::string &temp_path() const { return temp_path_; }

  /// First half of commit(): fsync and close the temporary file, leaving
  /// it in place. Returns its path.
  std::string finish_temp();
  /// finish_temp(), then publish_file(temp, path).
  void commit();

private:
  std::string path_;
  std::string temp_path_;
  File file_;
  bool finished_ = false;
};

/// Second half of an atomic replacement: rename `temp_path` over `path`
/// and fsync their directory so the rename survives a power cut.
void publish_file(const std::string &temp_path, const std::string &path);

/// fsync on a directory, making renames and creations in it durable.
void sync_directory(const std::string &dir);

/// The directory part of `path` ("." when there is none).
std::string directory_of(const std::string &path);

/// `name` resolved against `dir` unless it is absolute.
std::string join_path(const std::string &dir, const std::string &name);

/// The whole file as a string (small files: `latest`, metrics).
std::string read_text_file(const std::string &path);

} // namespace cleave::rt

#endif // CLEAVE_RT_CORE_FILE_UTIL_H
