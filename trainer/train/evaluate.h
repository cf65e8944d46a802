// Mean cross-entropy over consecutive evaluation windows of a token shard.
#pragma once

#include <cstdint>

#include "core/nn/decoder.h"
#include "trainer/data/token_shard.h"

namespace sy::trainer {

struct EvalResult {
  double mean_ce = 0;  // mean over windows (each window's mean over its T positions)
  int64_t windows = 0;
  int64_t seq_len = 0;
  int64_t tokens = 0;  // windows * seq_len predicted tokens
};

// Windows [0, max_windows) (all of them when max_windows <= 0), batch_size windows per forward,
// no gradients, routers in evaluation mode (no noise).
EvalResult evaluate(const core::nn::Decoder& model, const TokenShard& shard, int64_t seq_len,
                    int64_t max_windows, int64_t batch_size);

}  // namespace sy::trainer
