// Micro-benchmarks of sy::core::attention (fused causal GQA attention), forward and
// forward+backward, at the bench-small shapes: B=8, T=256, H=8, hd=64 with Hkv=8 (MHA) and Hkv=2
// (GQA), and a long-context case B=2, T=1024.
//
// FLOP convention (the usual one for causal attention; it counts matmul work only):
//   forward   two (T x T x hd) products per (batch, head), S = Q K^T and O = P V, halved by the
//             causal mask: 2 * 2*T*T*hd / 2 per head, so fwd = 2 * B * H * T^2 * hd
//   backward  2.5 x forward: five such products (the recomputed S, dP = dO V^T, dQ = dS K,
//             dK = dS^T Q, dV = P^T dO), so fwd_bwd = 3.5 x fwd = 7 * B * H * T^2 * hd
// The softmax's exponentials are not counted, and neither is the kernel's extra work on the
// diagonal blocks (it multiplies whole 64-row blocks up to their last row's causal limit), so the
// reported GFLOP/s slightly understates the arithmetic actually done.
// Counters: GFLOPS and pct_of_peak (of the sgemm peak measured at start-up; bench/README.md).
#include <cstdint>
#include <string>

#include "bench/core/sgemm_peak.h"
#include "core/ops/attention.h"
#include "core/tensor/rng.h"
#include "core/tensor/tensor.h"

namespace sy::bench {

namespace {

using core::Rng;
using core::Shape;
using core::Tensor;

struct AttentionShape {
  const char* name;
  int64_t batch, seq, heads, kv_heads, head_dim;
};

constexpr AttentionShape kShapes[] = {
    {"mha", 8, 256, 8, 8, 64},
    {"gqa", 8, 256, 8, 2, 64},
    {"long", 2, 1024, 8, 8, 64},
};

double forward_flops(const AttentionShape& s) {
  return 2.0 * static_cast<double>(s.batch * s.heads) * static_cast<double>(s.seq * s.seq) *
         static_cast<double>(s.head_dim);
}

void bm_attention(benchmark::State& state, AttentionShape s, bool backward) {
  Rng rng(4321);
  Tensor q = rng.normal(Shape{s.batch, s.seq, s.heads, s.head_dim});
  Tensor k = rng.normal(Shape{s.batch, s.seq, s.kv_heads, s.head_dim});
  Tensor v = rng.normal(Shape{s.batch, s.seq, s.kv_heads, s.head_dim});
  if (!backward) {
    for (auto _ : state) {
      Tensor out = core::attention(q, k, v);
      benchmark::DoNotOptimize(out.f32());
    }
    report_flops(state, forward_flops(s));
    return;
  }
  Tensor dout = rng.normal(Shape{s.batch, s.seq, s.heads, s.head_dim});
  q.set_requires_grad(true);
  k.set_requires_grad(true);
  v.set_requires_grad(true);
  for (auto _ : state) {
    Tensor out = core::attention(q, k, v);
    out.backward(dout);
    benchmark::DoNotOptimize(q.grad().f32());
    benchmark::DoNotOptimize(k.grad().f32());
    benchmark::DoNotOptimize(v.grad().f32());
    q.clear_grad();
    k.clear_grad();
    v.clear_grad();
  }
  report_flops(state, 3.5 * forward_flops(s));
}

void register_benchmarks() {
  for (const AttentionShape& s : kShapes) {
    for (bool backward : {false, true}) {
      const std::string name = "attention/" + std::string(s.name) + "/B" + std::to_string(s.batch) +
                               "_T" + std::to_string(s.seq) + "_H" + std::to_string(s.heads) +
                               "_Hkv" + std::to_string(s.kv_heads) + "_hd" +
                               std::to_string(s.head_dim) + "/" + (backward ? "fwd_bwd" : "fwd");
      register_case(name, bm_attention, s, backward);
    }
  }
}

}  // namespace

}  // namespace sy::bench

int main(int argc, char** argv) {
  sy::bench::register_benchmarks();
  return sy::bench::run_benchmarks(argc, argv);
}
