// The sparse MoE feed-forward block: route, permute tokens into contiguous per-expert groups,
// run only the chosen experts (uneven and empty groups are normal), weight, and scatter back.
//   y = sum over kept slots k of w_k * Expert_{e_k}(x)
#pragma once

#include <memory>
#include <vector>

#include "core/nn/layers.h"
#include "core/nn/moe/router.h"

namespace sy::core::nn {

// Per-layer routing statistics of one forward pass.
struct MoeStats {
  std::vector<int64_t> tokens_per_expert;  // (E) assignments before dropping
  int64_t assignments = 0;                 // N*K
  int64_t dropped = 0;
  float aux = 0.0f, z = 0.0f, entropy = 0.0f;
};

struct MoeOutput {
  Tensor y;         // (N,D)
  Tensor aux_loss;  // ()
  Tensor z_loss;    // ()
  MoeStats stats;
};

// Parameters: gate.weight (E,D), noise.weight (E,D) for the noisy router, and
// experts.{e}.w1/w3 (F,D), w2 (D,F).
class MoeLayer : public Module {
 public:
  MoeLayer(int64_t hidden, int64_t expert_hidden, const RouterOptions& options);
  // x (N,D) -> y (N,D); rng draws router noise when training a noisy router.
  MoeOutput forward(const Tensor& x, Rng* rng, bool training) const;
  const RouterOptions& options() const { return options_; }

 private:
  RouterOptions options_;
  Linear gate_;
  std::unique_ptr<Linear> noise_;
  ModuleList experts_list_;
  std::vector<SwiGLU*> experts_;
};

}  // namespace sy::core::nn
