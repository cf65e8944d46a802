// Loading a trained model for evaluation and generation: its configuration, weights and tokenizer.
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
  std::string file;  // what the weights came from
  int64_t step = 0;
};

// `path`: a run directory (its newest complete checkpoint), a checkpoint directory or file.
// Every checksum is verified; problems are kBadInput naming the file and dataset.
LoadedModel load_model(const std::string& path);

// The tokenizer a configuration trained with: data.tokenizer "byte" or a SentencePiece model
// path; empty means the tokenizer.model beside data.train, or bytes when there is none.
std::unique_ptr<Tokenizer> load_tokenizer(const Config& config);

}  // namespace sy::trainer
