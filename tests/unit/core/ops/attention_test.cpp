// The attention op against a naive double-precision reference (forward and backward), the causal
// mask, multi-block sequences, shape errors and gradient checks.
#include "core/ops/attention.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <vector>

#include "core/common/error.h"
#include "core/tensor/rng.h"
#include "tests/unit/core/gradcheck/gradcheck.h"

namespace sy::core {
namespace {

struct Dims {
  int64_t b, tq, tk, h, hkv, hd;
};

struct Grads {
  std::vector<double> dq, dk, dv;
};

// Naive causal GQA attention in double with the full (Tq,Tk) probabilities materialised.
// q (B,Tq,H,hd), k v (B,Tk,Hkv,hd), dout (B,Tq,H,hd) -> out (B,Tq,H,hd) and, when dout is given,
// the gradients of sum(out * dout).
std::vector<double> reference(const Dims& d, const Tensor& q, const Tensor& k, const Tensor& v,
                              const Tensor* dout = nullptr, Grads* grads = nullptr) {
  const std::vector<float> qv = q.to_vector(), kv = k.to_vector(), vv = v.to_vector();
  const std::vector<float> gv = dout ? dout->to_vector() : std::vector<float>();
  std::vector<double> out(qv.size(), 0.0);
  if (grads) {
    grads->dq.assign(qv.size(), 0.0);
    grads->dk.assign(kv.size(), 0.0);
    grads->dv.assign(vv.size(), 0.0);
  }
  const double scale = 1.0 / std::sqrt(static_cast<double>(d.hd));
  auto qi = [&](int64_t b, int64_t t, int64_t h) { return ((b * d.tq + t) * d.h + h) * d.hd; };
  auto ki = [&](int64_t b, int64_t s, int64_t h) { return ((b * d.tk + s) * d.hkv + h) * d.hd; };
  for (int64_t b = 0; b < d.b; ++b) {
    for (int64_t h = 0; h < d.h; ++h) {
      const int64_t g = h / (d.h / d.hkv);
      for (int64_t t = 0; t < d.tq; ++t) {
        const int64_t n = d.tk - d.tq + t + 1;  // visible keys
        std::vector<double> p(static_cast<size_t>(n));
        double m = -1e300;
        for (int64_t s = 0; s < n; ++s) {
          double dot = 0.0;
          for (int64_t c = 0; c < d.hd; ++c)
            dot += double{qv[qi(b, t, h) + c]} * kv[ki(b, s, g) + c];
          p[s] = dot * scale;
          m = std::max(m, p[s]);
        }
        double z = 0.0;
        for (double& x : p) z += (x = std::exp(x - m));
        for (double& x : p) x /= z;
        for (int64_t s = 0; s < n; ++s) {
          for (int64_t c = 0; c < d.hd; ++c) out[qi(b, t, h) + c] += p[s] * vv[ki(b, s, g) + c];
        }
        if (!grads) continue;
        // dP = dO V^T, dS = P (dP - sum(P dP)), dQ = dS K scale, dK += dS^T Q scale, dV += P^T dO.
        std::vector<double> dp(static_cast<size_t>(n));
        double di = 0.0;
        for (int64_t s = 0; s < n; ++s) {
          double dot = 0.0;
          for (int64_t c = 0; c < d.hd; ++c)
            dot += double{gv[qi(b, t, h) + c]} * vv[ki(b, s, g) + c];
          dp[s] = dot;
          di += p[s] * dot;
        }
        for (int64_t s = 0; s < n; ++s) {
          const double ds = p[s] * (dp[s] - di);
          for (int64_t c = 0; c < d.hd; ++c) {
            grads->dq[qi(b, t, h) + c] += ds * kv[ki(b, s, g) + c] * scale;
            grads->dk[ki(b, s, g) + c] += ds * qv[qi(b, t, h) + c] * scale;
            grads->dv[ki(b, s, g) + c] += p[s] * gv[qi(b, t, h) + c];
          }
        }
      }
    }
  }
  return out;
}

void expect_near(const std::vector<float>& got, const std::vector<double>& want, double tol,
                 const char* what) {
  ASSERT_EQ(got.size(), want.size()) << what;
  double worst = 0.0;
  size_t at = 0;
  for (size_t i = 0; i < got.size(); ++i) {
    const double err = std::abs(got[i] - want[i]);
    if (err > worst) worst = err, at = i;
  }
  EXPECT_LE(worst, tol) << what << ": element " << at << " got " << got[at] << " want " << want[at];
}

void check_forward(const Dims& d, uint64_t seed, double tol = 1e-5) {
  Rng rng(seed);
  const Tensor q = rng.normal(Shape{d.b, d.tq, d.h, d.hd});
  const Tensor k = rng.normal(Shape{d.b, d.tk, d.hkv, d.hd});
  const Tensor v = rng.normal(Shape{d.b, d.tk, d.hkv, d.hd});
  const Tensor out = attention(q, k, v);
  ASSERT_EQ(out.shape(), q.shape());
  expect_near(out.to_vector(), reference(d, q, k, v), tol, "out");
}

void check_backward(const Dims& d, uint64_t seed, double tol) {
  Rng rng(seed);
  Tensor q = rng.normal(Shape{d.b, d.tq, d.h, d.hd});
  Tensor k = rng.normal(Shape{d.b, d.tk, d.hkv, d.hd});
  Tensor v = rng.normal(Shape{d.b, d.tk, d.hkv, d.hd});
  const Tensor dout = rng.normal(Shape{d.b, d.tq, d.h, d.hd});
  q.set_requires_grad(true);
  k.set_requires_grad(true);
  v.set_requires_grad(true);
  attention(q, k, v).backward(dout);
  Grads want;
  reference(d, q, k, v, &dout, &want);
  expect_near(q.grad().to_vector(), want.dq, tol, "dq");
  expect_near(k.grad().to_vector(), want.dk, tol, "dk");
  expect_near(v.grad().to_vector(), want.dv, tol, "dv");
}

TEST(Attention, CausalMatchesReference) { check_forward({1, 7, 7, 2, 2, 8}, 1); }

TEST(Attention, GroupedQueryHeadsMatchReference) { check_forward({1, 6, 6, 4, 2, 8}, 2); }

TEST(Attention, SingleKvHeadMatchesReference) { check_forward({2, 5, 5, 4, 1, 4}, 3); }

TEST(Attention, FewerQueriesThanKeysMatchesReference) { check_forward({2, 3, 9, 4, 2, 8}, 4); }

TEST(Attention, OneQueryDecodeStepMatchesReference) { check_forward({3, 1, 17, 2, 1, 8}, 5); }

TEST(Attention, BatchMatchesReference) { check_forward({3, 6, 6, 2, 2, 4}, 6); }

TEST(Attention, LongSequenceSpanningBlocksMatchesReference) {
  // T = 300 covers several full query blocks and a partial one.
  check_forward({1, 300, 300, 2, 1, 16}, 7, 1e-4);
  check_forward({2, 130, 301, 2, 2, 16}, 8, 1e-4);
}

TEST(Attention, FirstQueryAttendsOnlyToFirstKey) {
  const Dims d{2, 5, 5, 4, 2, 8};
  Rng rng(9);
  const Tensor q = rng.normal(Shape{d.b, d.tq, d.h, d.hd});
  const Tensor k = rng.normal(Shape{d.b, d.tk, d.hkv, d.hd});
  const Tensor v = rng.normal(Shape{d.b, d.tk, d.hkv, d.hd});
  const std::vector<float> out = attention(q, k, v).to_vector();
  const std::vector<float> vv = v.to_vector();
  for (int64_t b = 0; b < d.b; ++b) {
    for (int64_t h = 0; h < d.h; ++h) {
      const int64_t g = h / (d.h / d.hkv);
      for (int64_t c = 0; c < d.hd; ++c) {
        EXPECT_NEAR(out[static_cast<size_t>(((b * d.tq) * d.h + h) * d.hd + c)],
                    vv[static_cast<size_t>(((b * d.tk) * d.hkv + g) * d.hd + c)], 1e-6);
      }
    }
  }
}

TEST(Attention, GradientsMatchReference) {
  check_backward({2, 6, 6, 4, 2, 8}, 10, 1e-5);
  check_backward({2, 3, 8, 4, 1, 8}, 11, 1e-5);
}

TEST(Attention, GradientsOfLongSequenceMatchReference) {
  check_backward({1, 150, 150, 4, 2, 16}, 12, 1e-4);
  check_backward({2, 70, 200, 2, 1, 16}, 13, 1e-4);
  // One (batch, kv head) pair: with several threads, the backward splits the pair's query blocks
  // over threads with per-thread dK, dV partials.
  check_backward({1, 200, 200, 2, 1, 16}, 14, 1e-4);
}

TEST(Attention, RejectsBadShapes) {
  const Tensor q = Tensor::zeros(Shape{2, 4, 4, 8});
  const Tensor kv = Tensor::zeros(Shape{2, 4, 2, 8});
  EXPECT_NO_THROW(attention(q, kv, kv));
  EXPECT_THROW(attention(Tensor::zeros(Shape{2, 4, 32}), kv, kv), Error);  // not 4-D
  EXPECT_THROW(attention(q, Tensor::zeros(Shape{2, 4, 3, 8}), Tensor::zeros(Shape{2, 4, 3, 8})),
               Error);                                                      // H % Hkv
  EXPECT_THROW(attention(q, kv, Tensor::zeros(Shape{2, 5, 2, 8})), Error);  // k != v
  EXPECT_THROW(attention(q, Tensor::zeros(Shape{2, 3, 2, 8}), Tensor::zeros(Shape{2, 3, 2, 8})),
               Error);  // Tk < Tq
  EXPECT_THROW(attention(q, Tensor::zeros(Shape{1, 4, 2, 8}), Tensor::zeros(Shape{1, 4, 2, 8})),
               Error);  // B differs
  EXPECT_THROW(attention(q, Tensor::zeros(Shape{2, 4, 2, 4}), Tensor::zeros(Shape{2, 4, 2, 4})),
               Error);  // hd differs
  EXPECT_THROW(attention(q, kv, Tensor::zeros(Shape{2, 4, 2, 8}, DType::kI32)), Error);
}

}  // namespace

namespace testing {
namespace {

// Inputs (q, k, v) drawn normal(0,1) for the given sizes.
GradcheckSpec attention_spec(Rng& rng, int64_t b, int64_t tq, int64_t tk, int64_t h, int64_t hkv,
                             int64_t hd) {
  GradcheckSpec spec;
  spec.inputs = {rng.normal(Shape{b, tq, h, hd}), rng.normal(Shape{b, tk, hkv, hd}),
                 rng.normal(Shape{b, tk, hkv, hd})};
  spec.fn = [](const std::vector<Tensor>& x) { return attention(x[0], x[1], x[2]); };
  return spec;
}

SY_GRADCHECK_CASE("attention", attention_mha) { return attention_spec(rng, 1, 5, 5, 2, 2, 4); }

SY_GRADCHECK_CASE("attention", attention_gqa_batch) {
  return attention_spec(rng, 2, 5, 5, 4, 2, 4);
}

SY_GRADCHECK_CASE("attention", attention_kv_cache) { return attention_spec(rng, 2, 3, 6, 4, 2, 4); }

}  // namespace
}  // namespace testing
}  // namespace sy::core
