// Tests of token shard reading and writing: round trips at both widths, plain llm.c files, and
// every malformed case (each a kBadInput error naming the file and the field).
#include "trainer/data/token_shard.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <array>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <string>
#include <vector>

#include "core/common/error.h"
#include "tests/unit/trainer/test_util.h"

namespace sy::trainer {
namespace {

using ::testing::HasSubstr;
namespace fs = std::filesystem;
using testing::fresh_dir;

// Writes a raw file: the header words given (the rest 0), then `payload` bytes.
std::string write_raw(const fs::path& path, const std::vector<std::pair<int, int32_t>>& words,
                      const std::vector<uint8_t>& payload) {
  std::array<int32_t, kShardHeaderWords> h{};
  for (const auto& [i, v] : words) h[static_cast<size_t>(i)] = v;
  std::ofstream out(path, std::ios::binary);
  out.write(reinterpret_cast<const char*>(h.data()), kShardHeaderBytes);
  out.write(reinterpret_cast<const char*>(payload.data()),
            static_cast<std::streamsize>(payload.size()));
  return path.string();
}

std::vector<uint8_t> u16_payload(const std::vector<uint16_t>& t) {
  std::vector<uint8_t> b(t.size() * 2);
  std::memcpy(b.data(), t.data(), b.size());
  return b;
}

// Runs f, expecting a sy::Error of kind kBadInput; returns its message.
std::string bad_input_message(const std::function<void()>& f) {
  return testing::error_message(ErrorKind::kBadInput, f);
}

TEST(TokenShard, RoundTripUint16) {
  const fs::path dir = fresh_dir("u16");
  std::vector<uint32_t> tokens;
  for (uint32_t i = 0; i < 1000; ++i) tokens.push_back((i * 37) % 260);
  const ShardMeta meta{260, 256, 0x0123456789abcdefull};
  const std::string path = (dir / "a.bin").string();
  write_token_shard(path, tokens, meta);
  EXPECT_EQ(fs::file_size(path), 1024u + 2u * tokens.size());

  const TokenShard s = TokenShard::load(path);
  EXPECT_EQ(s.path(), path);
  EXPECT_EQ(s.size(), 1000);
  EXPECT_EQ(s.token_bytes(), 2);
  EXPECT_TRUE(s.has_switchyard_meta());
  EXPECT_EQ(s.meta().vocab_size, 260);
  EXPECT_EQ(s.meta().eot_id, 256);
  EXPECT_EQ(s.meta().tokenizer_hash, 0x0123456789abcdefull);
  EXPECT_EQ(s.max_token(), 259u);
  for (size_t i = 0; i < tokens.size(); ++i) ASSERT_EQ(s[static_cast<int64_t>(i)], tokens[i]);
  std::vector<int32_t> out(10);
  s.copy_to(990, 10, out.data());
  for (int k = 0; k < 10; ++k)
    EXPECT_EQ(out[static_cast<size_t>(k)], static_cast<int>(tokens[990 + k]));

  // The header words are exactly the documented ones.
  std::ifstream in(path, std::ios::binary);
  std::array<int32_t, 16> h{};
  in.read(reinterpret_cast<char*>(h.data()), sizeof(h));
  EXPECT_EQ(h[0], 20240520);
  EXPECT_EQ(h[1], 1);
  EXPECT_EQ(h[2], 1000);
  EXPECT_EQ(h[8], 0x53594431);
  EXPECT_EQ(h[9], 260);
  EXPECT_EQ(h[10], 256);
  EXPECT_EQ(static_cast<uint32_t>(h[11]), 0x89abcdefu);
  EXPECT_EQ(static_cast<uint32_t>(h[12]), 0x01234567u);
  EXPECT_FALSE(fs::exists(path + ".tmp." + std::to_string(::getpid())));
}

TEST(TokenShard, RoundTripUint32) {
  const fs::path dir = fresh_dir("u32");
  const std::vector<uint32_t> tokens = {0, 1, 65535, 65536, 99999, 7, 100000 - 2};
  const std::string path = (dir / "b.bin").string();
  write_token_shard(path, tokens, ShardMeta{100000, 3, 0});
  EXPECT_EQ(fs::file_size(path), 1024u + 4u * tokens.size());
  const TokenShard s = TokenShard::load(path);
  EXPECT_EQ(s.token_bytes(), 4);
  EXPECT_EQ(s.size(), 7);
  EXPECT_EQ(s.meta().vocab_size, 100000);
  for (size_t i = 0; i < tokens.size(); ++i) EXPECT_EQ(s[static_cast<int64_t>(i)], tokens[i]);
  EXPECT_EQ(s.max_token(), 99999u);
}

TEST(TokenShard, VocabOf65536StillFitsUint16) {
  const fs::path dir = fresh_dir("edge");
  const std::string path = (dir / "c.bin").string();
  write_token_shard(path, std::vector<uint32_t>{65535, 0}, ShardMeta{65536, 0, 0});
  const TokenShard s = TokenShard::load(path);
  EXPECT_EQ(s.token_bytes(), 2);
  EXPECT_EQ(s[0], 65535u);
}

TEST(TokenShard, EmptyShardRoundTrips) {
  const fs::path dir = fresh_dir("empty");
  const std::string path = (dir / "e.bin").string();
  write_token_shard(path, std::vector<uint32_t>{}, ShardMeta{260, 256, 0});
  const TokenShard s = TokenShard::load(path);
  EXPECT_EQ(s.size(), 0);
  EXPECT_EQ(fs::file_size(path), 1024u);
}

TEST(TokenShard, PlainLlmcFileLoadsWithUnknownVocab) {
  const fs::path dir = fresh_dir("llmc");
  const std::string path = write_raw(dir / "gpt2.bin", {{0, 20240520}, {1, 1}, {2, 4}},
                                     u16_payload({50256, 10, 20, 30}));
  const TokenShard s = TokenShard::load(path);
  EXPECT_FALSE(s.has_switchyard_meta());
  EXPECT_EQ(s.meta().vocab_size, 0);
  EXPECT_EQ(s.max_token(), 50256u);
  EXPECT_NO_THROW(s.check_vocab(50257));
  const std::string msg = bad_input_message([&] { s.check_vocab(50000); });
  EXPECT_THAT(msg, HasSubstr(path));
  EXPECT_THAT(msg, HasSubstr("position 0"));
  EXPECT_THAT(msg, HasSubstr("50256"));
}

TEST(TokenShard, BadMagicNamesFileAndField) {
  const fs::path dir = fresh_dir("magic");
  const std::string path = write_raw(dir / "m.bin", {{0, 12345}, {1, 1}, {2, 1}}, u16_payload({1}));
  const std::string msg = bad_input_message([&] { TokenShard::load(path); });
  EXPECT_THAT(msg, HasSubstr(path));
  EXPECT_THAT(msg, HasSubstr("magic"));
  EXPECT_THAT(msg, HasSubstr("12345"));
}

TEST(TokenShard, BadVersionNamesFileAndField) {
  const fs::path dir = fresh_dir("version");
  const std::string path =
      write_raw(dir / "v.bin", {{0, 20240520}, {1, 7}, {2, 1}}, u16_payload({1}));
  const std::string msg = bad_input_message([&] { TokenShard::load(path); });
  EXPECT_THAT(msg, HasSubstr(path));
  EXPECT_THAT(msg, HasSubstr("version"));
  EXPECT_THAT(msg, HasSubstr("is 7"));
}

TEST(TokenShard, TruncatedFileNamesBothSizes) {
  const fs::path dir = fresh_dir("trunc");
  const std::string path =
      write_raw(dir / "t.bin", {{0, 20240520}, {1, 1}, {2, 10}}, u16_payload({1, 2, 3}));
  const std::string msg = bad_input_message([&] { TokenShard::load(path); });
  EXPECT_THAT(msg, HasSubstr(path));
  EXPECT_THAT(msg, HasSubstr("1030 bytes"));  // actual
  EXPECT_THAT(msg, HasSubstr("expected 1044"));
  EXPECT_THAT(msg, HasSubstr("truncated"));
}

TEST(TokenShard, ShorterThanHeader) {
  const fs::path dir = fresh_dir("short");
  const std::string path = (dir / "s.bin").string();
  testing::write_file(path, "tiny");
  const std::string msg = bad_input_message([&] { TokenShard::load(path); });
  EXPECT_THAT(msg, HasSubstr(path));
  EXPECT_THAT(msg, HasSubstr("header"));
}

TEST(TokenShard, ExtraBytesNamesBothSizes) {
  const fs::path dir = fresh_dir("extra");
  const std::string path =
      write_raw(dir / "x.bin", {{0, 20240520}, {1, 1}, {2, 2}}, u16_payload({1, 2, 3}));
  const std::string msg = bad_input_message([&] { TokenShard::load(path); });
  EXPECT_THAT(msg, HasSubstr(path));
  EXPECT_THAT(msg, HasSubstr("1030 bytes"));
  EXPECT_THAT(msg, HasSubstr("expected 1028"));
  EXPECT_THAT(msg, HasSubstr("extra bytes"));
}

TEST(TokenShard, TokenAboveVocabNamesPosition) {
  const fs::path dir = fresh_dir("vocab");
  const std::string path = write_raw(
      dir / "o.bin", {{0, 20240520}, {1, 1}, {2, 4}, {8, kSwitchyardMarker}, {9, 260}, {10, 256}},
      u16_payload({1, 259, 260, 5}));
  const std::string msg = bad_input_message([&] { TokenShard::load(path); });
  EXPECT_THAT(msg, HasSubstr(path));
  EXPECT_THAT(msg, HasSubstr("position 2"));
  EXPECT_THAT(msg, HasSubstr("vocab size 260"));
}

TEST(TokenShard, EotOutsideVocabNamesField) {
  const fs::path dir = fresh_dir("eot");
  const std::string path = write_raw(
      dir / "q.bin", {{0, 20240520}, {1, 1}, {2, 1}, {8, kSwitchyardMarker}, {9, 260}, {10, 260}},
      u16_payload({1}));
  const std::string msg = bad_input_message([&] { TokenShard::load(path); });
  EXPECT_THAT(msg, HasSubstr(path));
  EXPECT_THAT(msg, HasSubstr("end-of-text"));
}

TEST(TokenShard, MissingFileNamesPath) {
  const fs::path dir = fresh_dir("missing");
  const std::string path = (dir / "nope.bin").string();
  const std::string msg = bad_input_message([&] { TokenShard::load(path); });
  EXPECT_THAT(msg, HasSubstr(path));
  EXPECT_THAT(msg, HasSubstr("does not exist"));
  const std::string dir_msg = bad_input_message([&] { TokenShard::load(dir.string()); });
  EXPECT_THAT(dir_msg, HasSubstr("not a regular file"));
}

TEST(TokenShard, Fnv1aKnownValues) {
  EXPECT_EQ(fnv1a64({}), 0xcbf29ce484222325ull);
  const uint8_t a[] = {'a'};
  EXPECT_EQ(fnv1a64(a), 0xaf63dc4c8601ec8cull);
  const uint8_t foobar[] = {'f', 'o', 'o', 'b', 'a', 'r'};
  EXPECT_EQ(fnv1a64(foobar), 0x85944171f73967e8ull);
}

}  // namespace
}  // namespace sy::trainer
