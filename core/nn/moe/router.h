// MoE routing: from router logits to the (token, slot) -> expert assignments, their weights, the
// capacity drops and the two router losses (model contract, "MoE FFN" and "Losses").
#pragma once

#include <cstdint>
#include <vector>

#include "core/tensor/rng.h"
#include "core/tensor/tensor.h"

namespace sy::core::nn {

enum class RouterKind { kSoftmax, kNoisyTopK };
enum class DropPolicy { kProbs, kPosition };

struct RouterOptions {
  int64_t num_experts = 8;     // E
  int64_t top_k = 2;           // K
  bool normalize_topk = true;  // renormalise the K weights to sum 1 (Mixtral)
  RouterKind kind = RouterKind::kSoftmax;
  float capacity_factor = 0.0f;  // <= 0: dropless
  DropPolicy drop_policy = DropPolicy::kProbs;
};

// What the router decided for N tokens.
struct Routing {
  Tensor probs;    // (N,E) p = softmax(h), h = z (+ noise when training a noisy router)
  Tensor weights;  // (N,K) w_k = p_k (renormalised when normalize_topk); differentiable
  std::vector<int32_t> expert;             // (N*K) the expert of (token n, slot s) at n*K+s
  std::vector<uint8_t> kept;               // (N*K) 0 where capacity dropped the assignment
  std::vector<int64_t> tokens_per_expert;  // (E) assignments before dropping
  int64_t dropped = 0;
  int64_t capacity = 0;  // slots per expert, 0 when dropless
  Tensor aux_loss;       // () E * sum_i f_i P_i
  Tensor z_loss;         // () mean over tokens of logsumexp(z)^2, on the clean logits
  float entropy = 0.0f;  // mean over tokens of -sum_i p_i log p_i (a statistic, no gradient)
};

// Expert capacity per micro-batch: ceil(capacity_factor * N * K / E), or 0 (dropless).
int64_t expert_capacity(const RouterOptions& options, int64_t num_tokens);

// logits z (N,E) from the gate; noise_logits (N,E) = W_noise x for the noisy router (else
// undefined); rng draws the noise when training. Fully differentiable through probs, weights,
// aux_loss and z_loss.
Routing route(const RouterOptions& options, const Tensor& logits, const Tensor& noise_logits,
              Rng* rng, bool training);

}  // namespace sy::core::nn
