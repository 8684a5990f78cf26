//===- token_file.cpp - token streams for language models ------------------===//
#include "cleave/rt/token_file.h"

#include "cleave/rt/check.h"
#include "file_util.h"

#include <algorithm>

namespace cleave::rt {

static int32_t read_i32(const uint8_t *p) {
  return static_cast<int32_t>(static_cast<uint32_t>(p[0]) | (static_cast<uint32_t>(p[1]) << 8) |
                              (static_cast<uint32_t>(p[2]) << 16) |
                              (static_cast<uint32_t>(p[3]) << 24));
}

TokenFile::TokenFile(const std::string &path) : file_(std::make_shared<MappedFile>(path)) {
  const uint8_t *bytes = file_->data();
  int64_t size = file_->size();
  // A headerless stream could start with the two ids that spell the magic
  // (55432, 308); such a file is then taken for an llm.c file and fails the
  // version or size check below with a message that says so.
  has_header_ = size >= 4 && read_i32(bytes) == kMagic;
  if (!has_header_) {
    if (size % 2 != 0)
      fail("token file '", path, "' has an odd size (", size,
           " bytes); a headerless token file holds uint16 ids");
    tokens_ = bytes;
    count_ = size / 2;
    return;
  }
  if (size < kHeaderBytes)
    fail("token file '", path, "' starts with the llm.c magic ", kMagic,
         " but is shorter than the 1024-byte header");
  int32_t version = read_i32(bytes + 4);
  if (version != 1 && version != 2)
    fail("token file '", path, "' has llm.c header version ", version,
         "; version 1 (uint16 ids) and 2 (uint32 ids) are supported");
  width_ = version == 1 ? 2 : 4;
  count_ = read_i32(bytes + 8);
  if (count_ < 0 || kHeaderBytes + count_ * width_ != size)
    fail("token file '", path, "' is inconsistent: its header promises ", count_, " tokens of ",
         width_, " bytes (", kHeaderBytes + count_ * width_, " bytes in all) but the file has ",
         size, " bytes");
  tokens_ = bytes + kHeaderBytes;
}

void write_token_file(const std::string &path, const std::vector<uint32_t> &tokens, bool header) {
  uint32_t largest = tokens.empty() ? 0 : *std::max_element(tokens.begin(), tokens.end());
  int width = largest > 0xFFFF ? 4 : 2;
  CLEAVE_CHECK(header || width == 2, "a headerless token file holds uint16 ids only");
  CLEAVE_CHECK(tokens.size() <= 0x7FFFFFFFu, "the llm.c header counts tokens in an int32");
  std::vector<uint8_t> bytes;
  auto put = [&bytes](uint32_t value, int count) {
    for (int i = 0; i < count; ++i)
      bytes.push_back(static_cast<uint8_t>(value >> (8 * i)));
  };
  if (header) {
    uint32_t fields[256] = {static_cast<uint32_t>(TokenFile::kMagic), width == 2 ? 1u : 2u,
                            static_cast<uint32_t>(tokens.size())};
    for (uint32_t field : fields)
      put(field, 4);
  }
  for (uint32_t token : tokens)
    put(token, width);
  AtomicFileWriter out(path);
  out.write(bytes.data(), static_cast<int64_t>(bytes.size()));
  out.commit();
}

} // namespace cleave::rt
