// Tokenizers: the abstract interface, the byte tokenizer and the SentencePiece (BPE) tokenizer.
//
// ByteTokenizer: ids 0..255 are the bytes, 256 is <|endoftext|>, 257..259 are reserved (decode to
// nothing); vocab_size() == 260 so the embedding table's row count is a multiple of 4. Its hash
// is 0. Any byte string round-trips exactly.
//
// SentencePieceTokenizer: a BPE .model trained by train_sentencepiece() (identity normalisation,
// byte fallback, so any UTF-8 text round-trips exactly). Its hash is FNV-1a 64 of the .model
// file's bytes, which token shards record (docs/DATA.md).
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace sentencepiece {
class SentencePieceProcessor;
}

namespace sy::trainer {

class Tokenizer {
 public:
  virtual ~Tokenizer() = default;
  virtual std::vector<int32_t> encode(std::string_view text) const = 0;
  // Ids outside [0, vocab_size()) are a kBadInput error; control ids decode to nothing.
  virtual std::string decode(std::span<const int32_t> ids) const = 0;
  virtual int64_t vocab_size() const = 0;
  virtual int32_t eot_id() const = 0;
  virtual std::string name() const = 0;  // "byte" or "sentencepiece"
  virtual uint64_t hash() const = 0;     // 0 for the byte tokenizer
};

class ByteTokenizer final : public Tokenizer {
 public:
  static constexpr int32_t kEotId = 256;
  static constexpr int64_t kVocabSize = 260;

  std::vector<int32_t> encode(std::string_view text) const override;
  std::string decode(std::span<const int32_t> ids) const override;
  int64_t vocab_size() const override { return kVocabSize; }
  int32_t eot_id() const override { return kEotId; }
  std::string name() const override { return "byte"; }
  uint64_t hash() const override { return 0; }
};

// The end-of-text piece of trained SentencePiece models (a control symbol: never produced by
// encoding text, even text that spells it).
inline constexpr const char* kEotPiece = "<|endoftext|>";

class SentencePieceTokenizer final : public Tokenizer {
 public:
  // Loads a .model file; throws kBadInput naming the file when it is missing or malformed, or
  // has no <|endoftext|> piece.
  explicit SentencePieceTokenizer(const std::string& model_path);
  ~SentencePieceTokenizer() override;

  std::vector<int32_t> encode(std::string_view text) const override;
  std::string decode(std::span<const int32_t> ids) const override;
  int64_t vocab_size() const override { return vocab_size_; }
  int32_t eot_id() const override { return eot_id_; }
  std::string name() const override { return "sentencepiece"; }
  uint64_t hash() const override { return hash_; }
  const std::string& model_path() const { return model_path_; }

 private:
  std::string model_path_;
  std::unique_ptr<sentencepiece::SentencePieceProcessor> sp_;
  int64_t vocab_size_ = 0;
  int32_t eot_id_ = 0;
  uint64_t hash_ = 0;
};

struct SentencePieceOptions {
  int64_t vocab_size = 4096;
  uint32_t seed = 1234;                  // SentencePiece's random_seed (sentence sampling)
  int64_t input_sentence_size = 200000;  // lines sampled for training (bounds the time)
  int num_threads = 2;
  bool verbose = false;  // SentencePiece's own progress log on stderr
};

// Trains a BPE model on `lines` (one training sentence each; lines longer than 4192 bytes are
// skipped by SentencePiece) and writes `model_path` (temporary name, then rename). For a fixed
// input and options the model file is the same bytes run after run. Throws kUsage when training
// fails (e.g. a vocab size too small for the character set).
void train_sentencepiece(const std::vector<std::string_view>& lines,
                         const SentencePieceOptions& options, const std::string& model_path);

// "byte" gives the byte tokenizer; anything else is a SentencePiece .model path.
std::unique_ptr<Tokenizer> open_tokenizer(const std::string& spec);

}  // namespace sy::trainer
