// Training batches and evaluation windows over one token shard.
//
// BatchSampler: sequence b of micro-batch m of step s is the global sequence
//   g = m * micro_batch_size + b
// of step s, and starts at
//   w = Rng::philox({s_lo, s_hi, g_lo, g_hi}, key = seed);  u = w[0] | w[1] << 32
//   offset = (u * R) >> 64   (128-bit product),  R = size - T   (so offset is in [0, size-T-1])
// inputs = tokens[offset, offset + T), targets = tokens[offset + 1, offset + T + 1).
// The sequence depends only on (data, seed, step, global sequence index), never on the parallel
// layout: dp/ep/pp change which rank samples a micro-batch, not what the micro-batch holds, and
// micro-batch m of size 2B holds exactly micro-batches 2m and 2m+1 of size B.
//
// Evaluation windows are consecutive: window w holds tokens [w*T, w*T + T] (inputs the first T,
// targets shifted by one), num_windows(T) = (size - 1) / T.
#pragma once

#include <cstdint>

#include "trainer/data/token_shard.h"

namespace sy::trainer {

class BatchSampler {
 public:
  // Keeps a reference to `shard`, which must outlive the sampler. Throws kBadInput naming the
  // file when the shard holds fewer than seq_len + 1 tokens.
  BatchSampler(const TokenShard& shard, int64_t seq_len, uint64_t seed);

  int64_t seq_len() const { return seq_len_; }
  uint64_t seed() const { return seed_; }

  // The start offset of global sequence `index` of `step`.
  int64_t offset(int64_t step, int64_t index) const;

  // Fills inputs and targets, each (micro_batch_size, seq_len) row-major.
  void sample(int64_t step, int64_t micro_batch, int64_t micro_batch_size, int32_t* inputs,
              int32_t* targets) const;

 private:
  const TokenShard& shard_;
  int64_t seq_len_;
  uint64_t seed_;
};

// The high 64 bits of the 128-bit product a * b: maps 64 random bits u to [0, n) as
// mul_hi64(u, n) (portable; no __int128 under -Wpedantic).
uint64_t mul_hi64(uint64_t a, uint64_t b);

// Number of complete evaluation windows of length seq_len (0 when the shard is too short).
int64_t num_windows(const TokenShard& shard, int64_t seq_len);

// Fills inputs and targets, each (count, seq_len), with windows [first, first + count).
// Throws kBadInput naming the file when a window lies beyond the shard.
void eval_windows(const TokenShard& shard, int64_t seq_len, int64_t first, int64_t count,
                  int32_t* inputs, int32_t* targets);

}  // namespace sy::trainer
