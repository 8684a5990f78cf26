//===- NpyTest.cpp - the .npy reader and writer ----------------------------===//
#include "TestUtil.h"

#include "cleave/rt/npy.h"

#include <catch2/catch.hpp>

#include <cstring>

using namespace cleave::rt;
using Catch::Matchers::Contains;
using test::TempDir;

namespace {

// Written by NumPy 1.24 (np.save, np.lib.format.write_array), so that these
// tests check the reader against the real format without needing NumPy:
//   kNumpyF4V1      np.arange(6, dtype='<f4').reshape(2, 3), version 1.0
//   kNumpyI8V2      [[1, -2], [3, 4], [5, 6]] int64, version 2.0
//   kNumpyB1V3      [True, False, True], version 3.0
//   kNumpyFortran   np.asfortranarray(arange(6).reshape(2, 3)) float32
//   kNumpyBigEndian the same array as '>f4'
//   kNumpyU2        np.arange(3, dtype='<u2')
const std::string kNumpyF4V1("\x93\x4e\x55\x4d\x50\x59\x01\x00\x76\x00\x7b\x27\x64\x65\x73\x63"
                             "\x72\x27\x3a\x20\x27\x3c\x66\x34\x27\x2c\x20\x27\x66\x6f\x72\x74"
                             "\x72\x61\x6e\x5f\x6f\x72\x64\x65\x72\x27\x3a\x20\x46\x61\x6c\x73"
                             "\x65\x2c\x20\x27\x73\x68\x61\x70\x65\x27\x3a\x20\x28\x32\x2c\x20"
                             "\x33\x29\x2c\x20\x7d\x20\x20\x20\x20\x20\x20\x20\x20\x20\x20\x20"
                             "\x20\x20\x20\x20\x20\x20\x20\x20\x20\x20\x20\x20\x20\x20\x20\x20"
                             "\x20\x20\x20\x20\x20\x20\x20\x20\x20\x20\x20\x20\x20\x20\x20\x20"
                             "\x20\x20\x20\x20\x20\x20\x20\x20\x20\x20\x20\x20\x20\x20\x20\x0a"
                             "\x00\x00\x00\x00\x00\x00\x80\x3f\x00\x00\x00\x40\x00\x00\x40\x40"
                             "\x00\x00\x80\x40\x00\x00\xa0\x40",
                             152);
const std::string kNumpyI8V2("\x93\x4e\x55\x4d\x50\x59\x02\x00\x74\x00\x00\x00\x7b\x27\x64\x65"
                             "\x73\x63\x72\x27\x3a\x20\x27\x3c\x69\x38\x27\x2c\x20\x27\x66\x6f"
                             "\x72\x74\x72\x61\x6e\x5f\x6f\x72\x64\x65\x72\x27\x3a\x20\x46\x61"
                             "\x6c\x73\x65\x2c\x20\x27\x73\x68\x61\x70\x65\x27\x3a\x20\x28\x33"
                             "\x2c\x20\x32\x29\x2c\x20\x7d\x20\x20\x20\x20\x20\x20\x20\x20\x20"
                             "\x20\x20\x20\x20\x20\x20\x20\x20\x20\x20\x20\x20\x20\x20\x20\x20"
                             "\x20\x20\x20\x20\x20\x20\x20\x20\x20\x20\x20\x20\x20\x20\x20\x20"
                             "\x20\x20\x20\x20\x20\x20\x20\x20\x20\x20\x20\x20\x20\x20\x20\x0a"
                             "\x01\x00\x00\x00\x00\x00\x00\x00\xfe\xff\xff\xff\xff\xff\xff\xff"
                             "\x03\x00\x00\x00\x00\x00\x00\x00\x04\x00\x00\x00\x00\x00\x00\x00"
                             "\x05\x00\x00\x00\x00\x00\x00\x00\x06\x00\x00\x00\x00\x00\x00\x00",
                             176);
const std::string kNumpyB1V3("\x93\x4e\x55\x4d\x50\x59\x03\x00\x74\x00\x00\x00\x7b\x27\x64\x65"
                             "\x73\x63\x72\x27\x3a\x20\x27\x7c\x62\x31\x27\x2c\x20\x27\x66\x6f"
                             "\x72\x74\x72\x61\x6e\x5f\x6f\x72\x64\x65\x72\x27\x3a\x20\x46\x61"
                             "\x6c\x73\x65\x2c\x20\x27\x73\x68\x61\x70\x65\x27\x3a\x20\x28\x33"
                             "\x2c\x29\x2c\x20\x7d\x20\x20\x20\x20\x20\x20\x20\x20\x20\x20\x20"
                             "\x20\x20\x20\x20\x20\x20\x20\x20\x20\x20\x20\x20\x20\x20\x20\x20"
                             "\x20\x20\x20\x20\x20\x20\x20\x20\x20\x20\x20\x20\x20\x20\x20\x20"
                             "\x20\x20\x20\x20\x20\x20\x20\x20\x20\x20\x20\x20\x20\x20\x20\x0a"
                             "\x01\x00\x01",
                             131);
const std::string kNumpyFortran("\x93\x4e\x55\x4d\x50\x59\x01\x00\x76\x00\x7b\x27\x64\x65\x73\x63"
                                "\x72\x27\x3a\x20\x27\x3c\x66\x34\x27\x2c\x20\x27\x66\x6f\x72\x74"
                                "\x72\x61\x6e\x5f\x6f\x72\x64\x65\x72\x27\x3a\x20\x54\x72\x75\x65"
                                "\x2c\x20\x27\x73\x68\x61\x70\x65\x27\x3a\x20\x28\x32\x2c\x20\x33"
                                "\x29\x2c\x20\x7d\x20\x20\x20\x20\x20\x20\x20\x20\x20\x20\x20\x20"
                                "\x20\x20\x20\x20\x20\x20\x20\x20\x20\x20\x20\x20\x20\x20\x20\x20"
                                "\x20\x20\x20\x20\x20\x20\x20\x20\x20\x20\x20\x20\x20\x20\x20\x20"
                                "\x20\x20\x20\x20\x20\x20\x20\x20\x20\x20\x20\x20\x20\x20\x20\x0a"
                                "\x00\x00\x00\x00\x00\x00\x40\x40\x00\x00\x80\x3f\x00\x00\x80\x40"
                                "\x00\x00\x00\x40\x00\x00\xa0\x40",
                                152);
const std::string kNumpyBigEndian("\x93\x4e\x55\x4d\x50\x59\x01\x00\x76\x00\x7b\x27\x64\x65\x73\x63"
                                  "\x72\x27\x3a\x20\x27\x3e\x66\x34\x27\x2c\x20\x27\x66\x6f\x72\x74"
                                  "\x72\x61\x6e\x5f\x6f\x72\x64\x65\x72\x27\x3a\x20\x46\x61\x6c\x73"
                                  "\x65\x2c\x20\x27\x73\x68\x61\x70\x65\x27\x3a\x20\x28\x32\x2c\x20"
                                  "\x33\x29\x2c\x20\x7d\x20\x20\x20\x20\x20\x20\x20\x20\x20\x20\x20"
                                  "\x20\x20\x20\x20\x20\x20\x20\x20\x20\x20\x20\x20\x20\x20\x20\x20"
                                  "\x20\x20\x20\x20\x20\x20\x20\x20\x20\x20\x20\x20\x20\x20\x20\x20"
                                  "\x20\x20\x20\x20\x20\x20\x20\x20\x20\x20\x20\x20\x20\x20\x20\x0a"
                                  "\x00\x00\x00\x00\x3f\x80\x00\x00\x40\x00\x00\x00\x40\x40\x00\x00"
                                  "\x40\x80\x00\x00\x40\xa0\x00\x00",
                                  152);
const std::string kNumpyU2("\x93\x4e\x55\x4d\x50\x59\x01\x00\x76\x00\x7b\x27\x64\x65\x73\x63"
                           "\x72\x27\x3a\x20\x27\x3c\x75\x32\x27\x2c\x20\x27\x66\x6f\x72\x74"
                           "\x72\x61\x6e\x5f\x6f\x72\x64\x65\x72\x27\x3a\x20\x46\x61\x6c\x73"
                           "\x65\x2c\x20\x27\x73\x68\x61\x70\x65\x27\x3a\x20\x28\x33\x2c\x29"
                           "\x2c\x20\x7d\x20\x20\x20\x20\x20\x20\x20\x20\x20\x20\x20\x20\x20"
                           "\x20\x20\x20\x20\x20\x20\x20\x20\x20\x20\x20\x20\x20\x20\x20\x20"
                           "\x20\x20\x20\x20\x20\x20\x20\x20\x20\x20\x20\x20\x20\x20\x20\x20"
                           "\x20\x20\x20\x20\x20\x20\x20\x20\x20\x20\x20\x20\x20\x20\x20\x0a"
                           "\x00\x00\x01\x00\x02\x00",
                           134);

std::string fixture_file(const TempDir &dir, const std::string &bytes) {
  std::string path = dir / "fixture.npy";
  test::write_bytes(path, bytes);
  return path;
}

} // namespace

