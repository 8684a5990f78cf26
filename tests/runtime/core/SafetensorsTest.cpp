//===- SafetensorsTest.cpp - the safetensors reader and writer -------------===//
#include "TestUtil.h"

#include "cleave/rt/crc32c.h"
#include "cleave/rt/safetensors.h"

#include <catch2/catch.hpp>

#include <cstdio>
#include <cstring>

using namespace cleave::rt;
using Catch::Matchers::Contains;
using test::TempDir;

namespace {

/// A safetensors file written by hand from the format description: an
/// 8-byte little-endian length, then the JSON header, then the data.
std::string handmade(const std::string &json, const std::string &data) {
  std::string bytes(8, '\0');
  uint64_t length = json.size();
  for (int i = 0; i < 8; ++i)
    bytes[static_cast<size_t>(i)] = static_cast<char>(length >> (8 * i));
  return bytes + json + data;
}

} // namespace

TEST_CASE("safetensors: write then read every dtype with metadata", "[runtime][safetensors]") {
  TempDir dir;
  std::vector<float> weights = {1.5f, -2.0f, 3.25f, 4.0f, 5.0f, 6.0f};
  std::vector<int64_t> counts = {7, -8};
  std::vector<uint16_t> halves = {0x3C00};
  std::vector<uint8_t> flags = {1, 0, 1};
  std::vector<SafetensorsEntry> entries = {
      {"layer.weight", DType::f32, {2, 3}, 0, 0}, {"counts", DType::i64, {2}, 0, 0},
      {"scale", DType::bf16, {}, 0, 0},           {"mask", DType::i1, {3}, 0, 0},
      {"empty", DType::f64, {0, 4}, 0, 0},
  };
  std::string path = dir / "t.safetensors";
  SafetensorsWriter writer(path, entries, {{"step", "12"}, {"note", "quote \" and \\ and \n"}});
  writer.write_next(weights.data());
  writer.write_next(counts.data());
  writer.write_next(halves.data());
  writer.write_next(flags.data());
  writer.write_next(nullptr);
  writer.commit();
  CHECK_FALSE(test::file_exists(path + ".tmp"));

  std::string bytes = test::read_bytes(path);
  uint64_t length = 0;
  std::memcpy(&length, bytes.data(), 8);
  CHECK(length % 8 == 0); // the data section starts 8-byte aligned
  CHECK(bytes[8] == '{');
  CHECK(bytes.size() == 8 + length + 24 + 16 + 2 + 3);

  SafetensorsFile file(path);
  CHECK(file.metadata().at("step") == "12");
  CHECK(file.metadata().at("note") == "quote \" and \\ and \n");
  REQUIRE(file.entries().size() == 5);
  const SafetensorsEntry *weight = file.find("layer.weight");
  REQUIRE(weight);
  CHECK(weight->dtype == DType::f32);
  CHECK(weight->shape == std::vector<int64_t>{2, 3});
  std::vector<float> read_back(6);
  file.read(*weight, read_back.data());
  CHECK(read_back == weights);
  std::vector<int64_t> read_counts(2);
  file.read(*file.find("counts"), read_counts.data());
  CHECK(read_counts == counts);
  CHECK(file.find("scale")->shape.empty());
  CHECK(file.find("scale")->dtype == DType::bf16);
  CHECK(file.find("mask")->dtype == DType::i1);
  CHECK(file.find("empty")->begin == file.find("empty")->end);
  CHECK(file.find("missing") == nullptr);
}

TEST_CASE("safetensors: reads files laid out by other writers", "[runtime][safetensors]") {
  TempDir dir;
  // Tensors listed out of data order, no __metadata__, spaces in the JSON.
  std::string json = R"({ "b" : {"dtype":"I32","shape":[1],"data_offsets":[8,12]},
                          "a" : {"dtype":"F64","shape":[1],"data_offsets":[0,8]} })";
  double a = 2.5;
  int32_t b = -3;
  std::string data(reinterpret_cast<const char *>(&a), 8);
  data.append(reinterpret_cast<const char *>(&b), 4);
  test::write_bytes(dir / "other.safetensors", handmade(json, data));
  SafetensorsFile file(dir / "other.safetensors");
  CHECK(file.metadata().empty());
  REQUIRE(file.entries().size() == 2);
  CHECK(file.entries()[0].name == "a"); // data order
  int32_t read_b = 0;
  file.read(*file.find("b"), &read_b);
  CHECK(read_b == -3);
}

