// Tests of the byte tokenizer and the SentencePiece tokenizer: round trips of multilingual UTF-8,
// the end-of-text token, training determinism, and bad model files.
#include "trainer/data/tokenizer.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <string>
#include <vector>

#include "core/common/error.h"
#include "tests/unit/trainer/test_util.h"
#include "trainer/data/token_shard.h"

namespace sy::trainer {
namespace {

using ::testing::HasSubstr;
namespace fs = std::filesystem;
using testing::error_message;
using testing::fresh_dir;
using testing::read_file;
using testing::write_file;

constexpr const char* kMultilingual =
    "Größenwahn über Äpfel und Straße.\n"
    "\t\t-- Ёжик в тумане: съешь же ещё этих мягких французских булок, да выпей чаю.\n"
    "Zażółć gęślą jaźń. Pchnąć w tę łódź jeża lub ośm skrzyń fig.\n"
    "Příliš žluťoučký kůň úpěl ďábelské ódy.\n"
    "  two  spaces,   three, trailing \n\n"
    "unseen: 中文 🙂 e\xCC\x81 123456\n";

TEST(ByteTokenizer, RoundTripsMultilingualUtf8) {
  const ByteTokenizer tok;
  const std::string text = kMultilingual;
  const std::vector<int32_t> ids = tok.encode(text);
  EXPECT_EQ(ids.size(), text.size());
  EXPECT_TRUE(std::all_of(ids.begin(), ids.end(), [](int32_t id) { return id >= 0 && id < 256; }));
  EXPECT_EQ(tok.decode(ids), text);
  EXPECT_EQ(tok.vocab_size(), 260);
  EXPECT_EQ(tok.eot_id(), 256);
  EXPECT_EQ(tok.hash(), 0u);
  EXPECT_EQ(tok.name(), "byte");
}

TEST(ByteTokenizer, EotAndReservedDecodeToNothing) {
  const ByteTokenizer tok;
  const std::vector<int32_t> ids = {'h', 'i', 256, 257, 259, '!'};
  EXPECT_EQ(tok.decode(ids), "hi!");
  for (const int32_t bad : {260, -1}) {
    EXPECT_THAT(error_message(ErrorKind::kBadInput, [&] { tok.decode(std::vector<int32_t>{bad}); }),
                HasSubstr(std::to_string(bad)));
  }
  EXPECT_EQ(open_tokenizer("byte")->name(), "byte");
}

// Training text: a few KB from installed fortune files in several languages, or a fallback.
std::vector<std::string> training_text() {
  const char* files[] = {
      "/usr/share/games/fortunes/fortunes", "/usr/share/games/fortunes/de/murphy",
      "/usr/share/games/fortunes/ru/murphy", "/usr/share/games/fortunes/cs/murphy",
      "/usr/share/games/fortunes/pl/bajki"};
  std::string text;
  for (const char* f : files) {
    std::string body = read_file(f).substr(0, 6000);
    body = body.substr(0, body.rfind('\n') + 1);  // whole lines only (whole UTF-8 sequences)
    text += body;
  }
  if (text.size() < 4000) {
    for (int i = 0; i < 40; ++i) text += kMultilingual;
  }
  std::vector<std::string> lines;
  size_t pos = 0;
  while (pos < text.size()) {
    const size_t end = std::min(text.find('\n', pos), text.size());
    if (end > pos) lines.push_back(text.substr(pos, end - pos));
    pos = end + 1;
  }
  return lines;
}

class SentencePieceTokenizerTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new fs::path(fresh_dir("spm"));
    lines_ = new std::vector<std::string>(training_text());
    const std::vector<std::string_view> views(lines_->begin(), lines_->end());
    SentencePieceOptions o;
    o.vocab_size = 600;
    o.seed = 5;
    train_sentencepiece(views, o, (*dir_ / "a.model").string());
    train_sentencepiece(views, o, (*dir_ / "b.model").string());
  }
  static void TearDownTestSuite() {
    delete dir_;
    delete lines_;
  }
  static fs::path* dir_;
  static std::vector<std::string>* lines_;
};
fs::path* SentencePieceTokenizerTest::dir_ = nullptr;
std::vector<std::string>* SentencePieceTokenizerTest::lines_ = nullptr;

