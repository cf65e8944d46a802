#include "core/nn/layers.h"

#include "core/ops/elementwise.h"
#include "core/ops/index_ops.h"
#include "core/ops/matmul.h"
#include "core/ops/norm.h"

namespace sy::core::nn {

// Parameters start at zero; the model's init() fills them from one seeded stream.
Linear::Linear(int64_t in_features, int64_t out_features)
    : weight_(register_parameter("weight", Tensor::zeros({out_features, in_features}))) {}

Tensor Linear::forward(const Tensor& x) const { return matmul(x, weight_, false, true); }

Embedding::Embedding(int64_t num_embeddings, int64_t dim)
    : weight_(register_parameter("weight", Tensor::zeros({num_embeddings, dim}))) {}

Tensor Embedding::forward(const Tensor& ids) const { return embedding(weight_, ids); }

RMSNorm::RMSNorm(int64_t dim, float eps)
    : weight_(register_parameter("weight", Tensor::full({dim}, 1.0f), /*weight_decay=*/false)),
      eps_(eps) {}

Tensor RMSNorm::forward(const Tensor& x) const { return rmsnorm(x, weight_, eps_); }

SwiGLU::SwiGLU(int64_t dim, int64_t hidden, const Names& names)
    : gate_(dim, hidden), up_(dim, hidden), down_(hidden, dim) {
  register_module(names.gate, &gate_);
  register_module(names.up, &up_);
  register_module(names.down, &down_);
}

Tensor SwiGLU::forward(const Tensor& x) const {
  return down_.forward(swiglu(gate_.forward(x), up_.forward(x)));
}

}  // namespace sy::core::nn
