// Tests of `switchyard prep` (run_prep_command and build_dataset): outputs, the documents.tsv
// side file against the shards, determinism by seed, and option and input errors.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "core/common/error.h"
#include "tests/unit/trainer/test_util.h"
#include "trainer/cli/prep_command.h"
#include "trainer/data/dataset_builder.h"
#include "trainer/data/token_shard.h"
#include "trainer/data/tokenizer.h"

namespace sy::trainer {
namespace {

using ::testing::HasSubstr;
namespace fs = std::filesystem;
using testing::fresh_dir;
using testing::read_file;

int run(std::vector<std::string> args) {
  args.insert(args.begin(), "prep");
  std::vector<char*> argv;
  for (std::string& a : args) argv.push_back(a.data());
  return run_prep_command(static_cast<int>(argv.size()), argv.data());
}

// Two fortune files (20 + 10 documents) and one plain file.
std::vector<std::string> write_inputs(const fs::path& dir) {
  std::ofstream a(dir / "a"), b(dir / "b");
  for (int i = 0; i < 20; ++i)
    a << "Fortune A" << i << ": Größe " << std::string(i, 'x') << "\n%\n";
  for (int i = 0; i < 10; ++i) b << "Фортуна B" << i << "\n\t-- кто-то\n%\n";
  std::ofstream(dir / "c") << "A plain document.\n";
  return {(dir / "a").string(), (dir / "b").string(), (dir / "c").string()};
}

ErrorKind error_kind(const std::vector<std::string>& args, std::string* message = nullptr) {
  try {
    run(args);
  } catch (const Error& e) {
    if (message) *message = e.what();
    return e.kind();
  }
  return static_cast<ErrorKind>(0);
}

TEST(PrepCommand, WritesShardsAndSideFilesThatAgree) {
  const fs::path dir = fresh_dir("ok");
  const auto inputs = write_inputs(dir);
  const fs::path out = dir / "out";
  ASSERT_EQ(run({"--input", inputs[0], inputs[1], inputs[2], "--out", out.string(),
                 "--val-fraction", "0.1", "--seed", "7"}),
            0);
  const TokenShard train = TokenShard::load((out / "train.bin").string());
  const TokenShard val = TokenShard::load((out / "val.bin").string());
  EXPECT_EQ(train.meta().vocab_size, 260);
  EXPECT_EQ(train.meta().eot_id, 256);
  EXPECT_EQ(train.token_bytes(), 2);
  EXPECT_FALSE(fs::exists(out / "tokenizer.model"));

  // documents.tsv: every row's tokens decode to a document and are followed by the eot token.
  std::istringstream tsv(read_file(out / "documents.tsv"));
  std::string line;
  std::getline(tsv, line);
  EXPECT_EQ(line, "split\tindex\tlanguage\toffset\ttokens\tsource");
  const ByteTokenizer tok;
  int rows[2] = {0, 0};
  int64_t next_offset[2] = {0, 0};
  std::set<std::string> docs;
  while (std::getline(tsv, line)) {
    std::istringstream row(line);
    std::string split, language, source;
    int64_t index, offset, tokens;
    row >> split >> index >> language >> offset >> tokens >> source;
    const int s = split == "val" ? 1 : 0;
    const TokenShard& shard = s ? val : train;
    EXPECT_EQ(index, rows[s]++);
    EXPECT_EQ(language, "und");
    EXPECT_EQ(offset, next_offset[s]);
    next_offset[s] = offset + tokens + 1;
    std::vector<int32_t> ids(static_cast<size_t>(tokens));
    shard.copy_to(offset, tokens, ids.data());
    docs.insert(tok.decode(ids));
    EXPECT_EQ(shard[offset + tokens], 256u);
  }
  EXPECT_EQ(rows[0], 28);
  EXPECT_EQ(rows[1], 3);  // round(31 * 0.1)
  EXPECT_EQ(next_offset[0], train.size());
  EXPECT_EQ(next_offset[1], val.size());
  EXPECT_EQ(docs.size(), 31u);
  EXPECT_TRUE(docs.count("Фортуна B3\n\t-- кто-то"));
  EXPECT_TRUE(docs.count("A plain document."));

  const std::string json = read_file(out / "prep.json");
  EXPECT_THAT(json, HasSubstr("\"tokenizer\": \"byte\""));
  EXPECT_THAT(json, HasSubstr("\"documents\": {\"train\": 28, \"val\": 3}"));
  EXPECT_THAT(json, HasSubstr("\"seed\": 7"));
  EXPECT_THAT(json, HasSubstr("\"invalid_utf8\": 0"));
}

TEST(PrepCommand, SameSeedSameShardsOtherSeedOtherOrder) {
  const fs::path dir = fresh_dir("seed");
  const auto inputs = write_inputs(dir);
  for (const char* name : {"s1", "s1b", "s2"}) {
    const std::string seed = std::string(name) == "s2" ? "2" : "1";
    ASSERT_EQ(
        run({"--input", inputs[0], inputs[1], "--out", (dir / name).string(), "--seed", seed}), 0);
  }
  EXPECT_EQ(read_file(dir / "s1" / "train.bin"), read_file(dir / "s1b" / "train.bin"));
  EXPECT_EQ(read_file(dir / "s1" / "documents.tsv"), read_file(dir / "s1b" / "documents.tsv"));
  EXPECT_NE(read_file(dir / "s1" / "train.bin"), read_file(dir / "s2" / "train.bin"));
}

TEST(PrepCommand, ShuffledOrderIsAPermutation) {
  const std::vector<int64_t> order = shuffled_order(1000, 3);
  std::vector<int64_t> sorted = order;
  std::sort(sorted.begin(), sorted.end());
  for (int64_t i = 0; i < 1000; ++i) ASSERT_EQ(sorted[static_cast<size_t>(i)], i);
  EXPECT_NE(order, sorted);
  EXPECT_EQ(order, shuffled_order(1000, 3));
  EXPECT_NE(order, shuffled_order(1000, 4));
}

TEST(PrepCommand, HelpAndUsageErrors) {
  EXPECT_EQ(run({"--help"}), 0);
  const fs::path dir = fresh_dir("usage");
  const auto inputs = write_inputs(dir);
  const std::string out = (dir / "out").string();
  std::string msg;
  EXPECT_EQ(error_kind({"--input", inputs[0], "--out", out, "--bogus"}, &msg), ErrorKind::kUsage);
  EXPECT_THAT(msg, HasSubstr("unknown option '--bogus'"));
  EXPECT_EQ(error_kind({"--input", inputs[0]}, &msg), ErrorKind::kUsage);
  EXPECT_THAT(msg, HasSubstr("--out"));
  EXPECT_EQ(error_kind({"--out", out}), ErrorKind::kUsage);
  EXPECT_EQ(error_kind({"--input", inputs[0], "--out", out, "--seed", "x1"}, &msg),
            ErrorKind::kUsage);
  EXPECT_THAT(msg, HasSubstr("--seed"));
  EXPECT_EQ(error_kind({"--input", inputs[0], "--out", out, "--val-fraction", "1.5"}),
            ErrorKind::kUsage);
  EXPECT_EQ(error_kind({"--input", inputs[0], "--out", out, "--tokenizer", "wordpiece"}),
            ErrorKind::kUsage);
  EXPECT_EQ(error_kind({"--input", inputs[0], "--out", out, "--vocab-size", "4096"}, &msg),
            ErrorKind::kUsage);
  EXPECT_THAT(msg, HasSubstr("byte tokenizer"));
  EXPECT_EQ(error_kind({"--input", inputs[2], "--out", out}, &msg), ErrorKind::kUsage)
      << "one document cannot be split into train and val";
  EXPECT_EQ(run({"--input", inputs[2], "--out", out, "--val-fraction=0"}), 0);
  EXPECT_EQ(TokenShard::load(out + "/val.bin").size(), 0);
}

TEST(PrepCommand, UnreadableInputIsBadInput) {
  const fs::path dir = fresh_dir("bad");
  const std::string missing = (dir / "nonexistent.txt").string();
  std::string msg;
  EXPECT_EQ(error_kind({"--input", missing, "--out", (dir / "out").string()}, &msg),
            ErrorKind::kBadInput);
  EXPECT_THAT(msg, HasSubstr(missing));
  EXPECT_EQ(error_kind({"--fortunes-dir", (dir / "none").string(), "--out", (dir / "out").string()},
                       &msg),
            ErrorKind::kBadInput);
  EXPECT_THAT(msg, HasSubstr("no fortune files"));
}

TEST(PrepCommand, SentencePieceTokenizerOutputs) {
  const fs::path dir = fresh_dir("spm");
  const auto inputs = write_inputs(dir);
  const fs::path out = dir / "out";
  ASSERT_EQ(run({"--input", inputs[0], inputs[1], inputs[2], "--out", out.string(), "--tokenizer",
                 "sentencepiece", "--vocab-size", "330", "--seed", "3"}),
            0);
  const SentencePieceTokenizer tok((out / "tokenizer.model").string());
  const TokenShard train = TokenShard::load((out / "train.bin").string());
  EXPECT_EQ(train.meta().vocab_size, 330);
  EXPECT_EQ(train.meta().eot_id, tok.eot_id());
  EXPECT_EQ(train.meta().tokenizer_hash, tok.hash());
  // The shard decodes back to the documents, eot tokens decoding to nothing.
  std::vector<int32_t> ids(static_cast<size_t>(train.size()));
  train.copy_to(0, train.size(), ids.data());
  EXPECT_THAT(tok.decode(ids), HasSubstr("Фортуна B"));
}

}  // namespace
}  // namespace sy::trainer
