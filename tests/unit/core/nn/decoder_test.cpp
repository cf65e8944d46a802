// The decoder: export parameter names, seeded init, the loss composition, a whole-model gradient
// check and a few SGD steps that must lower the loss.
#include "core/nn/decoder.h"

#include <gtest/gtest.h>

#include <cmath>
#include <map>
#include <set>

#include "core/autograd/grad_mode.h"
#include "core/common/error.h"
#include "core/ops/elementwise.h"
#include "tests/unit/core/gradcheck/gradcheck.h"

namespace sy::core::nn {
namespace {

DecoderOptions tiny(int64_t layers = 2) {
  DecoderOptions o;
  o.vocab_size = 13, o.hidden_size = 8, o.num_layers = layers, o.num_heads = 2, o.num_kv_heads = 1;
  o.intermediate_size = 12, o.expert_intermediate_size = 6;
  o.router.num_experts = 4, o.router.top_k = 2;
  return o;
}

std::set<std::string> names(const Module& m) {
  std::set<std::string> out;
  for (const auto& p : m.named_parameters()) out.insert(p.name);
  return out;
}

TEST(Decoder, ParameterNamesAreTheMixtralExportNames) {
  DecoderOptions o = tiny();
  o.moe_first_layer = 1;  // layer 0 dense, layer 1 MoE
  Decoder model(o);
  std::set<std::string> want = {"model.embed_tokens.weight", "model.norm.weight", "lm_head.weight"};
  for (int l = 0; l < 2; ++l) {
    const std::string p = "model.layers." + std::to_string(l) + ".";
    for (const char* n :
         {"input_layernorm.weight", "post_attention_layernorm.weight", "self_attn.q_proj.weight",
          "self_attn.k_proj.weight", "self_attn.v_proj.weight", "self_attn.o_proj.weight"})
      want.insert(p + n);
  }
  for (const char* n : {"gate_proj", "up_proj", "down_proj"})
    want.insert(std::string("model.layers.0.mlp.") + n + ".weight");
  want.insert("model.layers.1.block_sparse_moe.gate.weight");
  for (int e = 0; e < 4; ++e)
    for (const char* w : {"w1", "w2", "w3"})
      want.insert("model.layers.1.block_sparse_moe.experts." + std::to_string(e) + "." + w +
                  ".weight");
  EXPECT_EQ(names(model), want);
  for (const auto& p : model.named_parameters()) {
    EXPECT_EQ(p.weight_decay, p.name.find("norm") == std::string::npos) << p.name;
  }
}

TEST(Decoder, ShapesFollowTheContract) {
  Decoder model(tiny());
  for (const auto& p : model.named_parameters()) {
    if (p.name == "model.layers.0.self_attn.q_proj.weight") {
      EXPECT_EQ(p.tensor.shape(), (Shape{8, 8}));
    }
    if (p.name == "model.layers.0.self_attn.k_proj.weight") {
      EXPECT_EQ(p.tensor.shape(), (Shape{4, 8}));
    }
    if (p.name == "model.layers.0.block_sparse_moe.gate.weight") {
      EXPECT_EQ(p.tensor.shape(), (Shape{4, 8}));
    }
    if (p.name == "model.layers.0.block_sparse_moe.experts.3.w2.weight") {
      EXPECT_EQ(p.tensor.shape(), (Shape{8, 6}));
    }
  }
}

TEST(Decoder, InitIsSeededAndScaled) {
  Decoder a(tiny()), b(tiny());
  Rng ra(5), rb(5);
  a.init(ra, 0.02f);
  b.init(rb, 0.02f);
  const auto pa = a.named_parameters(), pb = b.named_parameters();
  for (size_t i = 0; i < pa.size(); ++i)
    EXPECT_EQ(pa[i].tensor.to_vector(), pb[i].tensor.to_vector());
  for (const auto& p : pa) {
    if (p.name == "model.norm.weight") {
      EXPECT_EQ(p.tensor.to_vector(), std::vector<float>(8, 1.0f));
    }
  }
}

TEST(Decoder, LossIsCePlusWeightedRouterLossesAndStartsNearLogV) {
  Decoder model(tiny());
  Rng rng(1);
  model.init(rng, 0.02f);
  const Tensor ids = Tensor::from_ints({1, 2, 3, 4, 5, 6, 7, 8}, {2, 4});
  const Tensor targets = Tensor::from_ints({2, 3, 4, 5, 6, 7, 8, 9}, {2, 4});
  const DecoderLoss l = model.loss(ids, targets, nullptr, true);
  EXPECT_NEAR(l.ce.item(), std::log(13.0f), 0.05f);
  ASSERT_EQ(l.moe_stats.size(), 2u);
  const DecoderOptions o = model.options();
  EXPECT_NEAR(l.loss.item() - l.ce.item(), o.aux_loss_coef * l.aux + o.z_loss_coef * l.z, 1e-6f);
}

TEST(Decoder, WholeModelGradientCheck) {
  // K = E keeps routing smooth (no top-k choice can flip), so finite differences are valid.
  DecoderOptions o = tiny(1);
  o.router.num_experts = 2, o.router.top_k = 2;
  Decoder model(o);
  Rng rng(3);
  model.init(rng, 0.3f);
  Tensor emb;
  for (const auto& p : model.named_parameters())
    if (p.name == "model.embed_tokens.weight") emb = p.tensor;
  const Tensor ids = Tensor::from_ints({1, 5, 2, 7, 3, 3}, {2, 3});
  // The check perturbs the model's own embedding table in place, so the graph runs through it.
  testing::GradcheckSpec spec;
  spec.inputs = {emb};
  spec.fn = [&model, ids](const std::vector<Tensor>&) {
    return model.loss(ids, Tensor::from_ints({5, 2, 7, 3, 3, 1}, {2, 3}), nullptr, true).loss;
  };
  Rng check(9);
  const auto r = testing::run_gradcheck(spec, check);
  EXPECT_TRUE(r.ok) << r.worst;
}

TEST(Decoder, SgdStepsLowerTheLoss) {
  Decoder model(tiny());
  Rng rng(2);
  model.init(rng, 0.1f);
  const Tensor ids = Tensor::from_ints({1, 2, 3, 4, 5, 6, 7, 8}, {2, 4});
  const Tensor targets = Tensor::from_ints({2, 3, 4, 5, 6, 7, 8, 9}, {2, 4});
  float first = 0, last = 0;
  for (int step = 0; step < 40; ++step) {
    model.zero_grad();
    const DecoderLoss l = model.loss(ids, targets, nullptr, true);
    if (step == 0) first = l.ce.item();
    last = l.ce.item();
    l.loss.backward();
    NoGradGuard g;
    for (auto& p : model.named_parameters()) {
      if (p.tensor.grad().defined()) axpy_(p.tensor, -0.5f, p.tensor.grad());
    }
  }
  EXPECT_LT(last, 0.5f * first) << "first " << first << " last " << last;
}

}  // namespace
}  // namespace sy::core::nn

