// Token shard reading (with validation) and writing; the layout is in token_shard.h.
#include "trainer/data/token_shard.h"

#include <unistd.h>

#include <array>
#include <bit>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>

#include "core/common/error.h"

namespace sy::trainer {

static_assert(std::endian::native == std::endian::little,
              "token shards are little-endian; add byte swapping for this host");

namespace fs = std::filesystem;

namespace {

// Finds the first token >= limit in [0, n) of `data` (width 2 or 4), or -1; also the maximum.
template <typename T>
int64_t scan_tokens(const T* data, int64_t n, uint64_t limit, uint32_t* max_token) {
  uint32_t mx = 0;
  for (int64_t i = 0; i < n; ++i) {
    const uint32_t t = data[i];
    if (t >= limit) return i;
    mx = t > mx ? t : mx;
  }
  *max_token = mx;
  return -1;
}

}  // namespace

uint64_t fnv1a64(std::span<const uint8_t> bytes, uint64_t hash) {
  for (const uint8_t b : bytes) {
    hash ^= b;
    hash *= 0x100000001b3ull;
  }
  return hash;
}

TokenShard TokenShard::load(const std::string& path) {
  std::error_code ec;
  const bool is_file = fs::is_regular_file(path, ec);
  SY_REQUIRE(ErrorKind::kBadInput, fs::exists(path, ec), "token shard ", path,
             ": file does not exist");
  SY_REQUIRE(ErrorKind::kBadInput, is_file, "token shard ", path, ": not a regular file");
  const auto file_size = static_cast<int64_t>(fs::file_size(path, ec));
  SY_REQUIRE(ErrorKind::kBadInput, !ec, "token shard ", path, ": cannot read size: ", ec.message());
  std::ifstream in(path, std::ios::binary);
  SY_REQUIRE(ErrorKind::kBadInput, in.good(), "token shard ", path,
             ": cannot open: ", std::strerror(errno));
  SY_REQUIRE(ErrorKind::kBadInput, file_size >= kShardHeaderBytes, "token shard ", path,
             ": file size is ", file_size, " bytes, shorter than the ", kShardHeaderBytes,
             "-byte header");

  std::array<int32_t, kShardHeaderWords> h{};
  in.read(reinterpret_cast<char*>(h.data()), kShardHeaderBytes);
  SY_REQUIRE(ErrorKind::kBadInput, in.good(), "token shard ", path, ": cannot read the header");

  TokenShard shard;
  shard.path_ = path;
  if (h[0] == kShardMagicU16) {
    shard.width_ = 2;
    SY_REQUIRE(ErrorKind::kBadInput, h[1] == kShardVersionU16, "token shard ", path,
               ": header word [1] (version) is ", h[1], ", expected ", kShardVersionU16,
               " for magic ", kShardMagicU16, " (uint16 tokens)");
  } else if (h[0] == kShardMagicU32) {
    shard.width_ = 4;
    SY_REQUIRE(ErrorKind::kBadInput, h[1] == kShardVersionU32, "token shard ", path,
               ": header word [1] (version) is ", h[1], ", expected ", kShardVersionU32,
               " for magic ", kShardMagicU32, " (uint32 tokens)");
  } else {
    SY_FAIL(ErrorKind::kBadInput, "token shard ", path, ": header word [0] (magic) is ", h[0],
            ", expected ", kShardMagicU16, " (uint16 tokens) or ", kShardMagicU32,
            " (uint32 tokens); not an llm.c/Switchyard token file");
  }
  shard.count_ = h[2];
  SY_REQUIRE(ErrorKind::kBadInput, shard.count_ >= 0, "token shard ", path,
             ": header word [2] (token count) is negative: ", h[2]);
  const int64_t expected = kShardHeaderBytes + shard.count_ * shard.width_;
  SY_REQUIRE(ErrorKind::kBadInput, file_size == expected, "token shard ", path, ": file size is ",
             file_size, " bytes, expected ", expected, " (", kShardHeaderBytes,
             "-byte header + token count ", shard.count_, " x ", shard.width_,
             " bytes); the file is ",
             file_size < expected ? "truncated" : "longer than its header says (extra bytes)");

  if (h[kWordMarker] == kSwitchyardMarker) {
    const int64_t vocab = h[kWordVocabSize];
    const int64_t eot = h[kWordEotId];
    SY_REQUIRE(ErrorKind::kBadInput, vocab > 0, "token shard ", path,
               ": header word [9] (vocab size) is ", vocab, ", expected > 0");
    SY_REQUIRE(ErrorKind::kBadInput, shard.width_ == 4 || vocab <= 65536, "token shard ", path,
               ": header word [9] (vocab size) is ", vocab, ", too large for uint16 tokens");
    SY_REQUIRE(ErrorKind::kBadInput, eot >= 0 && eot < vocab, "token shard ", path,
               ": header word [10] (end-of-text id) is ", eot, ", outside [0, vocab size ", vocab,
               ")");
    shard.meta_.vocab_size = vocab;
    shard.meta_.eot_id = eot;
    shard.meta_.tokenizer_hash =
        static_cast<uint32_t>(h[kWordHashLo]) |
        (static_cast<uint64_t>(static_cast<uint32_t>(h[kWordHashHi])) << 32);
  }

  const int64_t payload = shard.count_ * shard.width_;
  shard.bytes_.resize(static_cast<size_t>((payload + 3) / 4));
  in.read(reinterpret_cast<char*>(shard.bytes_.data()), payload);
  SY_REQUIRE(ErrorKind::kBadInput, in.good() || payload == 0, "token shard ", path,
             ": cannot read ", payload, " bytes of tokens");

  const uint64_t limit = shard.meta_.vocab_size > 0 ? static_cast<uint64_t>(shard.meta_.vocab_size)
                                                    : std::numeric_limits<uint64_t>::max();
  const int64_t bad = shard.width_ == 2 ? scan_tokens(static_cast<const uint16_t*>(shard.data()),
                                                      shard.count_, limit, &shard.max_token_)
                                        : scan_tokens(static_cast<const uint32_t*>(shard.data()),
                                                      shard.count_, limit, &shard.max_token_);
  SY_REQUIRE(ErrorKind::kBadInput, bad < 0, "token shard ", path, ": token at position ", bad,
             " is ", bad < 0 ? 0 : shard[bad], ", not below the vocab size ",
             shard.meta_.vocab_size, " (header word [9])");
  return shard;
}

void TokenShard::copy_to(int64_t begin, int64_t n, int32_t* out) const {
  if (width_ == 2) {
    const uint16_t* src = static_cast<const uint16_t*>(data()) + begin;
    for (int64_t k = 0; k < n; ++k) out[k] = src[k];
  } else {
    const uint32_t* src = static_cast<const uint32_t*>(data()) + begin;
    for (int64_t k = 0; k < n; ++k) out[k] = static_cast<int32_t>(src[k]);
  }
}

void TokenShard::check_vocab(int64_t vocab_size) const {
  if (count_ == 0 || static_cast<int64_t>(max_token_) < vocab_size) return;
  int64_t pos = 0;
  while ((*this)[pos] < vocab_size) ++pos;
  SY_FAIL(ErrorKind::kBadInput, "token shard ", path_, ": token at position ", pos, " is ",
          (*this)[pos], ", not below the model's vocab size ", vocab_size);
}

void write_token_shard(const std::string& path, std::span<const uint32_t> tokens,
                       const ShardMeta& meta) {
  SY_CHECK(meta.vocab_size > 0 && meta.vocab_size <= std::numeric_limits<int32_t>::max(),
           "write_token_shard: vocab size ", meta.vocab_size);
  SY_CHECK(meta.eot_id >= 0 && meta.eot_id < meta.vocab_size, "write_token_shard: eot id ",
           meta.eot_id);
  SY_CHECK(tokens.size() <= static_cast<size_t>(std::numeric_limits<int32_t>::max()),
           "write_token_shard: ", tokens.size(), " tokens do not fit the int32 header count");
  const int width = meta.vocab_size <= 65536 ? 2 : 4;

  std::array<int32_t, kShardHeaderWords> h{};
  h[0] = width == 2 ? kShardMagicU16 : kShardMagicU32;
  h[1] = width == 2 ? kShardVersionU16 : kShardVersionU32;
  h[2] = static_cast<int32_t>(tokens.size());
  h[kWordMarker] = kSwitchyardMarker;
  h[kWordVocabSize] = static_cast<int32_t>(meta.vocab_size);
  h[kWordEotId] = static_cast<int32_t>(meta.eot_id);
  h[kWordHashLo] = static_cast<int32_t>(static_cast<uint32_t>(meta.tokenizer_hash));
  h[kWordHashHi] = static_cast<int32_t>(static_cast<uint32_t>(meta.tokenizer_hash >> 32));

  std::vector<uint8_t> body(tokens.size() * static_cast<size_t>(width));
  for (size_t i = 0; i < tokens.size(); ++i) {
    SY_CHECK(tokens[i] < static_cast<uint64_t>(meta.vocab_size), "write_token_shard: token ",
             tokens[i], " at position ", i, " is not below the vocab size ", meta.vocab_size);
    if (width == 2) {
      const auto t = static_cast<uint16_t>(tokens[i]);
      std::memcpy(body.data() + 2 * i, &t, 2);
    } else {
      std::memcpy(body.data() + 4 * i, &tokens[i], 4);
    }
  }

  const std::string tmp = path + ".tmp." + std::to_string(::getpid());
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    if (!out) {
      throw Error(ErrorKind::kInternal, "cannot create " + tmp + ": " + std::strerror(errno));
    }
    out.write(reinterpret_cast<const char*>(h.data()), kShardHeaderBytes);
    out.write(reinterpret_cast<const char*>(body.data()),
              static_cast<std::streamsize>(body.size()));
    out.flush();
    if (!out) {
      std::remove(tmp.c_str());
      throw Error(ErrorKind::kInternal, "cannot write " + tmp + ": " + std::strerror(errno));
    }
  }
  std::error_code ec;
  fs::rename(tmp, path, ec);
  if (ec) {
    std::remove(tmp.c_str());
    throw Error(ErrorKind::kInternal, "cannot rename " + tmp + " to " + path + ": " + ec.message());
  }
}

}  // namespace sy::trainer
