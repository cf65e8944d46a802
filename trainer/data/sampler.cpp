// BatchSampler and evaluation windows; the definitions are in sampler.h.
#include "trainer/data/sampler.h"

#include <array>

#include "core/common/error.h"
#include "core/tensor/rng.h"

namespace sy::trainer {

uint64_t mul_hi64(uint64_t a, uint64_t b) {
  const uint64_t a_lo = a & 0xffffffffu, a_hi = a >> 32, b_lo = b & 0xffffffffu, b_hi = b >> 32;
  const uint64_t lo_lo = a_lo * b_lo, hi_lo = a_hi * b_lo, lo_hi = a_lo * b_hi, hi_hi = a_hi * b_hi;
  const uint64_t cross = (lo_lo >> 32) + (hi_lo & 0xffffffffu) + lo_hi;
  return hi_hi + (hi_lo >> 32) + (cross >> 32);
}

BatchSampler::BatchSampler(const TokenShard& shard, int64_t seq_len, uint64_t seed)
    : shard_(shard), seq_len_(seq_len), seed_(seed) {
  SY_REQUIRE(ErrorKind::kUsage, seq_len > 0, "sequence length must be positive, got ", seq_len);
  SY_REQUIRE(ErrorKind::kBadInput, shard.size() >= seq_len + 1, "token shard ", shard.path(),
             ": holds ", shard.size(), " tokens, fewer than seq_len + 1 = ", seq_len + 1,
             " needed for one training sequence");
}

int64_t BatchSampler::offset(int64_t step, int64_t index) const {
  const auto s = static_cast<uint64_t>(step);
  const auto g = static_cast<uint64_t>(index);
  const std::array<uint32_t, 4> counter = {static_cast<uint32_t>(s), static_cast<uint32_t>(s >> 32),
                                           static_cast<uint32_t>(g),
                                           static_cast<uint32_t>(g >> 32)};
  const auto w = core::Rng::philox(counter, seed_);
  const uint64_t u = static_cast<uint64_t>(w[0]) | (static_cast<uint64_t>(w[1]) << 32);
  const auto range = static_cast<uint64_t>(shard_.size() - seq_len_);  // starts 0 .. size-T-1
  return static_cast<int64_t>(mul_hi64(u, range));
}

void BatchSampler::sample(int64_t step, int64_t micro_batch, int64_t micro_batch_size,
                          int32_t* inputs, int32_t* targets) const {
  SY_CHECK(step >= 0 && micro_batch >= 0 && micro_batch_size > 0, "BatchSampler::sample: step ",
           step, ", micro_batch ", micro_batch, ", micro_batch_size ", micro_batch_size);
  for (int64_t b = 0; b < micro_batch_size; ++b) {
    const int64_t off = offset(step, micro_batch * micro_batch_size + b);
    shard_.copy_to(off, seq_len_, inputs + b * seq_len_);
    shard_.copy_to(off + 1, seq_len_, targets + b * seq_len_);
  }
}

int64_t num_windows(const TokenShard& shard, int64_t seq_len) {
  SY_REQUIRE(ErrorKind::kUsage, seq_len > 0, "sequence length must be positive, got ", seq_len);
  return shard.size() > 0 ? (shard.size() - 1) / seq_len : 0;
}

void eval_windows(const TokenShard& shard, int64_t seq_len, int64_t first, int64_t count,
                  int32_t* inputs, int32_t* targets) {
  const int64_t available = num_windows(shard, seq_len);
  SY_REQUIRE(ErrorKind::kBadInput, first >= 0 && count >= 0 && first + count <= available,
             "token shard ", shard.path(), ": evaluation windows [", first, ", ", first + count,
             ") of length ", seq_len, " requested, the file holds ", available, " (", shard.size(),
             " tokens)");
  for (int64_t w = 0; w < count; ++w) {
    const int64_t off = (first + w) * seq_len;
    shard.copy_to(off, seq_len, inputs + w * seq_len);
    shard.copy_to(off + 1, seq_len, targets + w * seq_len);
  }
}

}  // namespace sy::trainer
