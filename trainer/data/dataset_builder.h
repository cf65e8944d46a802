// The `switchyard prep` pipeline: text files -> documents -> deterministic shuffle -> train/val
// split by document -> tokenizer (byte, or SentencePiece trained on the train split) -> token
// shards with an end-of-text token after every document, plus side files (docs/DATA.md):
//   OUT/train.bin  OUT/val.bin  OUT/tokenizer.model (sentencepiece)  OUT/documents.tsv
//   OUT/prep.json
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "trainer/data/corpus.h"

namespace sy::trainer {

struct PrepOptions {
  std::vector<std::string> inputs;  // text files; their language is "und"
  bool fortunes = false;            // add every discovered fortune file
  std::string fortunes_dir = kFortuneRoot;
  bool include_offensive = false;  // fortunes under off/ folders
  std::string out_dir;
  std::string tokenizer = "byte";  // byte | sentencepiece
  int64_t vocab_size = 0;          // 0: the tokenizer's default (260 byte, 4096 spm)
  double val_fraction = 0.01;
  uint64_t seed = 1234;
  bool verbose = false;  // SentencePiece's training log
};

struct SplitCounts {
  int64_t documents = 0;
  int64_t tokens = 0;  // including the end-of-text tokens
};

struct PrepResult {
  SplitCounts train, val;
  std::map<std::string, SplitCounts> languages;  // over both splits
  CorpusStats corpus;
  std::vector<std::string> files;
  std::string tokenizer;
  int64_t vocab_size = 0;
  int32_t eot_id = 0;
  uint64_t tokenizer_hash = 0;
  double read_seconds = 0, tokenizer_seconds = 0, encode_seconds = 0, total_seconds = 0;
};

// Runs the pipeline and writes the outputs. Throws kUsage for bad options, kBadInput for
// unreadable inputs.
PrepResult build_dataset(const PrepOptions& options);

// The document order prep uses: a Fisher-Yates shuffle of [0, n) driven by Philox under `seed`.
std::vector<int64_t> shuffled_order(int64_t n, uint64_t seed);

}  // namespace sy::trainer
