// SentencePieceTokenizer and train_sentencepiece() (tokenizer.h), over Debian's libsentencepiece.
#include <sentencepiece_processor.h>
#include <sentencepiece_trainer.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <unordered_map>

#include "core/common/error.h"
#include "trainer/data/token_shard.h"
#include "trainer/data/tokenizer.h"

namespace sy::trainer {

namespace {

// Feeds in-memory lines to the trainer (no temporary text file).
class LineIterator final : public sentencepiece::SentenceIterator {
 public:
  explicit LineIterator(const std::vector<std::string_view>& lines) : lines_(lines) { load(); }
  bool done() const override { return index_ >= lines_.size(); }
  void Next() override {
    ++index_;
    load();
  }
  const std::string& value() const override { return value_; }
  sentencepiece::util::Status status() const override { return {}; }

 private:
  void load() {
    if (index_ < lines_.size()) value_.assign(lines_[index_]);
  }
  const std::vector<std::string_view>& lines_;
  size_t index_ = 0;
  std::string value_;
};

uint64_t hash_string(const std::string& bytes) {
  return fnv1a64({reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size()});
}

}  // namespace

SentencePieceTokenizer::SentencePieceTokenizer(const std::string& model_path)
    : model_path_(model_path), sp_(std::make_unique<sentencepiece::SentencePieceProcessor>()) {
  std::error_code ec;
  SY_REQUIRE(ErrorKind::kBadInput, std::filesystem::is_regular_file(model_path, ec), "tokenizer ",
             model_path, ": file does not exist or is not a regular file");
  std::ifstream in(model_path, std::ios::binary);
  SY_REQUIRE(ErrorKind::kBadInput, in.good(), "tokenizer ", model_path,
             ": cannot open: ", std::strerror(errno));
  const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const auto status = sp_->LoadFromSerializedProto(bytes);
  SY_REQUIRE(ErrorKind::kBadInput, status.ok(), "tokenizer ", model_path,
             ": not a valid SentencePiece model (", status.ToString(), ")");
  vocab_size_ = sp_->GetPieceSize();
  eot_id_ = sp_->PieceToId(kEotPiece);
  SY_REQUIRE(ErrorKind::kBadInput, sp_->IdToPiece(eot_id_) == kEotPiece, "tokenizer ", model_path,
             ": has no '", kEotPiece, "' piece (the end-of-text token)");
  hash_ = hash_string(bytes);
}

SentencePieceTokenizer::~SentencePieceTokenizer() = default;

std::vector<int32_t> SentencePieceTokenizer::encode(std::string_view text) const {
  std::vector<int> ids;
  const auto status = sp_->Encode(text, &ids);
  SY_REQUIRE(ErrorKind::kBadInput, status.ok(), "tokenizer ", model_path_,
             ": encoding failed: ", status.ToString());
  return std::vector<int32_t>(ids.begin(), ids.end());
}

std::string SentencePieceTokenizer::decode(std::span<const int32_t> ids) const {
  std::vector<int> v(ids.begin(), ids.end());
  for (const int id : v) {
    SY_REQUIRE(ErrorKind::kBadInput, id >= 0 && id < vocab_size_, "tokenizer ", model_path_,
               ": token id ", id, " is outside [0, ", vocab_size_, ")");
  }
  std::string out;
  const auto status = sp_->Decode(v, &out);
  SY_REQUIRE(ErrorKind::kBadInput, status.ok(), "tokenizer ", model_path_,
             ": decoding failed: ", status.ToString());
  return out;
}

void train_sentencepiece(const std::vector<std::string_view>& lines,
                         const SentencePieceOptions& options, const std::string& model_path) {
  SY_REQUIRE(ErrorKind::kUsage, !lines.empty(), "sentencepiece: no training text");
  SY_REQUIRE(ErrorKind::kUsage, options.vocab_size >= 300 && options.vocab_size <= (1 << 24),
             "sentencepiece: vocab size ", options.vocab_size,
             " is outside [300, 16777216] (256 byte pieces + specials + characters)");
  // random_seed 0xffffffff means "seed from the clock" in SentencePiece.
  const uint32_t seed = options.seed == 0xffffffffu ? 0u : options.seed;
  const std::unordered_map<std::string, std::string> args = {
      {"model_type", "bpe"},
      {"vocab_size", std::to_string(options.vocab_size)},
      {"byte_fallback", "true"},
      {"character_coverage", "0.9995"},
      // Lossless: no NFKC, whitespace kept as written, no dummy prefix.
      {"normalization_rule_name", "identity"},
      {"remove_extra_whitespaces", "false"},
      {"add_dummy_prefix", "false"},
      {"allow_whitespace_only_pieces", "true"},
      {"split_digits", "true"},
      {"unk_id", "0"},
      {"bos_id", "-1"},
      {"eos_id", "-1"},
      {"pad_id", "-1"},
      {"control_symbols", kEotPiece},
      {"user_defined_symbols", "\n,\t"},  // frequent; SentencePiece drops them from its alphabet
      {"input_sentence_size", std::to_string(options.input_sentence_size)},
      {"shuffle_input_sentence", "true"},
      {"num_threads", std::to_string(options.num_threads)},
      {"minloglevel", options.verbose ? "0" : "2"},
  };
  // The sentence sampler's seed is process-global in SentencePiece (not a TrainerSpec field).
  sentencepiece::SetRandomGeneratorSeed(seed);
  LineIterator it(lines);
  std::string serialized;
  const auto status = sentencepiece::SentencePieceTrainer::Train(args, &it, &serialized);
  SY_REQUIRE(ErrorKind::kUsage, status.ok(), "sentencepiece training failed: ", status.ToString());

  const std::string tmp = model_path + ".tmp." + std::to_string(::getpid());
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    out.write(serialized.data(), static_cast<std::streamsize>(serialized.size()));
    out.flush();
    if (!out) {
      std::remove(tmp.c_str());
      throw Error(ErrorKind::kInternal, "cannot write " + tmp + ": " + std::strerror(errno));
    }
  }
  std::error_code ec;
  std::filesystem::rename(tmp, model_path, ec);
  if (ec) {
    std::remove(tmp.c_str());
    throw Error(ErrorKind::kInternal,
                "cannot rename " + tmp + " to " + model_path + ": " + ec.message());
  }
}

}  // namespace sy::trainer
