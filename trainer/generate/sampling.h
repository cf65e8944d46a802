// Choosing the next token from logits: temperature, top-k and nucleus (top-p) sampling, seeded.
#pragma once

#include <cstdint>
#include <vector>

#include "core/tensor/rng.h"

namespace sy::trainer {

struct SamplingOptions {
  double temperature = 0.8;  // 0: greedy (argmax)
  int64_t top_k = 0;         // keep the k most likely tokens; 0: all
  double top_p = 0.95;       // keep the smallest set whose probability reaches top_p; 1: all
};

// logits (V) -> a token id. Ties in greedy mode go to the lower id. Uses one uniform draw of rng.
int32_t sample_token(const std::vector<float>& logits, const SamplingOptions& options,
                     core::Rng& rng);

}  // namespace sy::trainer
