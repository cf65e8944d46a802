// Micro-benchmarks of sy::core::matmul at the bench-small model's shapes (D=512, F=1024, V=8192,
// N = B*T = 2048 tokens) and at a small expert batch (256 tokens), forward and backward.
//
// Every case is a linear layer y (M,N) = x (M,K) W^T with W (N,K), in four passes:
//   fwd      y = x W^T                     matmul(x, W, false, true)      2*M*N*K flops
//   bwd_dx   dX (M,K) = dY W               matmul(dY, W)                  2*M*N*K flops
//   bwd_dw   dW (N,K) = dY^T X             matmul(dY, x, true, false)     2*M*N*K flops
//   fwd_bwd  y = x W^T, then y.backward(dY) through autograd (x and W require grad), i.e. the
//            three products above plus the graph's bookkeeping           6*M*N*K flops
// Counters: GFLOPS and pct_of_peak (of the sgemm peak measured at start-up; bench/README.md).
#include <cstdint>
#include <string>

#include "bench/core/sgemm_peak.h"
#include "core/ops/matmul.h"
#include "core/tensor/rng.h"
#include "core/tensor/tensor.h"

namespace sy::bench {

namespace {

using core::Rng;
using core::Shape;
using core::Tensor;

struct LinearShape {
  const char* name;
  int64_t m, n, k;  // tokens, output features, input features
};

constexpr int64_t kTokens = 2048, kModel = 512, kFfn = 1024, kVocab = 8192, kExpertTokens = 256;

constexpr LinearShape kShapes[] = {
    {"attn_proj", kTokens, kModel, kModel},        // x (N,D) Wq^T, Wq (D,D)
    {"ffn_up", kTokens, kFfn, kModel},             // x (N,D) W1^T, W1 (F,D)
    {"ffn_down", kTokens, kModel, kFfn},           // h (N,F) W2^T, W2 (D,F)
    {"lm_head", kTokens, kVocab, kModel},          // x (N,D) W^T, W (V,D)
    {"expert_up", kExpertTokens, kFfn, kModel},    // one expert's W1 on a 256-token batch
    {"expert_down", kExpertTokens, kModel, kFfn},  // and its W2
};

enum class Pass { kFwd, kBwdDx, kBwdDw, kFwdBwd };

const char* pass_name(Pass p) {
  switch (p) {
    case Pass::kFwd:
      return "fwd";
    case Pass::kBwdDx:
      return "bwd_dx";
    case Pass::kBwdDw:
      return "bwd_dw";
    case Pass::kFwdBwd:
      return "fwd_bwd";
  }
  return "?";
}

void bm_linear(benchmark::State& state, LinearShape s, Pass pass) {
  Rng rng(1234);
  Tensor x = rng.normal(Shape{s.m, s.k});
  Tensor w = rng.normal(Shape{s.n, s.k}, 0.0f, 0.05f);
  Tensor dy = rng.normal(Shape{s.m, s.n});
  const double flops = 2.0 * static_cast<double>(s.m) * static_cast<double>(s.n) * s.k;
  switch (pass) {
    case Pass::kFwd:
      for (auto _ : state) {
        Tensor y = core::matmul(x, w, false, true);
        benchmark::DoNotOptimize(y.f32());
      }
      report_flops(state, flops);
      break;
    case Pass::kBwdDx:
      for (auto _ : state) {
        Tensor dx = core::matmul(dy, w);
        benchmark::DoNotOptimize(dx.f32());
      }
      report_flops(state, flops);
      break;
    case Pass::kBwdDw:
      for (auto _ : state) {
        Tensor dw = core::matmul(dy, x, true, false);
        benchmark::DoNotOptimize(dw.f32());
      }
      report_flops(state, flops);
      break;
    case Pass::kFwdBwd:
      x.set_requires_grad(true);
      w.set_requires_grad(true);
      for (auto _ : state) {
        Tensor y = core::matmul(x, w, false, true);
        y.backward(dy);
        benchmark::DoNotOptimize(x.grad().f32());
        benchmark::DoNotOptimize(w.grad().f32());
        x.clear_grad();
        w.clear_grad();
      }
      report_flops(state, 3.0 * flops);
      break;
  }
}

void register_benchmarks() {
  for (const LinearShape& s : kShapes) {
    for (Pass p : {Pass::kFwd, Pass::kBwdDx, Pass::kBwdDw, Pass::kFwdBwd}) {
      const std::string name = "matmul/" + std::string(s.name) + "/" + std::to_string(s.m) + "x" +
                               std::to_string(s.n) + "x" + std::to_string(s.k) + "/" + pass_name(p);
      register_case(name, bm_linear, s, p);
    }
  }
}

}  // namespace

}  // namespace sy::bench

int main(int argc, char** argv) {
  sy::bench::register_benchmarks();
  return sy::bench::run_benchmarks(argc, argv);
}
