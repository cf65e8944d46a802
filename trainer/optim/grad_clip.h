// Global-norm gradient clipping.
#pragma once

#include <vector>

#include "core/nn/module.h"

namespace sy::trainer {

// The sum of squares of every parameter's gradient, in double (missing gradients count 0): the
// part of a squared global norm that these parameters contribute.
double grad_square_sum(const std::vector<core::nn::NamedParameter>& params);
// The L2 norm over every parameter's gradient: sqrt(grad_square_sum).
double global_grad_norm(const std::vector<core::nn::NamedParameter>& params);
// Scales every gradient by max_norm / (norm + 1e-6) when norm > max_norm (max_norm <= 0: never),
// `norm` being the global norm (which may cover parameters held by other ranks too).
void clip_grads_to_norm(const std::vector<core::nn::NamedParameter>& params, double norm,
                        double max_norm);
// Scales every gradient by max_norm / (norm + 1e-6) when norm > max_norm (max_norm <= 0: never).
// Returns the norm before clipping.
double clip_grad_norm(const std::vector<core::nn::NamedParameter>& params, double max_norm);

}  // namespace sy::trainer