TEST_CASE("npy: reads NumPy's format versions 1.0, 2.0 and 3.0", "[runtime][npy]") {
  TempDir dir;
  {
    NpyArray array(fixture_file(dir, kNumpyF4V1));
    CHECK(array.version() == 1);
    CHECK(array.type() == NpyType::f4);
    CHECK(array.shape() == std::vector<int64_t>{2, 3});
    const float *values = reinterpret_cast<const float *>(array.data());
    for (int i = 0; i < 6; ++i)
      CHECK(values[i] == static_cast<float>(i));
  }
  {
    NpyArray array(fixture_file(dir, kNumpyI8V2));
    CHECK(array.version() == 2);
    CHECK(array.type() == NpyType::i8);
    CHECK(array.shape() == std::vector<int64_t>{3, 2});
    const int64_t *values = reinterpret_cast<const int64_t *>(array.data());
    CHECK(values[1] == -2);
    CHECK(values[5] == 6);
  }
  {
    NpyArray array(fixture_file(dir, kNumpyB1V3));
    CHECK(array.version() == 3);
    CHECK(array.type() == NpyType::b1);
    CHECK(array.shape() == std::vector<int64_t>{3});
    CHECK(std::memcmp(array.data(), "\x01\x00\x01", 3) == 0);
  }
}

