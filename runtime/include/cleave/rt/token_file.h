//===- token_file.h - token streams for language models --------------------===//
//
// A tokenised corpus as one flat array of token ids, in one of two layouts
// (docs/formats.md):
//
//  * headerless: little-endian uint16 ids, nothing else (file size even);
//  * llm.c: a 1024-byte header of 256 little-endian int32 — [0] magic
//    20240520, [1] version (1: uint16 ids, 2: uint32 ids), [2] token
//    count — then the ids. This is what karpathy/llm.c's data scripts
//    write, so their .bin files load as they are.
//
//===----------------------------------------------------------------------===//
#ifndef CLEAVE_RT_TOKEN_FILE_H
#define CLEAVE_RT_TOKEN_FILE_H

#include "cleave/rt/mapped_file.h"

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace cleave::rt {

class TokenFile {
public:
  static constexpr int32_t kMagic = 20240520;
  static constexpr int64_t kHeaderBytes = 256 * 4;

  /// Maps and validates `path`. Error for a missing file, an odd size
  /// (headerless), or an llm.c header whose version or count disagrees
  /// with the file.
  explicit TokenFile(const std::string &path);

  const std::string &path() const { return file_->path(); }
  int64_t size() const { return count_; }
  /// 2 (uint16 ids) or 4 (uint32 ids).
  int width() const { return width_; }
  bool has_header() const { return has_header_; }

  uint32_t operator[](int64_t index) const {
    const uint8_t *p = tokens_ + index * width_;
    if (width_ == 2)
      return static_cast<uint32_t>(p[0] | (p[1] << 8));
    return static_cast<uint32_t>(p[0]) | (static_cast<uint32_t>(p[1]) << 8) |
           (static_cast<uint32_t>(p[2]) << 16) | (static_cast<uint32_t>(p[3]) << 24);
  }

private:
  std::shared_ptr<MappedFile> file_;
  const uint8_t *tokens_ = nullptr;
  int64_t count_ = 0;
  int width_ = 2;
  bool has_header_ = false;
};

/// Writes `tokens` in the llm.c layout (version 1 when every id fits in
/// uint16, else version 2), or headerless uint16 when `header` is false.
void write_token_file(const std::string &path, const std::vector<uint32_t> &tokens,
                      bool header = true);

} // namespace cleave::rt

#endif // CLEAVE_RT_TOKEN_FILE_H