TEST_F(SentencePieceTokenizerTest, TrainsAModelWithTheEotControlPiece) {
  const SentencePieceTokenizer tok((*dir_ / "a.model").string());
  EXPECT_EQ(tok.vocab_size(), 600);
  EXPECT_EQ(tok.name(), "sentencepiece");
  EXPECT_GE(tok.eot_id(), 0);
  EXPECT_LT(tok.eot_id(), 600);
  // The end-of-text piece is a control symbol: text that spells it never produces it.
  const std::vector<int32_t> ids = tok.encode(std::string("a ") + kEotPiece + " b");
  EXPECT_EQ(std::count(ids.begin(), ids.end(), tok.eot_id()), 0);
  EXPECT_EQ(tok.decode(std::vector<int32_t>{tok.eot_id()}), "");
}

TEST_F(SentencePieceTokenizerTest, RoundTripsMultilingualText) {
  const SentencePieceTokenizer tok((*dir_ / "a.model").string());
  const std::string text = kMultilingual;
  const std::vector<int32_t> ids = tok.encode(text);
  EXPECT_LT(ids.size(), text.size()) << "BPE merges shorten the sequence";
  EXPECT_EQ(tok.decode(ids), text);
  for (size_t i = 0; i < std::min<size_t>(lines_->size(), 50); ++i) {
    EXPECT_EQ(tok.decode(tok.encode((*lines_)[i])), (*lines_)[i]);
  }
  // Documents are encoded whole, newlines included.
  std::string doc;
  for (size_t i = 0; i < std::min<size_t>(lines_->size(), 8); ++i) doc += (*lines_)[i] + "\n";
  EXPECT_EQ(tok.decode(tok.encode(doc)), doc);
}

TEST_F(SentencePieceTokenizerTest, TrainingIsDeterministicAndHashIsTheFileHash) {
  const std::string a = read_file(*dir_ / "a.model"), b = read_file(*dir_ / "b.model");
  ASSERT_FALSE(a.empty());
  EXPECT_EQ(a, b) << "same text and options must give the same model bytes";
  const auto tok = open_tokenizer((*dir_ / "a.model").string());
  EXPECT_EQ(tok->hash(), fnv1a64({reinterpret_cast<const uint8_t*>(a.data()), a.size()}));
  EXPECT_NE(tok->hash(), 0u);
}

TEST_F(SentencePieceTokenizerTest, DecodeRejectsIdsOutsideTheVocab) {
  const SentencePieceTokenizer tok((*dir_ / "a.model").string());
  EXPECT_THAT(error_message(ErrorKind::kBadInput, [&] { tok.decode(std::vector<int32_t>{600}); }),
              HasSubstr("600"));
}

TEST(SentencePieceTokenizer, MissingOrMalformedModelIsBadInput) {
  const fs::path dir = fresh_dir("bad");
  const std::string missing = (dir / "missing.model").string();
  const std::string garbage = (dir / "garbage.model").string();
  write_file(garbage, "this is not a protobuf");
  for (const std::string& path : {missing, garbage}) {
    EXPECT_THAT(error_message(ErrorKind::kBadInput, [&] { SentencePieceTokenizer tok(path); }),
                HasSubstr(path));
  }
}

TEST(SentencePieceTokenizer, TooSmallVocabIsAUsageError) {
  const fs::path dir = fresh_dir("small");
  const std::vector<std::string_view> lines = {"abc", "def"};
  SentencePieceOptions o;
  o.vocab_size = 100;
  EXPECT_THAT(error_message(ErrorKind::kUsage,
                            [&] { train_sentencepiece(lines, o, (dir / "x.model").string()); }),
              HasSubstr("vocab size 100"));
  EXPECT_FALSE(fs::exists(dir / "x.model"));
}

}  // namespace
}  // namespace sy::trainer
