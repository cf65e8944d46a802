// Expert parallelism over the world of this run (1, 2 or 4 ranks):
//  - all_to_all_rows moves exactly the rows it should, and its gradient is the reverse exchange
//    (the op's gradient check: the op is linear, so the check is exact, row by row);
//  - dispatch then combine with identity experts gives x * sum of the kept weights, in value and
//    gradient, for random and degenerate routings (one expert, one rank, empty ranks);
//  - a sharded decoder trained over (dp, ep) gives every gradient of the 1-rank model after the
//    first step, and a rank whose experts get no token finishes with finite gradients.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <string>
#include <vector>

#include "core/autograd/grad_mode.h"
#include "core/common/error.h"
#include "core/nn/decoder.h"
#include "core/ops/elementwise.h"
#include "core/ops/index_ops.h"
#include "core/ops/reduce.h"
#include "core/ops/view_ops.h"
#include "parallel/data/gradient_reducer.h"
#include "parallel/expert/all_to_all_op.h"
#include "parallel/expert/token_dispatcher.h"
#include "parallel/grid/process_grid.h"
#include "tests/dist/dist_world.h"
#include "tests/dist/gradient_match.h"

namespace sy::parallel {
namespace {

using core::Tensor;
using testing::dist_world;

// Rows that rank s sends to rank q: 0, 1 or 2, so some pairs exchange nothing.
int64_t rows_between(int s, int q) { return (s + 2 * q) % 3; }
// Element (row j of the block from s to q, column c) of the data and of the upstream gradient.
float value(int s, int q, int64_t j, int64_t c) { return 1000.0f * s + 100.0f * q + 10.0f * j + c; }
float upstream(int s, int q, int64_t j, int64_t c) { return -(value(s, q, j, c) + 0.5f); }

TEST(AllToAllRows, MovesRowsAndItsGradientIsTheReverseExchange) {
  Communicator& w = dist_world();
  const int p = w.size(), me = w.rank();
  const int64_t d = 3;
  std::vector<int64_t> send(p), recv(p);
  std::vector<float> xv, gv;
  for (int q = 0; q < p; ++q) {
    send[q] = rows_between(me, q);
    recv[q] = rows_between(q, me);
    for (int64_t j = 0; j < send[q]; ++j)
      for (int64_t c = 0; c < d; ++c) xv.push_back(value(me, q, j, c));
    for (int64_t j = 0; j < recv[q]; ++j)
      for (int64_t c = 0; c < d; ++c) gv.push_back(upstream(q, me, j, c));
  }
  const int64_t rows_out = static_cast<int64_t>(gv.size()) / d;
  Tensor x = Tensor::from_vector(xv, {static_cast<int64_t>(xv.size()) / d, d});
  x.set_requires_grad(true);
  auto traffic = std::make_shared<ExchangeTraffic>();
  const Tensor y = all_to_all_rows(x, send, recv, w, traffic);
  ASSERT_EQ(y.shape(), (core::Shape{rows_out, d}));
  // Block from s, row j: what s sent to this rank.
  std::vector<float> want;
  for (int s = 0; s < p; ++s)
    for (int64_t j = 0; j < recv[s]; ++j)
      for (int64_t c = 0; c < d; ++c) want.push_back(value(s, me, j, c));
  EXPECT_EQ(y.to_vector(), want);

  // d sum(y * G) / dx: each row of x gets the upstream gradient of the row it became.
  core::sum(core::mul(y, Tensor::from_vector(gv, {rows_out, d}))).backward();
  ASSERT_TRUE(x.grad().defined());
  std::vector<float> want_grad;
  for (int q = 0; q < p; ++q)
    for (int64_t j = 0; j < send[q]; ++j)
      for (int64_t c = 0; c < d; ++c) want_grad.push_back(upstream(me, q, j, c));
  EXPECT_EQ(x.grad().to_vector(), want_grad);
  EXPECT_EQ(traffic->calls, 2);  // forward and backward
  int64_t sent_elsewhere = 0;
  for (int q = 0; q < p; ++q) sent_elsewhere += q == me ? 0 : send[q] + recv[q];
  EXPECT_EQ(traffic->bytes_sent, sent_elsewhere * d * 4);
}

// The MoE layer's data path with identity experts: route (expert[n*K+k], weight[n*K+k]), group
// by expert, dispatch, identity, combine, weight, scatter back. y = x * sum_k w_k.
struct IdentityMoe {
  Tensor y;
};

IdentityMoe identity_moe(const Tensor& x, const Tensor& weights, const std::vector<int>& expert,
                         int64_t num_experts, TokenDispatcher& dispatcher) {
  const int64_t n = x.dim(0), k = weights.dim(1);
  std::vector<int64_t> counts(num_experts, 0);
  for (int e : expert) ++counts[e];
  std::vector<int32_t> tokens, slots;
  for (int64_t e = 0; e < num_experts; ++e)
    for (int64_t a = 0; a < n * k; ++a)
      if (expert[a] == e) tokens.push_back(static_cast<int32_t>(a / k)), slots.push_back(a);
  const int64_t m = static_cast<int64_t>(tokens.size());
  const Tensor idx = Tensor::from_ints(tokens, {m});
  std::vector<int64_t> local_counts;
  const Tensor xr = dispatcher.dispatch(core::index_select(x, idx), counts, &local_counts);
  int64_t local_rows = 0;
  for (int64_t c : local_counts) local_rows += c;
  EXPECT_EQ(local_rows, xr.dim(0));
  const Tensor ys = dispatcher.combine(xr);
  const Tensor w =
      core::index_select(core::reshape(weights, {n * k, 1}), Tensor::from_ints(slots, {m}));
  return {core::index_add(Tensor::zeros(x.shape()), idx, core::mul(ys, w))};
}

enum class Routing { kRandom, kAllToExpertZero, kAllToLastRank, kOwnRankOnly };

void check_identity_experts(Routing routing, int experts_per_rank) {
  Communicator& w = dist_world();
  const int p = w.size(), me = w.rank();
  const int64_t e_count = experts_per_rank * p, n = 5 + me, k = 2, d = 4;
  TokenDispatcher dispatcher(w, e_count);
  core::Rng rng(100 + me);
  Tensor x = rng.normal({n, d});
  Tensor weights = rng.uniform({n, k}, 0.1f, 1.0f);
  x.set_requires_grad(true);
  weights.set_requires_grad(true);
  std::vector<int> expert(n * k);
  for (int64_t a = 0; a < n * k; ++a) {
    switch (routing) {
      case Routing::kRandom:
        expert[a] = static_cast<int>((a * 7 + me * 3 + a / k) % e_count);
        break;
      case Routing::kAllToExpertZero:
        expert[a] = 0;
        break;
      case Routing::kAllToLastRank:
        expert[a] = (p - 1) * experts_per_rank + static_cast<int>(a % experts_per_rank);
        break;
      case Routing::kOwnRankOnly:
        expert[a] = me * experts_per_rank + static_cast<int>(a % experts_per_rank);
        break;
    }
  }
  const Tensor y = identity_moe(x, weights, expert, e_count, dispatcher).y;
  const Tensor g = rng.normal({n, d});
  core::sum(core::mul(y, g)).backward();

  const std::vector<float> xv = x.to_vector(), wv = weights.to_vector(), yv = y.to_vector(),
                           gv = g.to_vector(), dx = x.grad().to_vector(),
                           dw = weights.grad().to_vector();
  for (int64_t t = 0; t < n; ++t) {
    const float wsum = wv[t * k] + wv[t * k + 1];
    float dot = 0.0f;
    for (int64_t c = 0; c < d; ++c) {
      EXPECT_NEAR(yv[t * d + c], xv[t * d + c] * wsum, 1e-5f) << "token " << t;
      EXPECT_NEAR(dx[t * d + c], gv[t * d + c] * wsum, 1e-5f) << "token " << t;
      dot += gv[t * d + c] * xv[t * d + c];
    }
    for (int64_t s = 0; s < k; ++s) EXPECT_NEAR(dw[t * k + s], dot, 1e-4f) << "token " << t;
  }
}

TEST(TokenDispatcher, IdentityExpertsGiveXTimesTheWeightSum) {
  for (int per_rank : {1, 2}) {
    for (Routing r : {Routing::kRandom, Routing::kAllToExpertZero, Routing::kAllToLastRank,
                      Routing::kOwnRankOnly}) {
      SCOPED_TRACE("experts per rank " + std::to_string(per_rank) + ", routing " +
                   std::to_string(static_cast<int>(r)));
      check_identity_experts(r, per_rank);
    }
  }
}

TEST(TokenDispatcher, ShardsAreContiguousAndEvenlySized) {
  EXPECT_EQ(TokenDispatcher::shard_of(2, 4, 8).first, 4);
  EXPECT_EQ(TokenDispatcher::shard_of(2, 4, 8).count, 2);
  EXPECT_THROW(TokenDispatcher::shard_of(0, 3, 8), Error);
}

// ---- A sharded decoder against the 1-rank model ----------------------------------------------

constexpr int64_t kMicroBatches = 4, kBatch = 2, kSeq = 8;

core::nn::DecoderOptions small_decoder(float capacity_factor) {
  core::nn::DecoderOptions o;
  o.vocab_size = 32, o.hidden_size = 16, o.num_layers = 2, o.num_heads = 2, o.num_kv_heads = 1;
  o.intermediate_size = 24, o.expert_intermediate_size = 12;
  o.router.num_experts = 4, o.router.top_k = 2;
  o.router.kind = core::nn::RouterKind::kNoisyTopK;
  o.router.capacity_factor = capacity_factor;
  o.moe_first_layer = 0;
  return o;
}

Tensor micro_batch_ids(int64_t micro, int64_t salt) {
  std::vector<int32_t> ids(kBatch * kSeq);
  for (size_t i = 0; i < ids.size(); ++i)
    ids[i] =
        static_cast<int32_t>((micro * 131 + salt * 17 + static_cast<int64_t>(i) * 29 + i * i) % 32);
  return Tensor::from_ints(ids, {kBatch, kSeq});
}

// Accumulates the mean-over-micro-batches loss gradient of micro-batches [first, last).
void accumulate(const core::nn::Decoder& model, int64_t first, int64_t last) {
  for (int64_t micro = first; micro < last; ++micro) {
    core::Rng noise(77);
    noise.set_state({77, static_cast<uint64_t>(micro) << 32});
    const core::nn::DecoderLoss l =
        model.loss(micro_batch_ids(micro, 0), micro_batch_ids(micro, 1), &noise, /*training=*/true);
    core::scale(l.loss, 1.0f / kMicroBatches).backward();
  }
}

bool is_expert(const std::string& name) { return name.find(".experts.") != std::string::npos; }

void check_layout_matches_one_rank(int ep, float capacity_factor) {
  Communicator& w = dist_world();
  const int dp = w.size();
  const ProcessGrid grid = ProcessGrid::create(w, dp, ep, 1);

  core::nn::Decoder reference(small_decoder(capacity_factor));
  reference.init(core::Rng(7), 0.2f);
  accumulate(reference, 0, kMicroBatches);
  const auto want = testing::parameters_by_name(reference);

  core::nn::DecoderOptions options = small_decoder(capacity_factor);
  TokenDispatcher dispatcher(grid.ep_comm(), options.router.num_experts);
  options.expert_shard = dispatcher.shard();
  core::nn::Decoder model(options);
  model.set_expert_exchange(ep > 1 ? &dispatcher : nullptr);
  if (ep == 1) {
    // (ep = 1 holds every expert: the dispatcher is not needed)
    ASSERT_TRUE(options.expert_shard.holds_all(options.router.num_experts));
  }
  model.init(core::Rng(7), 0.2f);
  // The shard's parameters are exactly the whole model's of the same names.
  for (const auto& p : model.named_parameters()) {
    ASSERT_TRUE(want.count(p.name)) << p.name;
    EXPECT_EQ(p.tensor.to_vector(), want.at(p.name).to_vector()) << p.name;
  }
  const int64_t share = kMicroBatches / dp, first = grid.coords().dp_index * share;
  accumulate(model, first, first + share);
  std::vector<core::nn::NamedParameter> replicated, experts;
  for (const auto& p : model.named_parameters())
    (is_expert(p.name) ? experts : replicated).push_back(p);
  GradientReducer(replicated).all_reduce(grid.dp_comm());
  GradientReducer(experts).all_reduce(grid.expert_dp_comm());

  testing::expect_gradients_match(model, want, 1e-5, "");
  int64_t experts_here = 0;
  for (const auto& p : model.named_parameters()) experts_here += is_expert(p.name) ? 1 : 0;
  // Each rank holds E/ep experts of 3 tensors in each of the 2 MoE layers.
  EXPECT_EQ(experts_here, 2 * 3 * options.router.num_experts / ep);
}

TEST(ExpertParallelDecoder, EveryLayoutGivesTheOneRankGradients) {
  const int dp = dist_world().size();
  for (int ep = 1; ep <= dp; ep *= 2) {
    if (dp % ep != 0 || 4 % ep != 0) continue;
    for (float capacity : {0.0f, 1.0f}) {
      SCOPED_TRACE("dp " + std::to_string(dp) + " ep " + std::to_string(ep) + " capacity " +
                   std::to_string(capacity));
      check_layout_matches_one_rank(ep, capacity);
    }
  }
}

// Every token of every rank routed to expert 0 (on ep rank 0): the other ranks' experts receive
// nothing, yet every rank finishes forward and backward with finite gradients.
TEST(ExpertParallelDecoder, EveryTokenToOneExpertFinishesWithFiniteGradients) {
  Communicator& w = dist_world();
  const ProcessGrid grid = ProcessGrid::create(w, w.size(), w.size(), 1);
  core::nn::RouterOptions router;
  router.num_experts = 4 * w.size(), router.top_k = 1;
  TokenDispatcher dispatcher(grid.ep_comm(), router.num_experts);
  core::nn::MoeLayer layer(8, 16, router, dispatcher.shard());
  layer.set_exchange(&dispatcher);
  core::Rng rng(3 + w.rank());
  for (auto& p : layer.named_parameters()) {
    core::NoGradGuard no_grad;
    const std::vector<float> v = rng.normal(p.tensor.shape(), 0.0f, 0.3f).to_vector();
    std::copy(v.begin(), v.end(), p.tensor.f32());
  }
  // gate row 0 = +1, the rest -1; x > 0: expert 0 wins every token.
  Tensor gate = testing::parameters_by_name(layer).at("gate.weight");
  for (int64_t i = 0; i < gate.numel(); ++i) gate.f32()[i] = i < 8 ? 1.0f : -1.0f;
  Tensor x = rng.uniform({6, 8}, 0.1f, 1.0f);
  x.set_requires_grad(true);
  const core::nn::MoeOutput out = layer.forward(x, nullptr, /*training=*/true);
  EXPECT_EQ(out.stats.tokens_per_expert[0], 6);
  core::sum(core::add(core::sum(out.y), out.aux_loss)).backward();
  for (float v : x.grad().to_vector()) ASSERT_TRUE(std::isfinite(v));
  for (const auto& p : layer.named_parameters()) {
    const bool expert_zero = p.name.rfind("experts.0.", 0) == 0;
    if (!p.tensor.grad().defined()) {
      // Only experts that no token reached, and never expert 0, go without a gradient.
      EXPECT_TRUE(p.name.rfind("experts.", 0) == 0 && !expert_zero) << p.name;
      continue;
    }
    for (float v : p.tensor.grad().to_vector()) ASSERT_TRUE(std::isfinite(v)) << p.name;
  }
}

}  // namespace
}  // namespace sy::parallel
