// Loading a trained model for evaluation, generation and export: its configuration, weights and
// tokenizer, from a checkpoint (HDF5) or a Hugging Face export directory.
#pragma once

#include <memory>
#include <string>

#include "core/nn/decoder.h"
#include "trainer/config/config.h"
#include "trainer/data/tokenizer.h"

namespace sy::trainer {

struct LoadedModel {
  Config config;
  std::unique_ptr<core::nn::Decoder> model;
  std::string file;  // what the weights came from (a checkpoint.h5, or the export directory)
  int64_t step = 0;
  bool from_export = false;  // a Hugging Face export directory
};

// `path`: a run directory (its newest complete checkpoint), a checkpoint directory or file, or a
// Hugging Face export directory (a directory holding config.json; docs/EXPORT.md). Every checksum
// of a checkpoint is verified; every file of an export is validated (hf_import.h). Problems are
// kBadInput naming the file and the dataset, key or tensor; a path that does not exist is kUsage.
// For an export, config holds the model and moe sections of config.json, train.seq_len the
// sequence length it was trained with (when recorded) and data.tokenizer the export's tokenizer
// (its tokenizer.model, or "byte"; when it has none, the missing DIR/tokenizer.model, so
// load_tokenizer names it).
LoadedModel load_model(const std::string& path);

// The tokenizer a configuration trained with, as a spec for open_tokenizer(): "byte" or a
// SentencePiece model path. data.tokenizer when set; empty means the tokenizer.model beside
// data.train, or bytes when there is none.
std::string tokenizer_spec(const Config& config);

// open_tokenizer(tokenizer_spec(config)).
std::unique_ptr<Tokenizer> load_tokenizer(const Config& config);

}  // namespace sy::trainer
