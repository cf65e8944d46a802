// The basic layers: Linear (no bias), Embedding, RMSNorm, and the SwiGLU feed-forward block.
#pragma once

#include <string>

#include "core/nn/module.h"

namespace sy::core::nn {

// y = x W^T.   W (out,in); x (...,in) -> (...,out).  Parameter: "weight".
class Linear : public Module {
 public:
  Linear(int64_t in_features, int64_t out_features);
  Tensor forward(const Tensor& x) const;
  const Tensor& weight() const { return weight_; }

 private:
  Tensor weight_;
};

// y = W[ids].   W (V,D); ids (...) int32 -> (...,D).  Parameter: "weight".
class Embedding : public Module {
 public:
  Embedding(int64_t num_embeddings, int64_t dim);
  Tensor forward(const Tensor& ids) const;
  const Tensor& weight() const { return weight_; }

 private:
  Tensor weight_;
};

// y = x / sqrt(mean(x^2) + eps) * w.   w (D), initialised to ones; x (...,D).  Parameter: "weight".
class RMSNorm : public Module {
 public:
  RMSNorm(int64_t dim, float eps);
  Tensor forward(const Tensor& x) const;

 private:
  Tensor weight_;
  float eps_;
};

// SwiGLU: down( silu(gate x) * (up x) ).   gate, up (F,D); down (D,F); x (N,D) -> (N,D).
// The three linears' names differ between a dense MLP (gate_proj, up_proj, down_proj) and a
// Mixtral expert (w1, w3, w2).
class SwiGLU : public Module {
 public:
  struct Names {
    std::string gate, up, down;
  };
  static Names dense_names() { return {"gate_proj", "up_proj", "down_proj"}; }
  static Names expert_names() { return {"w1", "w3", "w2"}; }

  SwiGLU(int64_t dim, int64_t hidden, const Names& names);
  Tensor forward(const Tensor& x) const;
  const Linear& down() const { return down_; }

 private:
  Linear gate_, up_, down_;
};

}  // namespace sy::core::nn
