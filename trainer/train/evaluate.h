// Mean cross-entropy over consecutive evaluation windows of a token shard.
#pragma once

#include <cstdint>

#include "core/nn/decoder.h"
#include "parallel/comm/communicator.h"
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
// The same over a pipeline: collective over `pp` (rank = stage; prev/next the neighbours, -1 at
// either end), every stage calling it with the same arguments and its own stage of the model.
// Activations travel forward batch by batch; the last stage's result is returned on every stage.
EvalResult evaluate(const core::nn::Decoder& model, const TokenShard& shard, int64_t seq_len,
                    int64_t max_windows, int64_t batch_size, parallel::Communicator& pp, int prev,
                    int next);

}  // namespace sy::trainer
