//===- TokenStreamTest.cpp - token files and next-token windows ------------===//
#include "TestUtil.h"

#include "cleave/rt/data.h"
#include "cleave/rt/rng.h"
#include "cleave/rt/token_file.h"

#include <catch2/catch.hpp>

using namespace cleave::rt;
using Catch::Matchers::Contains;
using test::TempDir;

namespace {

// A language model's inputs: idx and targets int64[2, 4], batch 2.
const int64_t kShape[] = {2, 4};
const TensorSpec kInputs[] = {
    {"idx", DType::i64, 2, kShape},
    {"targets", DType::i64, 2, kShape},
};

ModelInfo lm() {
  ModelInfo info{};
  info.inputs = kInputs;
  info.num_inputs = 2;
  info.defaults.batch_size = 2;
  return info;
}

std::vector<uint32_t> iota_tokens(uint32_t count, uint32_t first = 0) {
  std::vector<uint32_t> tokens;
  for (uint32_t i = 0; i < count; ++i)
    tokens.push_back(first + i);
  return tokens;
}

} // namespace

TEST_CASE("tokens: llm.c headers (uint16 and uint32) and headerless uint16 files",
          "[runtime][tokens]") {
  TempDir dir;
  write_token_file(dir / "v1.bin", {1, 2, 65535});
  TokenFile v1(dir / "v1.bin");
  CHECK(v1.has_header());
  CHECK(v1.width() == 2);
  CHECK(v1.size() == 3);
  CHECK(v1[2] == 65535);
  CHECK(test::read_bytes(dir / "v1.bin").size() == 1024 + 6);

  write_token_file(dir / "v2.bin", {70000, 3});
  TokenFile v2(dir / "v2.bin");
  CHECK(v2.width() == 4);
  CHECK(v2[0] == 70000);
  CHECK(v2[1] == 3);

  write_token_file(dir / "raw.bin", {5, 300, 7}, /*header=*/false);
  TokenFile raw(dir / "raw.bin");
  CHECK_FALSE(raw.has_header());
  CHECK(raw.size() == 3);
  CHECK(raw[1] == 300);
  CHECK(test::read_bytes(dir / "raw.bin") == std::string("\x05\x00\x2c\x01\x07\x00", 6));
}

TEST_CASE("tokens: malformed token files are refused", "[runtime][tokens]") {
  TempDir dir;
  test::write_bytes(dir / "odd.bin", "abc");
  REQUIRE_THROWS_WITH(TokenFile(dir / "odd.bin"), Contains("odd size (3 bytes)"));
  write_token_file(dir / "cut.bin", iota_tokens(10));
  std::string bytes = test::read_bytes(dir / "cut.bin");
  test::write_bytes(dir / "cut.bin", bytes.substr(0, bytes.size() - 2));
  REQUIRE_THROWS_WITH(TokenFile(dir / "cut.bin"),
                      Contains("promises 10 tokens") && Contains("has 1042 bytes"));
  bytes[4] = 7; // version 7
  test::write_bytes(dir / "version.bin", bytes);
  REQUIRE_THROWS_WITH(TokenFile(dir / "version.bin"), Contains("header version 7"));
}

TEST_CASE("tokens: window w holds ids wT to wT+T-1 and the labels one further",
          "[runtime][tokens]") {
  TempDir dir;
  write_token_file(dir / "t.bin", iota_tokens(14, 1000)); // (14 - 1) / 4 = 3 windows
  BatchIterator batches(open_token_stream(lm(), dir / "t.bin"), 2, false, 0);
  CHECK(batches.source().num_samples() == 3);
  CHECK(batches.source().tokens_per_sample() == 4);
  int64_t idx[8], targets[8];
  void *ptrs[2] = {idx, targets};
  batches.next(ptrs);
  CHECK(std::vector<int64_t>(idx, idx + 8) ==
        std::vector<int64_t>{1000, 1001, 1002, 1003, 1004, 1005, 1006, 1007});
  CHECK(std::vector<int64_t>(targets, targets + 8) ==
        std::vector<int64_t>{1001, 1002, 1003, 1004, 1005, 1006, 1007, 1008});
  batches.next(ptrs); // window 2, then wraps to window 0
  CHECK(std::vector<int64_t>(idx, idx + 8) ==
        std::vector<int64_t>{1008, 1009, 1010, 1011, 1000, 1001, 1002, 1003});
  CHECK(targets[3] == 1012); // the last window's last label is token 12
}

TEST_CASE("tokens: --shuffle permutes windows per epoch", "[runtime][tokens]") {
  TempDir dir;
  write_token_file(dir / "t.bin", iota_tokens(41)); // 10 windows
  BatchIterator batches(open_token_stream(lm(), dir / "t.bin"), 2, true, 11);
  int64_t idx[8], targets[8];
  void *ptrs[2] = {idx, targets};
  std::vector<int64_t> starts;
  for (int i = 0; i < 10; ++i) {
    batches.next(ptrs);
    starts.push_back(idx[0] / 4);
    starts.push_back(idx[4] / 4);
    CHECK(targets[0] == idx[0] + 1);
  }
  CHECK(std::vector<int64_t>(starts.begin(), starts.begin() + 10) == epoch_permutation(10, 11, 0));
  CHECK(std::vector<int64_t>(starts.begin() + 10, starts.end()) == epoch_permutation(10, 11, 1));
}

TEST_CASE("tokens: the model needs two B x T integer inputs and enough tokens",
          "[runtime][tokens]") {
  TempDir dir;
  write_token_file(dir / "short.bin", iota_tokens(8)); // (8 - 1) / 4 = 1 window < batch 2
  REQUIRE_THROWS_WITH(open_token_stream(lm(), dir / "short.bin"),
                      Contains("8 tokens: 1 windows of 4 + 1 tokens, fewer than the batch size 2"));

  const int64_t x_shape[] = {2, 4};
  const TensorSpec float_inputs[] = {{"x", DType::f32, 2, x_shape}, {"y", DType::i64, 2, x_shape}};
  ModelInfo info = lm();
  info.inputs = float_inputs;
  REQUIRE_THROWS_WITH(open_token_stream(info, dir / "short.bin"),
                      Contains("--tokens needs a model with exactly two data inputs") &&
                          Contains("x float32[2, 4]"));
  REQUIRE_THROWS_WITH(open_token_stream(lm(), dir / "none.bin"), Contains("cannot open"));
}
