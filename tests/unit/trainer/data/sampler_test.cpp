// Tests of BatchSampler (determinism, layout independence, offsets in range, shifted targets)
// and of the evaluation windows.
#include "trainer/data/sampler.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <set>
#include <string>
#include <vector>

#include "core/common/error.h"
#include "tests/unit/trainer/test_util.h"

namespace sy::trainer {
namespace {

using ::testing::HasSubstr;
namespace fs = std::filesystem;

// A shard whose token at position i is i (uint32 width), so a row tells its offset.
std::string identity_shard(const std::string& name, uint32_t count) {
  const fs::path dir = testing::fresh_dir(name);
  std::vector<uint32_t> tokens(count);
  for (uint32_t i = 0; i < count; ++i) tokens[i] = i;
  const std::string path = (dir / "ids.bin").string();
  write_token_shard(path, tokens, ShardMeta{1 << 20, 0, 0});
  return path;
}

struct Batch {
  std::vector<int32_t> inputs, targets;
  bool operator==(const Batch& o) const { return inputs == o.inputs && targets == o.targets; }
};

Batch draw(const BatchSampler& s, int64_t step, int64_t m, int64_t b) {
  Batch out{std::vector<int32_t>(static_cast<size_t>(b * s.seq_len())),
            std::vector<int32_t>(static_cast<size_t>(b * s.seq_len()))};
  s.sample(step, m, b, out.inputs.data(), out.targets.data());
  return out;
}

class BatchSamplerTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    shard_ = new TokenShard(TokenShard::load(identity_shard("main", 5000)));
  }
  static void TearDownTestSuite() { delete shard_; }
  static TokenShard* shard_;
};
TokenShard* BatchSamplerTest::shard_ = nullptr;

TEST_F(BatchSamplerTest, SameArgumentsSameSequence) {
  const BatchSampler a(*shard_, 16, 42), b(*shard_, 16, 42);
  EXPECT_EQ(draw(a, 3, 1, 4), draw(b, 3, 1, 4));
  EXPECT_EQ(draw(a, 3, 1, 4), draw(a, 3, 1, 4));
}

TEST_F(BatchSamplerTest, StepMicroBatchAndSeedChangeTheSequence) {
  const BatchSampler a(*shard_, 16, 42), b(*shard_, 16, 43);
  EXPECT_NE(draw(a, 3, 1, 4), draw(a, 4, 1, 4));
  EXPECT_NE(draw(a, 3, 1, 4), draw(a, 3, 2, 4));
  EXPECT_NE(draw(a, 3, 1, 4), draw(b, 3, 1, 4));
}

TEST_F(BatchSamplerTest, RowsAreContiguousAndTargetsShiftedByOne) {
  const BatchSampler s(*shard_, 16, 7);
  const Batch batch = draw(s, 0, 0, 8);
  for (int64_t b = 0; b < 8; ++b) {
    const int32_t off = batch.inputs[static_cast<size_t>(b * 16)];
    EXPECT_EQ(off, s.offset(0, b));
    for (int64_t t = 0; t < 16; ++t) {
      EXPECT_EQ(batch.inputs[static_cast<size_t>(b * 16 + t)], off + t);
      EXPECT_EQ(batch.targets[static_cast<size_t>(b * 16 + t)], off + t + 1);
    }
  }
}

TEST_F(BatchSamplerTest, IndependentOfTheMicroBatchLayout) {
  // The global sequence index is m * micro_batch_size + b: micro-batch m of size 4 holds
  // micro-batches 2m and 2m+1 of size 2, and 4m .. 4m+3 of size 1.
  const BatchSampler s(*shard_, 8, 99);
  for (int64_t step : {0, 5, 1000}) {
    for (int64_t m : {0, 1, 3}) {
      const Batch big = draw(s, step, m, 4);
      Batch halves = draw(s, step, 2 * m, 2);
      const Batch second = draw(s, step, 2 * m + 1, 2);
      halves.inputs.insert(halves.inputs.end(), second.inputs.begin(), second.inputs.end());
      halves.targets.insert(halves.targets.end(), second.targets.begin(), second.targets.end());
      EXPECT_EQ(big, halves) << "step " << step << " micro-batch " << m;
      for (int64_t k = 0; k < 4; ++k) {
        const Batch one = draw(s, step, 4 * m + k, 1);
        EXPECT_EQ(one.inputs[0], big.inputs[static_cast<size_t>(k * 8)]);
      }
    }
  }
}

