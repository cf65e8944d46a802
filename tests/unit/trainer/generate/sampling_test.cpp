// Token sampling: greedy, top-k, top-p, seeded reproducibility and frequencies; generation.
#include "trainer/generate/sampling.h"

#include <gtest/gtest.h>

#include <cmath>

#include "trainer/generate/generator.h"

namespace sy::trainer {
namespace {

const std::vector<float> kLogits = {1.0f, 3.0f, 2.0f, 3.0f, -1.0f};

TEST(Sampling, GreedyModes) {
  core::Rng rng(1);
  EXPECT_EQ(sample_token(kLogits, {0.0, 0, 1.0}, rng), 1);  // ties to the lower id
  EXPECT_EQ(sample_token(kLogits, {1.0, 1, 1.0}, rng), 1);
  EXPECT_EQ(sample_token(kLogits, {1.0, 0, 1e-6}, rng), 1);  // the nucleus is one token
}

TEST(Sampling, TopKRestrictsTheSupport) {
  core::Rng rng(2);
  for (int i = 0; i < 200; ++i) {
    const int32_t t = sample_token(kLogits, {5.0, 3, 1.0}, rng);
    EXPECT_TRUE(t == 1 || t == 3 || t == 2) << t;
  }
}

TEST(Sampling, FrequenciesFollowTheSoftmax) {
  const std::vector<float> logits = {0.0f, std::log(3.0f)};  // p = 0.25, 0.75
  core::Rng rng(3);
  int ones = 0;
  const int n = 20000;
  for (int i = 0; i < n; ++i) ones += sample_token(logits, {1.0, 0, 1.0}, rng) == 1;
  EXPECT_NEAR(ones / static_cast<double>(n), 0.75, 0.015);
}

TEST(Sampling, SameSeedSameTokens) {
  core::Rng a(9), b(9);
  for (int i = 0; i < 50; ++i) {
    EXPECT_EQ(sample_token(kLogits, {1.0, 0, 0.9}, a), sample_token(kLogits, {1.0, 0, 0.9}, b));
  }
}

TEST(Generate, ProducesDecodableTextAndRespectsTheLimit) {
  core::nn::DecoderOptions o;
  o.vocab_size = ByteTokenizer::kVocabSize, o.hidden_size = 16, o.num_layers = 1, o.num_heads = 2;
  o.num_kv_heads = 1, o.intermediate_size = 16, o.expert_intermediate_size = 8;
  o.router.num_experts = 2, o.router.top_k = 1;
  core::nn::Decoder model(o);
  core::Rng rng(1);
  model.init(rng, 0.02f);
  ByteTokenizer tok;
  GenerateOptions g;
  g.max_new_tokens = 12, g.seed = 5;
  const GenerateResult a = generate(model, tok, "Hallo ", g);
  const GenerateResult b = generate(model, tok, "Hallo ", g);
  EXPECT_LE(a.new_tokens, 12);
  EXPECT_GE(a.new_tokens, 1);
  EXPECT_EQ(a.text, b.text);  // seeded
}

}  // namespace
}  // namespace sy::trainer
