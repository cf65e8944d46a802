// Losses.
#pragma once

#include "core/tensor/tensor.h"

namespace sy::core {

// Mean cross-entropy of logits against integer targets, fused with the log-softmax:
// logits (N,V) float32, targets (N) int32 in [0,V), or negative to ignore a row -> () scalar,
// the mean over the rows not ignored (0 when all are). Only the N row log-sum-exps are kept for
// backward; probabilities are never materialised in the forward pass.
Tensor cross_entropy(const Tensor& logits, const Tensor& targets);

}  // namespace sy::core
