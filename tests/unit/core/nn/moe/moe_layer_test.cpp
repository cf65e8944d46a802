// The MoE layer against brute-force references: dropless output, capacity drops under both
// policies, aux and z losses by hand, empty experts, the noisy router, and a gradient check.
#include "core/nn/moe/moe_layer.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <map>

#include "core/autograd/grad_mode.h"
#include "core/common/error.h"
#include "core/ops/reduce.h"
#include "core/ops/view_ops.h"
#include "tests/unit/core/gradcheck/gradcheck.h"

namespace sy::core::nn {
namespace {

constexpr int64_t kD = 6, kF = 5, kE = 4;

std::map<std::string, Tensor> params(const Module& m) {
  std::map<std::string, Tensor> out;
  for (const auto& p : m.named_parameters()) out[p.name] = p.tensor;
  return out;
}

// Fills every parameter with normal(0, std), the gate with a larger spread so routing is decisive.
void randomise(const Module& m, uint64_t seed, float gate_std = 1.0f) {
  Rng rng(seed);
  for (auto& p : m.named_parameters()) {
    const float std = p.name.find("gate") != std::string::npos ? gate_std : 0.4f;
    rng.normal(p.tensor.f32(), p.tensor.numel(), 0.0f, std);
  }
}

// Reference routing in double: softmax, top-k (ties to the lower index), renormalisation.
struct RefRoute {
  std::vector<std::vector<int>> experts;  // per token
  std::vector<std::vector<double>> probs, weights;
  std::vector<std::vector<double>> p_all;
};

RefRoute ref_route(const std::vector<float>& x, const std::vector<float>& gate, int64_t n,
                   int64_t k, bool normalize) {
  RefRoute r;
  for (int64_t t = 0; t < n; ++t) {
    std::vector<double> z(kE);
    for (int64_t e = 0; e < kE; ++e)
      for (int64_t d = 0; d < kD; ++d)
        z[e] += static_cast<double>(x[t * kD + d]) * gate[e * kD + d];
    const double mx = *std::max_element(z.begin(), z.end());
    double s = 0;
    for (double& v : z) s += (v = std::exp(v - mx));
    for (double& v : z) v /= s;
    std::vector<int> order(kE);
    for (int e = 0; e < kE; ++e) order[e] = e;
    std::stable_sort(order.begin(), order.end(), [&](int a, int b) { return z[a] > z[b]; });
    order.resize(static_cast<size_t>(k));
    std::vector<double> p, w;
    double ws = 0;
    for (int e : order) p.push_back(z[e]), ws += z[e];
    for (double v : p) w.push_back(normalize ? v / ws : v);
    r.experts.push_back(order);
    r.probs.push_back(p);
    r.weights.push_back(w);
    r.p_all.push_back(z);
  }
  return r;
}

// One expert's SwiGLU on one token, in double.
std::vector<double> ref_expert(const std::map<std::string, Tensor>& ps, int e, const float* x) {
  const std::string pre = "experts." + std::to_string(e) + ".";
  const float* w1 = ps.at(pre + "w1.weight").f32();
  const float* w3 = ps.at(pre + "w3.weight").f32();
  const float* w2 = ps.at(pre + "w2.weight").f32();
  std::vector<double> h(kF), y(kD, 0.0);
  for (int f = 0; f < kF; ++f) {
    double g = 0, u = 0;
    for (int d = 0; d < kD; ++d)
      g += static_cast<double>(w1[f * kD + d]) * x[d],
          u += static_cast<double>(w3[f * kD + d]) * x[d];
    h[f] = g / (1 + std::exp(-g)) * u;
  }
  for (int d = 0; d < kD; ++d)
    for (int f = 0; f < kF; ++f) y[d] += w2[d * kF + f] * h[f];
  return y;
}

// The layer's output recomputed from a reference routing and a kept mask.
std::vector<double> ref_output(const MoeLayer& layer, const std::vector<float>& x,
                               const RefRoute& r, const std::vector<std::vector<bool>>& kept) {
  const auto ps = params(layer);
  const int64_t n = static_cast<int64_t>(r.experts.size());
  std::vector<double> y(static_cast<size_t>(n * kD), 0.0);
  for (int64_t t = 0; t < n; ++t)
    for (size_t s = 0; s < r.experts[t].size(); ++s) {
      if (!kept[t][s]) continue;
      const auto ye = ref_expert(ps, r.experts[t][s], &x[t * kD]);
      for (int d = 0; d < kD; ++d) y[t * kD + d] += r.weights[t][s] * ye[d];
    }
  return y;
}

void expect_near_all(const Tensor& a, const std::vector<double>& b, double tol) {
  const auto av = a.to_vector();
  ASSERT_EQ(av.size(), b.size());
  for (size_t i = 0; i < b.size(); ++i) EXPECT_NEAR(av[i], b[i], tol) << "element " << i;
}

TEST(MoeLayer, DroplessMatchesBruteForce) {
  for (bool normalize : {true, false}) {
    RouterOptions o;
    o.num_experts = kE, o.top_k = 2, o.normalize_topk = normalize;
    MoeLayer layer(kD, kF, o);
    randomise(layer, 11);
    Rng rng(3);
    const Tensor x = rng.normal({9, kD});
    const MoeOutput out = layer.forward(x, nullptr, true);
    const auto xv = x.to_vector();
    const RefRoute r = ref_route(xv, params(layer).at("gate.weight").to_vector(), 9, 2, normalize);
    expect_near_all(out.y, ref_output(layer, xv, r, std::vector(9, std::vector<bool>(2, true))),
                    1e-5);
    EXPECT_EQ(out.stats.dropped, 0);
    EXPECT_EQ(out.stats.assignments, 18);
  }
}

// Reference drop decision: per expert keep the C best (probs policy) or earliest (position).
std::vector<std::vector<bool>> ref_keep(const RefRoute& r, int64_t capacity, DropPolicy policy) {
  const int64_t n = static_cast<int64_t>(r.experts.size());
  std::vector<std::vector<bool>> kept(n, std::vector<bool>(r.experts[0].size(), false));
  for (int e = 0; e < kE; ++e) {
    std::vector<std::pair<int64_t, size_t>> list;  // (token, slot)
    for (int64_t t = 0; t < n; ++t)
      for (size_t s = 0; s < r.experts[t].size(); ++s)
        if (r.experts[t][s] == e) list.emplace_back(t, s);
    if (policy == DropPolicy::kProbs) {
      std::stable_sort(list.begin(), list.end(), [&](auto a, auto b) {
        return r.probs[a.first][a.second] > r.probs[b.first][b.second];
      });
    }
    for (size_t i = 0; i < list.size() && static_cast<int64_t>(i) < capacity; ++i)
      kept[list[i].first][list[i].second] = true;
  }
  return kept;
}

TEST(MoeLayer, CapacityDropsMatchBruteForceUnderBothPolicies) {
  for (DropPolicy policy : {DropPolicy::kProbs, DropPolicy::kPosition}) {
    RouterOptions o;
    o.num_experts = kE, o.top_k = 2, o.capacity_factor = 0.5f, o.drop_policy = policy;
    MoeLayer layer(kD, kF, o);
    randomise(layer, 5, 2.0f);
    Rng rng(8);
    const int64_t n = 16;
    const Tensor x = rng.normal({n, kD});
    const MoeOutput out = layer.forward(x, nullptr, true);
    const int64_t capacity = expert_capacity(o, n);
    ASSERT_EQ(capacity, 4);  // ceil(0.5 * 16 * 2 / 4)
    const auto xv = x.to_vector();
    const RefRoute r = ref_route(xv, params(layer).at("gate.weight").to_vector(), n, 2, true);
    const auto kept = ref_keep(r, capacity, policy);
    int64_t dropped = 0;
    for (const auto& row : kept) dropped += std::count(row.begin(), row.end(), false);
    EXPECT_GT(dropped, 0) << "the case must actually drop";
    EXPECT_EQ(out.stats.dropped, dropped);
    expect_near_all(out.y, ref_output(layer, xv, r, kept), 1e-5);
    // f counts assignments before dropping.
    int64_t total = 0;
    for (int64_t c : out.stats.tokens_per_expert) total += c;
    EXPECT_EQ(total, n * 2);
  }
}

TEST(MoeLayer, AuxAndZLossesByHand) {
  RouterOptions o;
  o.num_experts = kE, o.top_k = 2;
  MoeLayer layer(kD, kF, o);
  randomise(layer, 21);
  Rng rng(4);
  const int64_t n = 7;
  const Tensor x = rng.normal({n, kD});
  const MoeOutput out = layer.forward(x, nullptr, true);
  const auto xv = x.to_vector();
  const auto gate = params(layer).at("gate.weight").to_vector();
  const RefRoute r = ref_route(xv, gate, n, 2, true);
  std::vector<double> f(kE, 0), p_mean(kE, 0);
  double z = 0;
  for (int64_t t = 0; t < n; ++t) {
    for (int e : r.experts[t]) f[e] += 1.0 / (n * 2);
    double mx = -1e30, s = 0;
    std::vector<double> logits(kE);
    for (int e = 0; e < kE; ++e) {
      for (int d = 0; d < kD; ++d)
        logits[e] += static_cast<double>(xv[t * kD + d]) * gate[e * kD + d];
      mx = std::max(mx, logits[e]);
      p_mean[e] += r.p_all[t][e] / n;
    }
    for (double v : logits) s += std::exp(v - mx);
    z += std::pow(mx + std::log(s), 2) / n;
  }
  double aux = 0;
  for (int e = 0; e < kE; ++e) aux += kE * f[e] * p_mean[e];
  EXPECT_NEAR(out.aux_loss.item(), aux, 1e-5);
  EXPECT_NEAR(out.z_loss.item(), z, 1e-5);
  EXPECT_NEAR(out.stats.aux, aux, 1e-5);
}

TEST(MoeLayer, PerfectBalanceGivesAuxOne) {
  // With E = K every token goes to every expert: f_i = 1/E and sum_i P_i = 1, so aux = 1.
  RouterOptions o;
  o.num_experts = 3, o.top_k = 3;
  MoeLayer layer(kD, kF, o);
  randomise(layer, 2);
  Rng rng(1);
  EXPECT_NEAR(layer.forward(rng.normal({5, kD}), nullptr, true).aux_loss.item(), 1.0f, 1e-6f);
}

TEST(MoeLayer, EmptyExpertsAndAllTokensOnOneExpert) {
  RouterOptions o;
  o.num_experts = kE, o.top_k = 1;
  MoeLayer layer(kD, kF, o);
  randomise(layer, 9);
  // Gate row 2 dominates for positive inputs: every token picks expert 2.
  Tensor gate = params(layer).at("gate.weight");
  gate.zero_();
  for (int d = 0; d < kD; ++d) gate.f32()[2 * kD + d] = 5.0f;
  Rng rng(6);
  Tensor x = rng.uniform({8, kD}, 0.5f, 1.5f);
  x.set_requires_grad(true);
  const MoeOutput out = layer.forward(x, nullptr, true);
  EXPECT_EQ(out.stats.tokens_per_expert, (std::vector<int64_t>{0, 0, 8, 0}));
  sum(out.y).backward();
  const auto ps = params(layer);
  EXPECT_TRUE(ps.at("experts.2.w1.weight").grad().defined());
  EXPECT_FALSE(ps.at("experts.0.w1.weight").grad().defined());  // never ran
  for (float g : x.grad().to_vector()) EXPECT_TRUE(std::isfinite(g));
  for (float g : ps.at("gate.weight").grad().to_vector()) EXPECT_TRUE(std::isfinite(g));
}

TEST(MoeLayer, NoisyRouterIsRandomInTrainingAndCleanInEval) {
  RouterOptions o;
  o.num_experts = kE, o.top_k = 2, o.kind = RouterKind::kNoisyTopK;
  MoeLayer layer(kD, kF, o);
  randomise(layer, 13, 0.3f);
  const auto ps = params(layer);
  ASSERT_TRUE(ps.count("noise.weight"));
  Rng xr(2);
  const Tensor x = xr.normal({32, kD});
  Rng a(1), b(1), c(2);
  const auto ya = layer.forward(x, &a, true).y.to_vector();
  EXPECT_EQ(ya, layer.forward(x, &b, true).y.to_vector());  // same seed, same noise
  EXPECT_NE(ya, layer.forward(x, &c, true).y.to_vector());
  // Eval: no noise, equal to the plain softmax router with the same gate and experts.
  RouterOptions plain = o;
  plain.kind = RouterKind::kSoftmax;
  MoeLayer clean(kD, kF, plain);
  auto cps = params(clean);
  for (auto& [name, t] : cps) t.copy_(ps.at(name));
  EXPECT_EQ(layer.forward(x, nullptr, false).y.to_vector(),
            clean.forward(x, nullptr, false).y.to_vector());
  // The noise weights learn.
  Rng d(3);
  const MoeOutput out = layer.forward(x, &d, true);
  sum(out.y).backward();
  EXPECT_TRUE(ps.at("noise.weight").grad().defined());
}

TEST(MoeLayer, GradientCheckThroughRoutingExpertsAndLosses) {
  // d(y, aux, z)/dx covers the routing weights (softmax, top-k, renormalisation), the
  // permutation, the experts, the weighted scatter-add and both router losses. A decisive gate and
  // eps = 1e-3 keep every top-k choice fixed under the perturbations.
  RouterOptions o;
  o.num_experts = kE, o.top_k = 2;
  MoeLayer layer(kD, kF, o);
  randomise(layer, 17, 1.5f);
  Rng rng(12);
  testing::GradcheckSpec spec;
  spec.inputs = {rng.normal({5, kD})};
  spec.eps = 1e-3;
  spec.atol = 2e-3;
  spec.fn = [&layer](const std::vector<Tensor>& in) {
    const MoeOutput out = layer.forward(in[0], nullptr, true);
    return concat_rows(
        {reshape(out.y, {-1}), reshape(out.aux_loss, {1}), reshape(out.z_loss, {1})});
  };
  Rng check_rng(5);
  const auto result = testing::run_gradcheck(spec, check_rng);
  EXPECT_TRUE(result.ok) << result.worst;
}

// An exchange within one process that moves nothing: dispatch and combine are identities, but
// the layer takes the exchange's path (per-expert counts in, local groups out).
class LoopbackExchange : public ExpertExchange {
 public:
  Tensor dispatch(const Tensor& xs, const std::vector<int64_t>& counts,
                  std::vector<int64_t>* local_counts) override {
    ++dispatches;
    *local_counts = counts;
    return xs;
  }
  Tensor combine(const Tensor& yr) override {
    ++combines;
    return yr;
  }
  int dispatches = 0, combines = 0;
};

TEST(MoeLayer, AnExchangeThatMovesNothingChangesNothing) {
  RouterOptions o;
  o.num_experts = 4, o.top_k = 2;
  MoeLayer plain(6, 5, o), exchanged(6, 5, o);
  randomise(plain, 21);
  randomise(exchanged, 21);
  LoopbackExchange loop;
  exchanged.set_exchange(&loop);
  Rng rng(4);
  const Tensor x = rng.normal({7, 6});
  const MoeOutput a = plain.forward(x, nullptr, true), b = exchanged.forward(x, nullptr, true);
  EXPECT_EQ(a.y.to_vector(), b.y.to_vector());
  sum(a.y).backward();
  sum(b.y).backward();
  const auto pa = params(plain), pb = params(exchanged);
  for (const auto& [name, t] : pa)
    EXPECT_EQ(t.grad().to_vector(), pb.at(name).grad().to_vector()) << name;
  EXPECT_EQ(loop.dispatches, 1);
  EXPECT_EQ(loop.combines, 1);
}

TEST(MoeLayer, AShardNamesItsExpertsGloballyAndNeedsAnExchange) {
  RouterOptions o;
  o.num_experts = 4, o.top_k = 1;
  MoeLayer shard(6, 5, o, ExpertShard{2, 2});
  std::vector<std::string> experts;
  for (const auto& p : shard.named_parameters()) {
    if (p.name.rfind("experts.", 0) == 0) experts.push_back(p.name);
  }
  EXPECT_EQ(experts, (std::vector<std::string>{"experts.2.w1.weight", "experts.2.w3.weight",
                                               "experts.2.w2.weight", "experts.3.w1.weight",
                                               "experts.3.w3.weight", "experts.3.w2.weight"}));
  randomise(shard, 3);
  Rng rng(5);
  EXPECT_THROW(shard.forward(rng.normal({3, 6}), nullptr, false), Error);
  EXPECT_THROW(MoeLayer(6, 5, o, ExpertShard{3, 2}), Error);  // past the last expert
}

}  // namespace
}  // namespace sy::core::nn
