// The sparse MoE feed-forward block: route, permute tokens into contiguous per-expert groups,
// run only the chosen experts (uneven and empty groups are normal), weight, and scatter back.
//   y = sum over kept slots k of w_k * Expert_{e_k}(x)
#pragma once

#include <memory>
#include <vector>

#include "core/nn/layers.h"
#include "core/nn/moe/expert_exchange.h"
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
// experts.{e}.w1/w3 (F,D), w2 (D,F) for the experts e of `shard` (all of them by default).
// Routing always covers all E experts; a sharded layer needs an ExpertExchange to reach the
// experts it does not hold.
class MoeLayer : public Module {
 public:
  MoeLayer(int64_t hidden, int64_t expert_hidden, const RouterOptions& options,
           const ExpertShard& shard = {});
  // x (N,D) -> y (N,D); rng draws router noise when training a noisy router.
  MoeOutput forward(const Tensor& x, Rng* rng, bool training) const;
  const RouterOptions& options() const { return options_; }
  const ExpertShard& shard() const { return shard_; }
  // Not owned; null runs every expert here (which needs a shard holding all of them).
  void set_exchange(ExpertExchange* exchange) { exchange_ = exchange; }

 private:
  // xs (M,D) grouped by the local experts, counts (E/P) -> their outputs (M,D), same order.
  Tensor run_local_experts(const Tensor& xs, const std::vector<int64_t>& counts) const;

  RouterOptions options_;
  ExpertShard shard_;
  Linear gate_;
  std::unique_ptr<Linear> noise_;
  ModuleList experts_list_;
  std::vector<SwiGLU*> experts_;
  ExpertExchange* exchange_ = nullptr;
};

}  // namespace sy::core::nn
