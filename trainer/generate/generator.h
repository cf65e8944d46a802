// Text generation with a trained decoder: encode the prompt, run it through the KV cache once,
// then sample one token at a time (each new token costs one position), stopping at end-of-text.
#pragma once

#include <string>

#include "core/nn/decoder.h"
#include "trainer/data/tokenizer.h"
#include "trainer/generate/sampling.h"

namespace sy::trainer {

struct GenerateOptions {
  int64_t max_new_tokens = 200;
  uint64_t seed = 1;
  SamplingOptions sampling;
};

struct GenerateResult {
  std::string text;        // the decoded new tokens (the prompt excluded)
  int64_t new_tokens = 0;  // sampled, end-of-text included
  double tokens_per_s = 0;
};

// An empty prompt starts from the end-of-text token (the start of a document).
GenerateResult generate(const core::nn::Decoder& model, const Tokenizer& tokenizer,
                        const std::string& prompt, const GenerateOptions& options);

}  // namespace sy::trainer
