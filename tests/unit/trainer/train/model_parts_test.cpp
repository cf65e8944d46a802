// Which parameters are expert shards, and which of them another rank holds.
#include "trainer/train/model_parts.h"

#include <gtest/gtest.h>

#include "core/nn/decoder.h"
#include "tests/unit/trainer/test_util.h"

namespace sy::trainer {
namespace {

TEST(ModelParts, ExpertIndexParsesOnlyExpertParameterNames) {
  EXPECT_EQ(expert_index("model.layers.3.block_sparse_moe.experts.12.w1.weight"), 12);
  EXPECT_EQ(expert_index("model.layers.0.block_sparse_moe.experts.0.w2.weight"), 0);
  EXPECT_EQ(expert_index("model.layers.0.block_sparse_moe.gate.weight"), -1);
  EXPECT_EQ(expert_index("model.layers.0.mlp.gate_proj.weight"), -1);
  EXPECT_EQ(expert_index("model.layers.0.block_sparse_moe.experts.x.w1.weight"), -1);
  EXPECT_EQ(expert_index("model.layers.0.block_sparse_moe.experts.7"), -1);
  EXPECT_TRUE(is_expert_parameter("model.layers.1.block_sparse_moe.experts.3.w3.weight"));
  EXPECT_FALSE(is_expert_parameter("lm_head.weight"));
}

TEST(ModelParts, HeldElsewhereIsEveryExpertOutsideTheShard) {
  const ParameterFilter other = experts_held_elsewhere({2, 2});
  ASSERT_TRUE(other);
  EXPECT_TRUE(other("model.layers.0.block_sparse_moe.experts.1.w1.weight"));
  EXPECT_FALSE(other("model.layers.0.block_sparse_moe.experts.2.w1.weight"));
  EXPECT_FALSE(other("model.layers.0.block_sparse_moe.experts.3.w1.weight"));
  EXPECT_TRUE(other("model.layers.0.block_sparse_moe.experts.4.w1.weight"));
  EXPECT_FALSE(other("model.layers.0.block_sparse_moe.gate.weight"));
  EXPECT_FALSE(experts_held_elsewhere({}));  // the default shard holds every expert
}

TEST(ModelParts, SplitSeparatesAShardedModelsExpertsFromItsReplicatedParameters) {
  core::nn::DecoderOptions o = testing::tiny_decoder(2);
  o.expert_shard = {1, 2};
  const core::nn::Decoder model(o);
  const ParameterSplit split = split_parameters(model.named_parameters());
  EXPECT_EQ(split.experts.size(), 2u * 2u * 3u);  // 2 layers x 2 experts x (w1, w2, w3)
  for (const auto& p : split.experts) {
    const int64_t e = expert_index(p.name);
    EXPECT_TRUE(e == 1 || e == 2) << p.name;
  }
  EXPECT_EQ(split.experts.size() + split.replicated.size(), model.named_parameters().size());
  for (const auto& p : split.replicated) EXPECT_FALSE(is_expert_parameter(p.name)) << p.name;
}

TEST(ModelParts, HeldElsewhereCoversOtherStagesButNoNameOutsideTheModel) {
  core::nn::DecoderOptions o = testing::tiny_decoder(4);  // 4 MoE layers, 4 experts
  o.first_layer = 1, o.last_layer = 3;                    // a middle stage
  o.expert_shard = {2, 2};
  const ParameterFilter other = parameters_held_elsewhere(o);
  ASSERT_TRUE(other);
  EXPECT_TRUE(other("model.embed_tokens.weight"));
  EXPECT_TRUE(other("model.norm.weight"));
  EXPECT_TRUE(other("lm_head.weight"));
  EXPECT_TRUE(other("model.layers.0.self_attn.q_proj.weight"));
  EXPECT_TRUE(other("model.layers.3.block_sparse_moe.experts.3.w1.weight"));
  EXPECT_TRUE(other("model.layers.1.block_sparse_moe.experts.0.w1.weight"));   // shard 0's
  EXPECT_FALSE(other("model.layers.1.block_sparse_moe.experts.2.w1.weight"));  // held here
  EXPECT_FALSE(other("model.layers.2.self_attn.q_proj.weight"));               // held here
  // Past the model: nobody holds these, so a checkpoint carrying them is rejected.
  EXPECT_FALSE(other("model.layers.4.self_attn.q_proj.weight"));
  EXPECT_FALSE(other("model.layers.0.block_sparse_moe.experts.4.w1.weight"));
  EXPECT_FALSE(other("model.something_else.weight"));
  // The whole model holds everything: no filter.
  EXPECT_FALSE(parameters_held_elsewhere(testing::tiny_decoder(4)));
}

}  // namespace
}  // namespace sy::trainer