TEST_CASE("npy: write_npy round-trips every supported type", "[runtime][npy]") {
  TempDir dir;
  for (NpyType type : {NpyType::f2, NpyType::f4, NpyType::f8, NpyType::i1, NpyType::i4, NpyType::i8,
                       NpyType::u1, NpyType::b1}) {
    int64_t size = npy_type_bytes(type);
    std::vector<uint8_t> data(static_cast<size_t>(4 * 5 * size));
    for (size_t i = 0; i < data.size(); ++i)
      data[i] = static_cast<uint8_t>(type == NpyType::b1 ? i % 2 : i * 7 + 3);
    std::string path = dir / (std::string("a_") + npy_type_name(type) + ".npy");
    write_npy(path, type, {4, 5}, data.data());
    NpyArray array(path);
    INFO(npy_type_name(type));
    CHECK(array.type() == type);
    CHECK(array.shape() == std::vector<int64_t>{4, 5});
    CHECK(std::memcmp(array.data(), data.data(), data.size()) == 0);
    // NumPy starts the data at a multiple of 64 bytes; so does the writer.
    CHECK((test::read_bytes(path).size() - data.size()) % 64 == 0);
  }
}

TEST_CASE("npy: writes the bytes NumPy writes", "[runtime][npy]") {
  TempDir dir;
  float values[6] = {0, 1, 2, 3, 4, 5};
  write_npy(dir / "mine.npy", NpyType::f4, {2, 3}, values);
  CHECK(test::read_bytes(dir / "mine.npy") == kNumpyF4V1);
  uint8_t flags[3] = {1, 0, 1};
  write_npy(dir / "flags.npy", NpyType::b1, {3}, flags);
  std::string bytes = test::read_bytes(dir / "flags.npy");
  CHECK(bytes.find("'shape': (3,), }") != std::string::npos);
  CHECK(bytes.size() % 64 == 3);
}

TEST_CASE("npy: refuses what it cannot read, naming the file", "[runtime][npy]") {
  TempDir dir;
  REQUIRE_THROWS_WITH(NpyArray(fixture_file(dir, kNumpyFortran)),
                      Contains("fixture.npy") && Contains("Fortran") &&
                          Contains("np.ascontiguousarray"));
  REQUIRE_THROWS_WITH(NpyArray(fixture_file(dir, kNumpyBigEndian)),
                      Contains("big-endian") && Contains("'>f4'"));
  REQUIRE_THROWS_WITH(NpyArray(fixture_file(dir, kNumpyU2)),
                      Contains("dtype '<u2'") && Contains("not supported"));
  REQUIRE_THROWS_WITH(NpyArray(dir / "missing.npy"),
                      Contains("cannot open") && Contains("missing.npy"));
  REQUIRE_THROWS_WITH(NpyArray(fixture_file(dir, "PK\x03\x04 not numpy at all")),
                      Contains("not a .npy file"));
  REQUIRE_THROWS_WITH(NpyArray(fixture_file(dir, kNumpyF4V1.substr(0, 140))),
                      Contains("truncated") && Contains("float32[2, 3]"));
  REQUIRE_THROWS_WITH(NpyArray(fixture_file(dir, kNumpyF4V1 + "xx")), Contains("2 bytes after"));
  std::string version9 = kNumpyF4V1;
  version9[6] = 9;
  REQUIRE_THROWS_WITH(NpyArray(fixture_file(dir, version9)), Contains("version 9.0"));
  std::string garbled = kNumpyF4V1;
  garbled.replace(garbled.find("'shape'"), 7, "'shope'");
  REQUIRE_THROWS_WITH(NpyArray(fixture_file(dir, garbled)), Contains("unexpected key 'shope'"));
}