TEST_CASE("safetensors: corrupt files are refused with the reason", "[runtime][safetensors]") {
  TempDir dir;
  auto refuse = [&](const std::string &bytes, const std::string &why) {
    test::write_bytes(dir / "bad.safetensors", bytes);
    REQUIRE_THROWS_WITH(SafetensorsFile(dir / "bad.safetensors"),
                        Contains("bad.safetensors' is not a valid safetensors file") &&
                            Contains(why));
  };
  std::string good_json = R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}})";
  std::string data(8, '\0');
  refuse("abc", "shorter than the 8-byte header length");
  refuse(handmade(good_json, data).substr(0, 30), "does not fit the file");
  refuse(handmade(good_json, data.substr(0, 5)),
         "need 8 bytes of data but the file has 5 (truncated)");
  refuse(handmade(good_json, data + "xx"), "need 8 bytes of data but the file has 10");
  refuse(handmade(R"({"a":{"dtype":"F32",)", data), "JSON header does not parse");
  refuse(handmade(R"([1, 2])", ""), "not an object");
  refuse(handmade(R"({"a":{"dtype":"U16","shape":[2],"data_offsets":[0,4]}})", "xxxx"),
         "dtype 'U16'");
  refuse(handmade(R"({"a":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}})", data),
         "do not hold F32[3]");
  refuse(handmade(R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},
                      "b":{"dtype":"F32","shape":[1],"data_offsets":[2,6]}})",
                  data),
         "overlapping tensors or a hole");
  refuse(handmade(R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},
                      "a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}})",
                  data),
         "tensor 'a' appears twice");
  refuse(handmade(R"({"__metadata__":{"step":12}})", ""), "'step' is not a string");
  std::string huge(8, '\xff');
  refuse(huge + "{}", "header length");
}

TEST_CASE("safetensors: checksums are written, hidden from metadata() and checked",
          "[runtime][safetensors]") {
  TempDir dir;
  std::vector<float> a = {1, 2, 3, 4};
  std::vector<float> b = {5, 6};
  std::string path = dir / "c.safetensors";
  SafetensorsWriter writer(path, {{"a", DType::f32, {4}, 0, 0}, {"b", DType::f32, {2}, 0, 0}},
                           {{"step", "3"}});
  writer.write_next(a.data());
  writer.write_next(b.data());
  writer.commit();
  std::string bytes = test::read_bytes(path);
  CHECK(bytes.find("\"crc32c:a\":\"") != std::string::npos);
  CHECK(bytes.find("\"header_crc32c\":\"") != std::string::npos);
  {
    SafetensorsFile file(path);
    CHECK(file.has_checksums());
    CHECK(file.metadata() == Metadata{{"step", "3"}});
    REQUIRE(file.find("a")->crc32c);
    CHECK(*file.find("a")->crc32c == crc32c(a.data(), 16));
    std::vector<float> read_a(4);
    file.read(*file.find("a"), read_a.data());
    CHECK(read_a == a);
  }

  // One bit of b's data.
  std::string damaged = bytes;
  damaged[damaged.size() - 1] = static_cast<char>(damaged[damaged.size() - 1] ^ 1);
  test::write_bytes(path, damaged);
  {
    SafetensorsFile file(path);
    std::vector<float> read_a(4), read_b(2);
    CHECK_NOTHROW(file.read(*file.find("a"), read_a.data()));
    char expected[9];
    std::snprintf(expected, sizeof expected, "%08x", crc32c(b.data(), 8));
    REQUIRE_THROWS_WITH(file.read(*file.find("b"), read_b.data()),
                        Contains("c.safetensors' is damaged: tensor 'b' reads back with CRC32C ") &&
                            Contains(std::string(", but ") + expected + " was recorded") &&
                            Contains("restore it from a good copy"));
  }

  // One byte of the header: "step": "3" becomes "4", valid JSON and metadata.
  damaged = bytes;
  size_t step = damaged.find("\"step\":\"3\"");
  REQUIRE(step != std::string::npos);
  damaged[step + 8] = '4';
  test::write_bytes(path, damaged);
  REQUIRE_THROWS_WITH(SafetensorsFile(path),
                      Contains("is damaged: its header") && Contains("was recorded"));

  // Tensor checksums without the header's: a renamed key.
  damaged = bytes;
  size_t key = damaged.find("header_crc32c");
  damaged[key] = 'H';
  test::write_bytes(path, damaged);
  REQUIRE_THROWS_WITH(SafetensorsFile(path), Contains("tensor checksums but no 'header_crc32c'"));
}
