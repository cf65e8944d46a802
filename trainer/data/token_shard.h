// Token shards: llm.c's `.bin` layout (MODEL.md, "Token data files"; docs/DATA.md) with
// Switchyard's metadata words. A 1024-byte header of 256 little-endian int32, then the tokens.
//
//   [0] magic    20240520 (uint16 tokens) | 20240801 (uint32 tokens)
//   [1] version  1                         | 7
//   [2] token count
//   [8] kSwitchyardMarker ('SYD1') when the words below are set; 0 in plain llm.c files
//   [9] vocabulary size   [10] end-of-text id   [11..12] tokenizer hash (low word first)
//
// Plain llm.c files (no marker) load with the vocabulary unknown (vocab_size() == 0); the caller
// checks max_token() against its model. Every malformed file is an ErrorKind::kBadInput error
// whose message names the file and the offending field.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

namespace sy::trainer {

inline constexpr int32_t kShardHeaderWords = 256;
inline constexpr int64_t kShardHeaderBytes = kShardHeaderWords * 4;
inline constexpr int32_t kShardMagicU16 = 20240520;
inline constexpr int32_t kShardVersionU16 = 1;
inline constexpr int32_t kShardMagicU32 = 20240801;
inline constexpr int32_t kShardVersionU32 = 7;
inline constexpr int32_t kSwitchyardMarker = 0x53594431;  // "SYD1"

// Header word positions of Switchyard's metadata.
inline constexpr int kWordMarker = 8;
inline constexpr int kWordVocabSize = 9;
inline constexpr int kWordEotId = 10;
inline constexpr int kWordHashLo = 11;
inline constexpr int kWordHashHi = 12;

// What a shard says about its tokenizer. vocab_size == 0 means unknown (a plain llm.c file).
struct ShardMeta {
  int64_t vocab_size = 0;
  int64_t eot_id = -1;
  uint64_t tokenizer_hash = 0;
};

// A shard loaded into memory. Tokens keep the file's width (2 or 4 bytes) and widen on access.
class TokenShard {
 public:
  // Reads and validates `path`; throws sy::Error(kBadInput) naming the file and the field.
  static TokenShard load(const std::string& path);

  const std::string& path() const { return path_; }
  int64_t size() const { return count_; }     // number of tokens
  int token_bytes() const { return width_; }  // 2 or 4
  const ShardMeta& meta() const { return meta_; }
  bool has_switchyard_meta() const { return meta_.vocab_size > 0; }
  uint32_t max_token() const { return max_token_; }  // 0 for an empty shard

  uint32_t operator[](int64_t i) const {
    if (width_ == 2) return static_cast<const uint16_t*>(data())[i];
    return static_cast<const uint32_t*>(data())[i];
  }
  // out[k] = token[begin + k] for k < n; the caller keeps [begin, begin + n) in range.
  void copy_to(int64_t begin, int64_t n, int32_t* out) const;

  // Throws kBadInput naming the file and the first token >= vocab_size (the model's check for
  // plain llm.c files, whose vocabulary is not recorded).
  void check_vocab(int64_t vocab_size) const;

 private:
  TokenShard() = default;
  const void* data() const { return bytes_.data(); }

  std::string path_;
  int64_t count_ = 0;
  int width_ = 2;
  ShardMeta meta_;
  uint32_t max_token_ = 0;
  std::vector<uint32_t> bytes_;  // the token payload, 4-byte aligned storage
};

// Writes `tokens` to `path` (via a temporary file renamed into place). The width is uint16 when
// meta.vocab_size <= 65536, else uint32; every token must be < meta.vocab_size.
void write_token_shard(const std::string& path, std::span<const uint32_t> tokens,
                       const ShardMeta& meta);

// FNV-1a, 64 bit: the tokenizer hash recorded in headers (of the tokenizer model file's bytes).
uint64_t fnv1a64(std::span<const uint8_t> bytes, uint64_t hash = 0xcbf29ce484222325ull);

}  // namespace sy::trainer