namespace sy::core::nn {
namespace {

TEST(Decoder, CachedDecodingMatchesTheFullForward) {
  DecoderOptions o = tiny(2);
  o.moe_first_layer = 1;
  Decoder model(o);
  Rng rng(4);
  model.init(rng, 0.2f);
  const std::vector<int32_t> seq = {3, 1, 4, 1, 5, 9, 2};
  const Tensor full = model.logits(Tensor::from_ints(seq, {1, 7}), nullptr, false, nullptr);
  const auto fv = full.to_vector();
  // A prompt of 3 tokens, then one token at a time.
  std::vector<KvCache> caches = model.make_caches(16);
  std::vector<Tensor> steps;
  steps.push_back(model.next_token_logits(Tensor::from_ints({3, 1, 4}, {1, 3}), caches));
  for (size_t i = 3; i < seq.size(); ++i) {
    steps.push_back(model.next_token_logits(Tensor::from_ints({seq[i]}, {1, 1}), caches));
  }
  ASSERT_EQ(caches[0].length, 7);
  for (size_t s = 0; s < steps.size(); ++s) {
    const int64_t pos = static_cast<int64_t>(s) + 2;  // logits of position 2, 3, ..., 6
    const auto sv = steps[s].to_vector();
    for (int64_t v = 0; v < o.vocab_size; ++v) {
      EXPECT_NEAR(sv[static_cast<size_t>(v)], fv[static_cast<size_t>(pos * o.vocab_size + v)], 1e-5)
          << "position " << pos << " token " << v;
    }
  }
  EXPECT_THROW(
      model.next_token_logits(Tensor::from_ints(std::vector<int32_t>(10, 1), {1, 10}), caches),
      sy::Error);  // 7 + 10 > capacity 16
}

TEST(Decoder, AShardIsInitialisedExactlyAsItsPartOfTheWholeModel) {
  DecoderOptions o = tiny();
  Decoder whole(o);
  o.expert_shard = {1, 2};
  Decoder shard(o);
  whole.init(Rng(9), 0.1f);
  shard.init(Rng(9), 0.1f);
  std::map<std::string, Tensor> by_name;
  for (const auto& p : whole.named_parameters()) by_name[p.name] = p.tensor;
  const auto ps = shard.named_parameters();
  EXPECT_EQ(ps.size() + 2 * 2 * 3, by_name.size());  // 2 layers x 2 missing experts x 3 tensors
  for (const auto& p : ps) {
    ASSERT_TRUE(by_name.count(p.name)) << p.name;
    EXPECT_EQ(p.tensor.to_vector(), by_name[p.name].to_vector()) << p.name;
  }
  // Different names draw different values.
  EXPECT_NE(by_name["model.layers.0.block_sparse_moe.experts.1.w1.weight"].to_vector(),
            by_name["model.layers.0.block_sparse_moe.experts.2.w1.weight"].to_vector());
}

}  // namespace
}  // namespace sy::core::nn
