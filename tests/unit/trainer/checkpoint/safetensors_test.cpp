// Tests of safetensors reading and writing: round trips (F32, I32, BF16 output, rank 0, empty
// tensors, metadata), hand-crafted BF16/F16 files, and one crafted bad file per validation rule,
// each a kBadInput error naming the file.
#include "trainer/checkpoint/safetensors.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <limits>
#include <string>
#include <vector>

#include "core/common/error.h"
#include "tests/unit/trainer/test_util.h"

namespace sy::trainer {
namespace {

using core::Tensor;
using ::testing::HasSubstr;
namespace fs = std::filesystem;
using testing::fresh_dir;
using testing::read_file;
using testing::write_file;

std::string bytes_of(const void* p, size_t n) {
  return std::string(static_cast<const char*>(p), n);
}

// A file made by hand: the 8-byte header length (header.size() unless given), header, data.
std::string craft(const fs::path& path, const std::string& header, const std::string& data,
                  uint64_t length = UINT64_MAX) {
  const uint64_t n = length == UINT64_MAX ? header.size() : length;
  write_file(path, bytes_of(&n, 8) + header + data);
  return path.string();
}

std::string f32_bytes(const std::vector<float>& v) { return bytes_of(v.data(), v.size() * 4); }

// Reading `path` fails with kBadInput, naming the file and mentioning `what`.
void expect_bad(const std::string& path, const std::string& what) {
  const std::string msg =
      testing::error_message(ErrorKind::kBadInput, [&] { read_safetensors(path); });
  EXPECT_THAT(msg, HasSubstr(path));
  EXPECT_THAT(msg, HasSubstr(what));
}

TEST(Safetensors, RoundTripsFloatIntScalarEmptyAndMetadata) {
  const fs::path dir = fresh_dir();
  const std::string path = (dir / "a.safetensors").string();
  const Tensor f = Tensor::from_vector({1.5f, -2.0f, 3.25f, 0.0f, 1e-30f, -7.0f}, {2, 3});
  const Tensor i = Tensor::from_ints({7, -1, 2147483647, 0}, {4});
  const Tensor s = Tensor::from_vector({42.0f}, core::Shape{});
  const Tensor empty = Tensor::zeros({0, 5});
  const std::map<std::string, std::string> meta = {
      {"format", "pt"}, {"quote\"back\\slash", "line\nbreak\ttab \x01 caf\xc3\xa9"}};
  write_safetensors(path, {{"z.f", f}, {"a.i", i}, {"m.scalar", s}, {"e.empty", empty}}, meta);

  const SafetensorsFile file = read_safetensors(path);
  EXPECT_EQ(file.names(), (std::vector<std::string>{"a.i", "e.empty", "m.scalar", "z.f"}));
  EXPECT_TRUE(file.has("z.f"));
  EXPECT_FALSE(file.has("nope"));
  EXPECT_EQ(file.metadata(), meta);
  const Tensor f2 = file.tensor("z.f");
  EXPECT_EQ(f2.dtype(), core::DType::kF32);
  EXPECT_EQ(f2.shape(), (core::Shape{2, 3}));
  EXPECT_EQ(f2.to_vector(), f.to_vector());
  const Tensor i2 = file.tensor("a.i");
  EXPECT_EQ(i2.dtype(), core::DType::kI32);
  EXPECT_EQ(i2.to_int_vector(), i.to_int_vector());
  EXPECT_EQ(file.tensor("m.scalar").ndim(), 0);
  EXPECT_EQ(file.tensor("m.scalar").item(), 42.0f);
  EXPECT_EQ(file.tensor("e.empty").shape(), (core::Shape{0, 5}));
  EXPECT_EQ(file.entry("a.i").dtype, SafetensorsDType::kI32);
  EXPECT_EQ(file.entry("z.f").shape, (std::vector<int64_t>{2, 3}));

  // Layout: the header length is a multiple of 8, the header opens with the metadata, and the
  // data region starts with the first name's tensor.
  std::ifstream in(path, std::ios::binary);
  uint64_t n = 0;
  in.read(reinterpret_cast<char*>(&n), 8);
  EXPECT_EQ(n % 8, 0u);
  std::string header(n, '\0');
  in.read(header.data(), static_cast<std::streamsize>(n));
  EXPECT_EQ(header.rfind("{\"__metadata__\":{", 0), 0u) << header;
  EXPECT_THAT(header,
              HasSubstr("\"a.i\":{\"dtype\":\"I32\",\"shape\":[4],\"data_offsets\":[0,16]}"));
  // No temporary file is left behind, and writing again replaces the file.
  write_safetensors(path, {{"only", s}});
  EXPECT_EQ(read_safetensors(path).names(), std::vector<std::string>{"only"});
  EXPECT_TRUE(read_safetensors(path).metadata().empty());
  EXPECT_EQ(std::distance(fs::directory_iterator(dir), fs::directory_iterator()), 1);
}

TEST(Safetensors, WritesAnEmptyFile) {
  const std::string path = (fresh_dir() / "none.safetensors").string();
  write_safetensors(path, {});
  EXPECT_TRUE(read_safetensors(path).names().empty());
  EXPECT_EQ(fs::file_size(path), 16u);  // length + "{}" padded to 8
}

TEST(Safetensors, WritesBf16RoundedToNearestEven) {
  const std::string path = (fresh_dir() / "bf16.safetensors").string();
  // 1 + 2^-8 is halfway between bf16 neighbours 1 and 1 + 2^-7: ties go to even (1).
  // 1 + 3 * 2^-8 is halfway between 1 + 2^-7 and 1 + 2^-6: ties go to even (1 + 2^-6).
  const std::vector<float> v = {1.0f, -2.5f, 1.0f + 1.0f / 256, 1.0f + 3.0f / 256,
                                1.0f + 1.5f / 256};
  write_safetensors(path,
                    {{"w", Tensor::from_vector(v, {5})}, {"ids", Tensor::from_ints({3}, {1})}}, {},
                    {SafetensorsDType::kBF16});
  const SafetensorsFile file = read_safetensors(path);
  EXPECT_EQ(file.entry("w").dtype, SafetensorsDType::kBF16);
  EXPECT_EQ(file.entry("ids").dtype, SafetensorsDType::kI32);
  EXPECT_EQ(file.tensor("w").to_vector(),
            (std::vector<float>{1.0f, -2.5f, 1.0f, 1.0f + 1.0f / 64, 1.0f + 1.0f / 128}));
  EXPECT_TRUE(std::isnan(bf16_to_float(float_to_bf16(std::numeric_limits<float>::quiet_NaN()))));
  EXPECT_EQ(bf16_to_float(float_to_bf16(std::numeric_limits<float>::infinity())),
            std::numeric_limits<float>::infinity());
}

TEST(Safetensors, ReadsHandCraftedBf16AndF16) {
  const fs::path dir = fresh_dir();
  const std::vector<uint16_t> bf16 = {0x3F80, 0xC020, 0x0000, 0x8000, 0x7F80, 0x0001};
  const std::vector<uint16_t> f16 = {0x3C00, 0xC000, 0x3800, 0x7BFF, 0x0001,
                                     0x8200, 0x7C00, 0xFC00, 0x7E00, 0x0400};
  const std::string header =
      "{\"b\":{\"dtype\":\"BF16\",\"shape\":[2,3],\"data_offsets\":[0,12]},"
      "\"h\":{\"dtype\":\"F16\",\"shape\":[10],\"data_offsets\":[12,32]}}";
  const std::string path =
      craft(dir / "half.safetensors", header, bytes_of(bf16.data(), 12) + bytes_of(f16.data(), 20));
  const SafetensorsFile file = read_safetensors(path);
  const std::vector<float> b = file.tensor("b").to_vector();
  EXPECT_EQ(file.tensor("b").shape(), (core::Shape{2, 3}));
  EXPECT_EQ(b[0], 1.0f);
  EXPECT_EQ(b[1], -2.5f);
  EXPECT_EQ(b[2], 0.0f);
  EXPECT_TRUE(b[3] == 0.0f && std::signbit(b[3]));
  EXPECT_EQ(b[4], std::numeric_limits<float>::infinity());
  EXPECT_EQ(b[5], std::ldexp(1.0f, -133));  // the smallest bf16 subnormal
  const std::vector<float> h = file.tensor("h").to_vector();
  EXPECT_EQ(h[0], 1.0f);
  EXPECT_EQ(h[1], -2.0f);
  EXPECT_EQ(h[2], 0.5f);
  EXPECT_EQ(h[3], 65504.0f);                  // the largest finite half
  EXPECT_EQ(h[4], std::ldexp(1.0f, -24));     // the smallest subnormal
  EXPECT_EQ(h[5], -std::ldexp(512.0f, -24));  // a negative subnormal
  EXPECT_EQ(h[6], std::numeric_limits<float>::infinity());
  EXPECT_EQ(h[7], -std::numeric_limits<float>::infinity());
  EXPECT_TRUE(std::isnan(h[8]));
  EXPECT_EQ(h[9], std::ldexp(1.0f, -14));  // the smallest normal
}

TEST(Safetensors, AcceptsJsonEscapesAndWhitespace) {
  const std::string header =
      " {\"a\\u00e9\\ud83d\\ude00\\n\" : { \"shape\" : [ 1 ] , \"dtype\":\"F32\", "
      "\"data_offsets\":[0,4]}, \"__metadata__\":{\"k\":\"\\\"v\\\\\\/\"}}   ";
  const fs::path dir = fresh_dir();
  // A header that does not start with '{' is rejected (the reference implementation does too).
  expect_bad(craft(dir / "lead.safetensors", header, f32_bytes({2.0f})), "must start with '{'");
  const std::string path = craft(dir / "esc.safetensors", header.substr(1), f32_bytes({2.0f}));
  const SafetensorsFile file = read_safetensors(path);
  EXPECT_EQ(file.names(), std::vector<std::string>{"a\xc3\xa9\xf0\x9f\x98\x80\n"});
  EXPECT_EQ(file.metadata().at("k"), "\"v\\/");
}

// Every prefix of a valid file and many random byte corruptions either read (then every tensor
// reads) or fail with kBadInput; nothing crashes (this test is most useful under the asan preset).
TEST(Safetensors, TruncationsAndCorruptionsFailCleanly) {
  const fs::path dir = fresh_dir();
  const std::string good = (dir / "good.safetensors").string();
  write_safetensors(
      good, {{"a", Tensor::from_vector({1, 2, 3}, {3})}, {"b", Tensor::from_ints({4}, {1})}},
      {{"k", "v\u00e9"}});
  const std::string bytes = read_file(good);
  const std::string path = (dir / "mutant.safetensors").string();
  auto check = [&](const std::string& content) {
    write_file(path, content);
    try {
      const SafetensorsFile f = read_safetensors(path);
      for (const std::string& name : f.names()) f.tensor(name);
      return true;
    } catch (const Error& e) {
      EXPECT_EQ(e.kind(), ErrorKind::kBadInput) << e.what();
      return false;
    }
  };
  for (size_t n = 0; n < bytes.size(); ++n) EXPECT_FALSE(check(bytes.substr(0, n))) << n;
  EXPECT_TRUE(check(bytes));
  uint64_t state = 12345;
  for (int i = 0; i < 3000; ++i) {
    state = state * 6364136223846793005ull + 1442695040888963407ull;
    std::string mutant = bytes;
    const size_t at = (state >> 33) % mutant.size();
    mutant[at] = static_cast<char>(state >> 17);
    check(mutant);
  }
}

class SafetensorsBad : public ::testing::Test {
 protected:
  std::string file(const std::string& header, const std::string& data,
                   uint64_t length = UINT64_MAX) {
    return craft(dir_ / ("bad" + std::to_string(count_++) + ".safetensors"), header, data, length);
  }
  static std::string entry(const std::string& name, const std::string& dtype,
                           const std::string& shape, uint64_t begin, uint64_t end) {
    return "\"" + name + "\":{\"dtype\":\"" + dtype + "\",\"shape\":" + shape +
           ",\"data_offsets\":[" + std::to_string(begin) + "," + std::to_string(end) + "]}";
  }
  // A header object of the given members.
  static std::string obj(std::initializer_list<std::string> members) {
    std::string out = "{";
    for (const std::string& m : members) out.append(out.size() > 1 ? "," : "").append(m);
    return out.append("}");
  }
  fs::path dir_ = fresh_dir();
  int count_ = 0;
};

TEST_F(SafetensorsBad, MissingOrTooShortFile) {
  expect_bad((dir_ / "missing.safetensors").string(), "no such file");
  const std::string p = (dir_ / "short.safetensors").string();
  write_file(p, "abc");
  expect_bad(p, "too short");
}

TEST_F(SafetensorsBad, HeaderLengthPastTheEndOrTooLarge) {
  const std::string h = obj({entry("w", "F32", "[1]", 0, 4)});
  expect_bad(file(h, f32_bytes({1.0f}), h.size() + 100), "past the end");
  expect_bad(file(h, f32_bytes({1.0f}), 200ull << 20), "100 MB");
}

TEST_F(SafetensorsBad, MalformedJson) {
  expect_bad(file("{\"w\":{\"dtype\":\"F32\",}", ""), "bad JSON header");
  expect_bad(file("{\"w\":{\"dtype\":\"F32\"", ""), "bad JSON header");
  expect_bad(file("{\"a\":1} x", ""), "unexpected text after");
  expect_bad(file("{\"a\":\"\\q\"}", ""), "bad escape");
  expect_bad(file("{\"a\":\"\\ud800\"}", ""), "surrogate");
  expect_bad(file("{\"a\":\"tab\there\"}", ""), "control character");
  expect_bad(file("{\"a\":01}", ""), "leading zero");
  expect_bad(file("{\"a\":99999999999999999999}", ""), "out of range");
  expect_bad(file("{\"a\":\"\xff\"}", ""), "not valid UTF-8");
  expect_bad(file("{\"w\":{\"dtype\":\"F32\",\"shape\":[1.5],\"data_offsets\":[0,4]}}", ""),
             "integers");
  std::string deep = "{\"a\":";
  for (int i = 0; i < 40; ++i) deep += "[";
  expect_bad(file(deep, ""), "nested too deeply");
}

TEST_F(SafetensorsBad, UnknownDtypeOrField) {
  expect_bad(file(obj({entry("w", "F64", "[1]", 0, 8)}), std::string(8, '\0')),
             "unsupported dtype \"F64\"");
  expect_bad(file("{\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4],\"x\":1}}",
                  f32_bytes({1.0f})),
             "unknown field \"x\"");
  expect_bad(file("{\"w\":{\"dtype\":\"F32\",\"data_offsets\":[0,4]}}", f32_bytes({1.0f})),
             "\"shape\" must be an array");
  expect_bad(file("{\"w\":[1]}", ""), "tensor \"w\": the entry must be an object");
}

// The shared JSON parser reads true, false and null; the header has no place for them, so each
// is a type error naming the tensor and field. Offsets past 2^53 are read exactly, not as doubles.
TEST_F(SafetensorsBad, LiteralsAreWrongTypesAndOffsetsAreExact) {
  expect_bad(file("{\"w\":true}", ""), "tensor \"w\": the entry must be an object");
  expect_bad(file("{\"w\":{\"dtype\":null,\"shape\":[1],\"data_offsets\":[0,4]}}", f32_bytes({1})),
             "tensor \"w\": \"dtype\" must be a string");
  expect_bad(file(obj({entry("w", "F32", "[false]", 0, 4)}), f32_bytes({1})),
             "tensor \"w\": \"shape\" must hold non-negative integers");
  expect_bad(file("{\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,null]}}", ""),
             "tensor \"w\": \"data_offsets\" must be [begin, end]");
  expect_bad(file("{\"__metadata__\":{\"a\":true}}", ""),
             "\"__metadata__\" value \"a\" must be a string");
  expect_bad(file("{\"__metadata__\":null}", ""), "\"__metadata__\" must be an object");
  // 2^53 + 3 rounds to 2^53 + 4 as a double, which would fail the shape check instead.
  expect_bad(file(obj({entry("w", "BF16", "[4503599627370497]", 1, 9007199254740995)}), ""),
             "tensor \"w\": data_offsets [1, 9007199254740995] run past");
}

TEST_F(SafetensorsBad, ShapeDoesNotMatchTheOffsets) {
  expect_bad(file(obj({entry("w", "F32", "[2,3]", 0, 20)}), std::string(20, '\0')),
             "tensor \"w\": shape (2,3) of F32 needs 24 bytes but data_offsets [0, 20] hold 20");
  expect_bad(file(obj({entry("w", "F32", "[-1]", 0, 4)}), f32_bytes({1.0f})), "non-negative");
  expect_bad(file(obj({entry("w", "F32", "[1,1,1,1,1,1,1,1,1]", 0, 4)}), f32_bytes({1.0f})),
             "rank 9");
  expect_bad(file("{\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,0]}}", ""),
             "0 <= begin <= end");
}

TEST_F(SafetensorsBad, OffsetsPastTheEndOrTruncatedFile) {
  const std::string h = obj({entry("a", "F32", "[2]", 0, 8), entry("b", "F32", "[1]", 8, 12)});
  expect_bad(file(h, f32_bytes({1, 2})), "tensor \"b\": data_offsets [8, 12] run past");
  expect_bad(file(h, f32_bytes({1, 2, 3}).substr(0, 10)), "truncated");
}

TEST_F(SafetensorsBad, OverlapGapOrTrailingBytes) {
  expect_bad(file(obj({entry("a", "F32", "[2]", 0, 8), entry("b", "F32", "[2]", 4, 12)}),
                  f32_bytes({1, 2, 3})),
             "overlap tensor \"a\"");
  expect_bad(file(obj({entry("a", "F32", "[1]", 0, 4), entry("b", "F32", "[1]", 8, 12)}),
                  f32_bytes({1, 2, 3})),
             "tensor \"b\": a gap of 4 unused bytes");
  expect_bad(file(obj({entry("a", "F32", "[1]", 0, 4)}), f32_bytes({1, 2})),
             "4 bytes after the last tensor");
}

TEST_F(SafetensorsBad, DuplicateNamesAndBadMetadata) {
  expect_bad(file(obj({entry("w", "F32", "[1]", 0, 4), entry("w", "F32", "[1]", 4, 8)}),
                  f32_bytes({1, 2})),
             "duplicate key \"w\"");
  expect_bad(file("{\"__metadata__\":{\"a\":1}}", ""),
             "\"__metadata__\" value \"a\" must be a string");
  expect_bad(file("{\"__metadata__\":[]}", ""), "\"__metadata__\" must be an object");
}

TEST_F(SafetensorsBad, UnknownTensorName) {
  const std::string p = file(obj({entry("w", "F32", "[1]", 0, 4)}), f32_bytes({1}));
  const SafetensorsFile f = read_safetensors(p);
  const std::string msg = testing::error_message(ErrorKind::kBadInput, [&] { f.tensor("v"); });
  EXPECT_THAT(msg, HasSubstr(p));
  EXPECT_THAT(msg, HasSubstr("no tensor named \"v\""));
}

}  // namespace
}  // namespace sy::trainer