TEST_F(BatchSamplerTest, OffsetsStayInRangeAndCoverIt) {
  const BatchSampler s(*shard_, 64, 1);
  int64_t lo = 1 << 30, hi = -1;
  for (int64_t step = 0; step < 200; ++step) {
    for (int64_t g = 0; g < 32; ++g) {
      const int64_t off = s.offset(step, g);
      ASSERT_GE(off, 0);
      ASSERT_LE(off, 5000 - 64 - 1);
      lo = std::min(lo, off);
      hi = std::max(hi, off);
    }
  }
  EXPECT_LT(lo, 50);  // 6400 draws over 4936 starts reach both ends
  EXPECT_GT(hi, 5000 - 64 - 1 - 50);
}

TEST(BatchSampler, SmallestShardsUseEveryStart) {
  const TokenShard exact = TokenShard::load(identity_shard("exact", 9));
  const BatchSampler one(exact, 8, 3);  // 9 tokens: one start only
  for (int64_t g = 0; g < 20; ++g) EXPECT_EQ(one.offset(0, g), 0);
  const TokenShard two = TokenShard::load(identity_shard("two", 10));
  const BatchSampler s(two, 8, 3);
  std::set<int64_t> seen;
  for (int64_t g = 0; g < 64; ++g) seen.insert(s.offset(1, g));
  EXPECT_EQ(seen, (std::set<int64_t>{0, 1}));
}

TEST(BatchSampler, ShardShorterThanOneSequenceIsBadInput) {
  const std::string path = identity_shard("short", 8);
  const TokenShard shard = TokenShard::load(path);
  const std::string msg =
      testing::error_message(ErrorKind::kBadInput, [&] { BatchSampler s(shard, 8, 0); });
  EXPECT_THAT(msg, HasSubstr(path));
  EXPECT_THAT(msg, HasSubstr("seq_len + 1 = 9"));
}

TEST(BatchSampler, MulHi64MatchesWideMultiply) {
  __extension__ using u128 = unsigned __int128;
  const uint64_t values[] = {0,
                             1,
                             2,
                             0xffffffffull,
                             0x100000000ull,
                             0xdeadbeefcafef00dull,
                             0xffffffffffffffffull,
                             4936,
                             0x8000000000000000ull};
  for (const uint64_t a : values) {
    for (const uint64_t b : values) {
      EXPECT_EQ(mul_hi64(a, b), static_cast<uint64_t>((static_cast<u128>(a) * b) >> 64));
    }
  }
}

TEST(BatchSampler, EvalWindowsAreConsecutive) {
  const TokenShard shard = TokenShard::load(identity_shard("eval", 100));
  EXPECT_EQ(num_windows(shard, 10), 9);  // window 9 would need token 100
  EXPECT_EQ(num_windows(shard, 99), 1);
  EXPECT_EQ(num_windows(shard, 100), 0);
  std::vector<int32_t> in(2 * 10), tg(2 * 10);
  eval_windows(shard, 10, 7, 2, in.data(), tg.data());
  for (int w = 0; w < 2; ++w) {
    for (int t = 0; t < 10; ++t) {
      EXPECT_EQ(in[static_cast<size_t>(w * 10 + t)], (7 + w) * 10 + t);
      EXPECT_EQ(tg[static_cast<size_t>(w * 10 + t)], (7 + w) * 10 + t + 1);
    }
  }
  EXPECT_THAT(testing::error_message(ErrorKind::kBadInput,
                                     [&] { eval_windows(shard, 10, 8, 2, in.data(), tg.data()); }),
              HasSubstr(shard.path()));
}

}  // namespace
}  // namespace sy::trainer
